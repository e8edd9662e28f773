"""fit and the Playground reject wrong inputs with our message, not torch's or ipywidgets'."""

import numpy as np
import pytest
import torch
from torch import nn

from coursekit.train import fit

X = np.random.default_rng(0).standard_normal((16, 2)).astype(np.float32)
y = (X[:, 0] > 0).astype(np.int64)


def _fit(data, **kwargs):
    model = nn.Linear(2, 2)
    return fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), data,
               progress=False, **kwargs)


def test_fit_rejects_a_bare_array():
    with pytest.raises(TypeError, match=r"train_data must be a pair \(X, y\) .*got a bare ndarray of shape \(16, 2\)"):
        _fit(X)


def test_fit_rejects_a_one_shot_generator():
    batches = ((torch.as_tensor(X[i:i + 4]), torch.as_tensor(y[i:i + 4])) for i in range(0, 16, 4))
    with pytest.raises(TypeError, match=r"train_data is a one-shot iterator \(generator\).*list\(train_data\)"):
        _fit(batches, epochs=2)


def test_fit_accepts_a_list_of_batches_for_several_epochs():
    batches = [(torch.as_tensor(X[i:i + 4]), torch.as_tensor(y[i:i + 4])) for i in range(0, 16, 4)]
    assert len(_fit(batches, epochs=2)["loss"]) == 2


def test_fit_rejects_a_generator_as_val_data():
    with pytest.raises(TypeError, match="val_data is a one-shot iterator"):
        _fit((X, y), val_data=iter([(torch.as_tensor(X), torch.as_tensor(y))]))


def test_playground_unknown_optimizer_gets_our_message_first():
    from coursekit.widgets import Playground

    with pytest.raises(ValueError, match=r"optimizer must be one of .*got 'adam'; did you mean 'Adam'"):
        Playground(optimizer="adam")
