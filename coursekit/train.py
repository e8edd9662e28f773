"""A short PyTorch training loop: ``fit(...) -> History``.

One loop for every chapter, so notebooks show the model and the experiment,
not the bookkeeping::

    history = fit(model, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()),
                  (X_train, y_train), val_data=(X_test, y_test), epochs=20,
                  metrics={"accuracy": accuracy},
                  callbacks=[EarlyStopping(patience=3)])
    history.plot()

Data is a ``(X, y)`` pair of arrays or tensors (batched and shuffled here)
or any iterable of ``(x, y)`` batches such as a ``DataLoader``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of correct predictions: argmax of (N, K) scores, or (N,) logits > 0."""
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        predicted = outputs.argmax(dim=1)
    else:
        predicted = (outputs.reshape(-1) > 0).long()
        targets = targets.reshape(-1)
    return (predicted == targets.long()).float().mean().item()


@dataclass
class History:
    """Per-epoch records of a ``fit`` run.

    ``history["loss"]`` is the list of mean training losses per epoch; with
    validation data ``history["val_loss"]``; one entry per metric (and
    ``val_<metric>``). ``stopped_early`` tells whether a callback or the stop
    flag ended training before ``epochs``; ``snapshots`` holds weight
    vectors recorded by ``WeightSnapshots``.
    """

    records: dict = field(default_factory=dict)
    epochs: list = field(default_factory=list)
    stopped_early: bool = False
    stop_reason: str = ""
    snapshots: list = field(default_factory=list)

    def __getitem__(self, key):
        return self.records[key]

    def __contains__(self, key):
        return key in self.records

    def keys(self):
        return self.records.keys()

    def append(self, epoch: int, values: dict) -> None:
        self.epochs.append(epoch)
        for key, value in values.items():
            self.records.setdefault(key, []).append(float(value))

    def best(self, key: str = "val_loss", mode: str = "min"):
        """``(epoch, value)`` of the best entry of ``key``."""
        values = np.asarray(self.records[key])
        index = int(values.argmin() if mode == "min" else values.argmax())
        return self.epochs[index], float(values[index])

    def plot(self, ax=None, keys=None, title: str = "Training history"):
        """Draw the recorded curves against the epoch on ``ax``."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.2))
        for key in keys or [k for k in self.records if k.endswith("loss")]:
            ax.plot(self.epochs, self.records[key], marker="o", markersize=3, label=key)
        ax.set_xlabel("epoch")
        ax.set_ylabel("value")
        ax.set_title(title)
        ax.legend()
        return ax


class Callback:
    """Called after every epoch; return True from ``on_epoch_end`` to stop."""

    def on_train_begin(self, model, history) -> None:
        pass

    def on_epoch_end(self, epoch: int, model, history) -> bool:
        return False

    def on_train_end(self, model, history) -> None:
        pass


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best`` the model gets the weights of its best epoch back
    at the end of training.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "min", restore_best: bool = True):
        if patience < 1:
            raise ValueError(f"patience must be >= 1, got {patience}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.mode, self.restore_best = mode, restore_best

    def on_train_begin(self, model, history):
        self.best_value = math.inf if self.mode == "min" else -math.inf
        self.best_epoch, self.best_state, self.wait = None, None, 0

    def on_epoch_end(self, epoch, model, history):
        if self.monitor not in history:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, but the history has "
                             f"only {sorted(history.keys())}; pass val_data or change monitor")
        value = history[self.monitor][-1]
        improved = (value < self.best_value - self.min_delta if self.mode == "min"
                    else value > self.best_value + self.min_delta)
        if improved:
            self.best_value, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_state = copy.deepcopy(model.state_dict())
            return False
        self.wait += 1
        if self.wait >= self.patience:
            history.stop_reason = (f"early stopping: {self.monitor} did not improve for "
                                   f"{self.patience} epochs (best {self.best_value:.4g} "
                                   f"at epoch {self.best_epoch})")
            return True
        return False

    def on_train_end(self, model, history):
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)


class WeightSnapshots(Callback):
    """Record the flattened weights every ``every`` epochs (and before training)
    into ``history.snapshots``, e.g. for a loss-landscape trajectory."""

    def __init__(self, every: int = 1):
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.every = every

    @staticmethod
    def flat(model) -> np.ndarray:
        """The parameters as one flat vector (``model.parameters()`` order, row-major)."""
        return torch.nn.utils.parameters_to_vector(model.parameters()).detach().cpu().numpy()

    def on_train_begin(self, model, history):
        history.snapshots.append(self.flat(model))

    def on_epoch_end(self, epoch, model, history):
        if epoch % self.every == 0:
            history.snapshots.append(self.flat(model))
        return False


def _as_tensor(a, name):
    if isinstance(a, torch.Tensor):
        return a
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return torch.as_tensor(a, dtype=torch.float32)
    if a.dtype.kind in "iub":
        return torch.as_tensor(a, dtype=torch.long)
    raise TypeError(f"{name} must be numeric, got dtype {a.dtype}")


def _is_pair(data):
    return isinstance(data, (tuple, list)) and len(data) == 2 and not isinstance(data[0], tuple)


def _batches(data, batch_size, shuffle, generator, name):
    """Yield (x, y) batches from a (X, y) pair or pass through an iterable of batches."""
    if _is_pair(data):
        X, y = _as_tensor(data[0], f"{name}[0]"), _as_tensor(data[1], f"{name}[1]")
        if len(X) != len(y):
            raise ValueError(f"{name}: X has {len(X)} rows but y has {len(y)}; they must match")
        order = (torch.randperm(len(X), generator=generator) if shuffle
                 else torch.arange(len(X)))
        for start in range(0, len(X), batch_size):
            index = order[start:start + batch_size]
            yield X[index], y[index]
    else:
        yield from _check_batches(data, name)


def _check_batches(data, name):
    """``data`` if it is a re-iterable collection of (x, y) batches; else a TypeError naming it.

    A hand-written loop over in-memory tensors, not a DataLoader: for the course's small
    data sets it is several times faster, and (X, y) pairs are the common case.
    """
    if isinstance(data, (np.ndarray, torch.Tensor)):
        raise TypeError(
            f"{name} must be a pair (X, y) or a re-iterable of (x, y) batches (a list, a "
            f"DataLoader); got a bare {type(data).__name__} of shape {tuple(data.shape)}: "
            f"e.g. fit(model, loss_fn, optimizer, (X, y))")
    try:
        iterator = iter(data)
    except TypeError:
        raise TypeError(f"{name} must be a pair (X, y) or a re-iterable of (x, y) batches, got "
                        f"{type(data).__name__}") from None
    if iterator is data:
        raise TypeError(
            f"{name} is a one-shot iterator ({type(data).__name__}): it would be used up after "
            f"one pass (the first epoch, or the first evaluation); pass a list of (x, y) "
            f"batches, e.g. list({name}), a DataLoader, or the pair (X, y)")
    return iterator


def evaluate(model, loss_fn, data, metrics=None, batch_size: int = 512) -> dict:
    """Mean loss and metrics of ``model`` on ``data`` (no gradients, eval mode)."""
    was_training = model.training
    model.eval()
    totals, count = {}, 0
    with torch.no_grad():
        for xb, yb in _batches(data, batch_size, False, None, "data"):
            out = model(xb)
            n = len(xb)
            totals["loss"] = totals.get("loss", 0.0) + loss_fn(out, yb).item() * n
            for name, fn in (metrics or {}).items():
                totals[name] = totals.get(name, 0.0) + fn(out, yb) * n
            count += n
    model.train(was_training)
    if count == 0:
        raise ValueError("data is empty: nothing to evaluate")
    return {k: v / count for k, v in totals.items()}


def fit(model, loss_fn, optimizer, train_data, val_data=None, epochs: int = 10,
        batch_size: int = 64, metrics=None, callbacks=(), scheduler=None,
        progress: bool = True, seed: int | None = 0, stop=None,
        clip_grad_norm: float | None = None) -> History:
    """Train ``model`` for ``epochs`` epochs and return the per-epoch ``History``.

    - ``train_data`` / ``val_data``: ``(X, y)`` (arrays or tensors; float X,
      integer y for classification) or a re-iterable of ``(x, y)`` batches (a
      list, a DataLoader; not a generator, which one epoch would use up).
    - ``metrics``: ``{"name": fn(outputs, targets) -> float}``, e.g.
      ``{"accuracy": accuracy}``; computed on training (in eval mode after
      the epoch) and validation data.
    - ``scheduler``: a ``torch.optim.lr_scheduler`` stepped once per epoch.
    - ``stop``: a ``threading.Event`` (anything with ``is_set()``), e.g. a widget's Stop button
      sets it; checked every batch.
    - ``seed``: seeds the shuffling so runs repeat exactly (None: unseeded).
    A non-finite training loss stops training with ``history.stop_reason``
    saying so (usually the learning rate is too large).
    """
    for name, data in (("train_data", train_data), ("val_data", val_data)):
        if data is not None and not _is_pair(data):
            _check_batches(data, name)  # fail now, not inside torch or after one epoch
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    metrics = dict(metrics or {})
    generator = torch.Generator()
    if seed is not None:
        generator.manual_seed(seed)
    history = History()
    for callback in callbacks:
        callback.on_train_begin(model, history)
    bar = tqdm(range(1, epochs + 1), desc="epochs", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        total, count = 0.0, 0
        for xb, yb in _batches(train_data, batch_size, True, generator, "train_data"):
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            if clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()
            total += loss.item() * len(xb)
            count += len(xb)
            if stop is not None and stop.is_set():
                break
        if count == 0:
            raise ValueError("train_data is empty: no batches to train on")
        values = {"loss": total / count}
        if metrics:
            train_eval = evaluate(model, loss_fn, train_data, metrics)
            values.update({k: v for k, v in train_eval.items() if k != "loss"})
        if val_data is not None:
            values.update({f"val_{k}": v
                           for k, v in evaluate(model, loss_fn, val_data, metrics).items()})
        history.append(epoch, values)
        if scheduler is not None:
            scheduler.step()
        bar.set_postfix({k: f"{v:.4g}" for k, v in values.items()})
        if not math.isfinite(values["loss"]):
            history.stopped_early = True
            history.stop_reason = (f"training loss became {values['loss']} at epoch {epoch}: "
                                   "the updates diverged; try a smaller learning rate")
            break
        if stop is not None and stop.is_set():
            history.stopped_early, history.stop_reason = True, "stopped by the stop flag"
            break
        if any([callback.on_epoch_end(epoch, model, history) for callback in callbacks]):
            history.stopped_early = True
            break
    bar.close()
    for callback in callbacks:
        callback.on_train_end(model, history)
    return history
