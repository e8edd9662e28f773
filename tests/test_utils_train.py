import threading

import numpy as np
import pytest
import torch
from torch import nn

from coursekit.train import EarlyStopping, WeightSnapshots, accuracy, evaluate, fit
from coursekit.utils import count_parameters, seed_everything, use_single_thread


def test_seed_everything_reproduces_numpy_python_and_torch():
    import random

    rng = seed_everything(7)
    a = (random.random(), np.random.rand(), torch.rand(1).item(), rng.normal())
    rng = seed_everything(7)
    b = (random.random(), np.random.rand(), torch.rand(1).item(), rng.normal())
    assert a == b
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        seed_everything(-1)


def test_use_single_thread_limits_torch_and_blas():
    from threadpoolctl import threadpool_info

    import coursekit.utils as utils

    before, previous_limits = torch.get_num_threads(), utils._blas_limits
    try:
        use_single_thread()
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info()
                   if pool["user_api"] == "blas")
    finally:  # undo both limits, so later tests run as they would alone
        torch.set_num_threads(before)
        if utils._blas_limits is not previous_limits:
            utils._blas_limits.restore_original_limits()
            utils._blas_limits = previous_limits


def _blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 2)).astype(np.float32) + 3 * y[:, None]
    return X, y


def test_fit_records_history_and_learns():
    seed_everything(0)
    X, y = _blobs()
    model = nn.Linear(2, 2)
    history = fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.5),
                  (X, y), val_data=(X[:50], y[:50]), epochs=8, metrics={"accuracy": accuracy},
                  progress=False)
    assert history.epochs == list(range(1, 9))
    assert set(history.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history["loss"][-1] < history["loss"][0]
    assert history["accuracy"][-1] > 0.93
    again = evaluate(model, nn.CrossEntropyLoss(), (X[:50], y[:50]), {"accuracy": accuracy})
    assert again["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-6)


def test_fit_is_reproducible_with_a_seed():
    X, y = _blobs()
    losses = []
    for _ in range(2):
        seed_everything(1)
        model = nn.Linear(2, 2)
        h = fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                (X, y), epochs=3, progress=False, seed=5)
        losses.append(h["loss"])
    assert losses[0] == losses[1]


def test_early_stopping_stops_and_restores_best_weights():
    seed_everything(0)
    X, y = _blobs()
    model = nn.Linear(2, 2)
    # a huge learning rate makes the validation loss get worse after the first epochs
    stopper = EarlyStopping(patience=2)
    history = fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=50.0),
                  (X, y), val_data=(X, y), epochs=40, callbacks=[stopper], progress=False)
    assert history.stopped_early and len(history.epochs) < 40
    assert "did not improve for 2 epochs" in history.stop_reason
    best_epoch, best = history.best("val_loss")
    assert best_epoch == stopper.best_epoch
    restored = evaluate(model, nn.CrossEntropyLoss(), (X, y))["loss"]
    assert restored == pytest.approx(best, rel=1e-6)


def test_early_stopping_needs_the_monitored_key():
    X, y = _blobs()
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="pass val_data"):
        fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
            (X, y), epochs=2, callbacks=[EarlyStopping()], progress=False)


def test_snapshots_stop_flag_and_divergence():
    X, y = _blobs()
    model = nn.Linear(2, 2)
    snaps = WeightSnapshots()
    h = fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (X, y),
            epochs=3, callbacks=[snaps], progress=False)
    assert len(h.snapshots) == 4 and h.snapshots[0].shape == (count_parameters(model),)
    assert not np.allclose(h.snapshots[0], h.snapshots[-1])

    flag = threading.Event()
    flag.set()
    h = fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (X, y),
            epochs=10, stop=flag, progress=False)
    assert h.epochs == [1] and h.stop_reason == "stopped by the stop flag"

    model = nn.Linear(2, 1)
    Xr = X * 1e3
    h = fit(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=10.0),
            (Xr, Xr[:, :1]), epochs=20, progress=False)
    assert h.stopped_early and "smaller learning rate" in h.stop_reason


def test_fit_rejects_mismatched_data():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="X has 10 rows but y has 9"):
        fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
            (np.zeros((10, 2), np.float32), np.zeros(9, int)), epochs=1, progress=False)


def test_accuracy_binary_and_multiclass():
    assert accuracy(torch.tensor([[2.0, 1.0], [0.0, 3.0]]), torch.tensor([0, 0])) == 0.5
    assert accuracy(torch.tensor([1.5, -2.0, 0.3]), torch.tensor([1.0, 0.0, 0.0])) == pytest.approx(2 / 3)
