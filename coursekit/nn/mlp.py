"""A small NumPy MLP classifier for 2-D points: the model behind the Playground widget.

The analogue of TensorFlow Playground's ``nn.ts``: a fully connected network built from
:mod:`coursekit.nn` pieces only (``functional.linear_*``, the activations registry
``functional.ACTIVATIONS``, ``functional.dropout_*``, :mod:`.losses`, :mod:`.init`, the
optimizers registry ``optim.OPTIMIZERS`` and :mod:`.schedules`), with L2, mini-batches and
divergence detection. Its state is a plain ``PlaygroundConfig`` plus the weights; it draws
nothing (``coursekit.viz.playground`` draws what it returns) and loads no data: pass
``X`` (n, 2) and ``y`` (n,) (``coursekit.viz.playground.playground_model`` makes them from
``config.dataset`` with ``coursekit.data.make_classification_2d``).

    model = PlaygroundModel(PlaygroundConfig(layers=(8, 8), lr=0.03), X, y)
    model.train(50)                      # epochs; False-y when it diverged
    model.history["test_accuracy"][-1], model.predict_proba(points)

Weights are ``params["W{i}"]`` (out, in) and ``params["b{i}"]`` (out,), torch's layout.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from coursekit.nn import functional as F
from coursekit.nn import init, losses, optim, schedules
from coursekit.nn.functional.activations import activation_gain, activation_names, get_activation
from coursekit.nn.optim import optimizer_names, resolve_optimizer

__all__ = ["ACTIVATIONS", "OPTIMIZERS", "SCHEDULES", "LOSSES", "PlaygroundConfig",
           "PlaygroundModel", "check_config", "divergence_message", "parse_layers",
           "parse_activations"]

#: Hidden-layer activations: the elementwise ones of ``coursekit.nn.functional.ACTIVATIONS``
#: and "linear" (none).
ACTIVATIONS = activation_names("elementwise", "identity")
#: Optimizers of ``coursekit.nn.optim.OPTIMIZERS`` that take a learning rate (the lr control).
OPTIMIZERS = optimizer_names("gradient", "adaptive")
LOSSES = ("cross_entropy", "mse")
#: Per-epoch learning-rate schedules (coursekit.nn.schedules), epoch 0 = the chosen lr.
SCHEDULES = ("constant", "step", "exponential", "inverse_time", "cosine_restarts")


def parse_layers(text) -> tuple:
    """Hidden-layer widths from ``"8, 8"`` (or a sequence of ints); ``""`` means no hidden layer."""
    if isinstance(text, str):
        parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
        try:
            widths = tuple(int(p) for p in parts)
        except ValueError:
            raise ValueError("layers must be widths separated by commas, like '8, 8'; "
                             f"got {text!r}") from None
    else:
        widths = tuple(int(w) for w in text)
    if any(w < 1 for w in widths):
        raise ValueError(f"every layer width must be >= 1, got {widths}")
    return widths


def parse_activations(text, n_layers: int) -> tuple:
    """One activation name for every hidden layer, or one name per layer (``"relu, tanh"``)."""
    if isinstance(text, str):
        names = [p.strip() for p in text.split(",") if p.strip()]
    else:
        names = list(text)
    if not names:
        names = ["tanh"]
    unknown = [n for n in names if n not in ACTIVATIONS]
    if unknown:
        raise ValueError(f"unknown activation {unknown[0]!r}; choose from {', '.join(ACTIVATIONS)}")
    if len(names) == 1:
        return tuple(names * n_layers)
    if len(names) != n_layers:
        raise ValueError(f"give one activation for all layers or one per layer ({n_layers}), "
                         f"got {len(names)}: {names}")
    return tuple(names)


def check_config(c: "PlaygroundConfig") -> "PlaygroundConfig":
    """Validate a config (in place: the optimizer gets its canonical name, layers become a tuple)
    and return it; a ValueError names the setting, what is allowed and the fix."""
    c.optimizer = resolve_optimizer(c.optimizer, allowed=OPTIMIZERS)  # "GD" -> "SGD"
    for name, value, allowed in (("loss", c.loss, LOSSES), ("schedule", c.schedule, SCHEDULES)):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    if not c.lr > 0:
        raise ValueError(f"lr must be > 0, got {c.lr}")
    if not 0 <= c.dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {c.dropout}")
    if c.l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {c.l2}")
    if int(c.batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {c.batch_size}")
    if not 0 <= c.test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {c.test_fraction}")
    c.layers = parse_layers(c.layers)
    parse_activations(c.activations, len(c.layers))
    return c


@dataclass
class PlaygroundConfig:
    """Everything that defines a Playground run (plain, serializable)."""

    dataset: str = "spirals"
    n_samples: int = 300
    noise: float = 0.05
    test_fraction: float = 0.3
    seed: int = 0
    layers: tuple = (16, 16)
    activations: tuple = ("tanh",)
    loss: str = "cross_entropy"
    optimizer: str = "Adam"
    lr: float = 0.03
    schedule: str = "constant"
    l2: float = 0.0
    dropout: float = 0.0
    batch_size: int = 32
    n_classes: int | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


class PlaygroundModel:
    """An MLP trained on 2-D points with ``coursekit.nn``.

    X, y: the points, X (n, 2) float and y (n,) integer classes (split into train and
    test by ``config.test_fraction`` and ``config.seed``); ``overrides`` replace fields
    of ``config``. ``history`` holds per-epoch lists: epoch, lr, train_loss, test_loss,
    train_accuracy, test_accuracy. ``diverged`` is True once the loss became
    NaN/inf or exploded, and ``message`` explains why.
    """

    def __init__(self, config: PlaygroundConfig | None = None, X=None, y=None, **overrides):
        config = replace(config or PlaygroundConfig(), **overrides)
        self.config = config
        check_config(config)
        if X is None or y is None:
            raise TypeError("PlaygroundModel needs the data: PlaygroundModel(config, X, y) with X "
                            "(n_samples, 2) and y (n_samples,); coursekit.viz.playground."
                            "playground_model(config) makes them from config.dataset")
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        if X.ndim != 2 or X.shape[1] != 2:
            raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}")
        if y.shape != (len(X),) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise ValueError(f"y must be non-negative integer class labels of shape ({len(X)},), "
                             f"got shape {y.shape} dtype {y.dtype}")
        n_seen = int(y.max()) + 1
        wanted = n_seen if config.n_classes is None else max(config.n_classes, n_seen)
        self.n_classes = max(wanted, 2)
        rng = np.random.default_rng(config.seed)
        order = rng.permutation(len(X))
        n_test = int(round(config.test_fraction * len(X)))
        self.X_test, self.y_test = X[order[:n_test]], y[order[:n_test]]
        self.X_train, self.y_train = X[order[n_test:]], y[order[n_test:]]
        if len(self.X_train) == 0:
            raise ValueError("test_fraction leaves no training points; lower it")
        self.widths = tuple(config.layers)
        self.activation_names = parse_activations(config.activations, len(self.widths))
        self._rng = np.random.default_rng(config.seed + 1)
        self.params = self._init_params()
        self.optimizer = self._make_optimizer()
        self.schedule = self._make_schedule()
        self.epoch = 0
        self.diverged = False
        self.message = ""
        self.history = {k: [] for k in ("epoch", "lr", "train_loss", "test_loss", "train_accuracy",
                                        "test_accuracy")}
        self._record(lr=config.lr)

    # ------------------------------------------------------------ set-up
    def _init_params(self):
        params = {}
        sizes = (2, *self.widths, self.n_classes)
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            act = self.activation_names[i] if i < len(self.widths) else "linear"
            gain = activation_gain(act)
            params[f"W{i}"] = init.xavier_normal((fan_out, fan_in), gain=gain, rng=self._rng)
            params[f"b{i}"] = np.zeros(fan_out)
        return params

    def _make_optimizer(self):
        # The registry's defaults: momentum 0.9, RMSprop's decay alpha = 0.99 (torch's).
        return optim.make_optimizer(self.config.optimizer, self.params, lr=self.config.lr)

    def _make_schedule(self):
        lr = self.config.lr
        return {
            "constant": lambda epoch: lr,
            "step": schedules.StepDecay(lr, step_size=50, gamma=0.5),
            "exponential": schedules.ExponentialDecay(lr, decay_rate=0.98),
            "inverse_time": schedules.InverseTimeDecay(lr, decay_rate=0.05),
            "cosine_restarts": schedules.CosineWarmRestarts(lr, first_cycle=50),
        }[self.config.schedule]

    # ------------------------------------------------------------ forward / backward
    def _forward(self, X, train=False):
        """``(scores, caches, hidden)``: one ``(linear, activation, dropout)`` cache per layer
        (the output layer has no activation or dropout) and every hidden layer's output."""
        caches, hidden = [], []
        h = X
        for i, name in enumerate(self.activation_names):
            z, linear_cache = F.linear_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])
            h, act_cache = get_activation(name).forward(z)
            hidden.append(h)
            drop_cache = None
            if train and self.config.dropout > 0:
                h, drop_cache = F.dropout_forward(h, self.config.dropout, train=True, rng=self._rng)
            caches.append((linear_cache, act_cache, drop_cache))
        last = len(self.activation_names)
        scores, linear_cache = F.linear_forward(h, self.params[f"W{last}"], self.params[f"b{last}"])
        caches.append((linear_cache, None, None))
        return scores, caches, hidden

    def _data_loss(self, scores, y):
        if self.config.loss == "cross_entropy":
            return losses.softmax_cross_entropy(scores, y)
        return losses.mse_loss(scores, np.eye(self.n_classes)[y])

    def _gradients(self, X, y):
        scores, caches, _ = self._forward(X, train=True)
        loss, dout = self._data_loss(scores, y)
        grads = {}
        for i in reversed(range(len(caches))):
            linear_cache, act_cache, drop_cache = caches[i]
            if i < len(self.widths):
                dout = F.dropout_backward(dout, drop_cache)
                dout = get_activation(self.activation_names[i]).backward(dout, act_cache)
            dout, dW, db = F.linear_backward(dout, linear_cache)
            grads[f"W{i}"] = dW + self.config.l2 * self.params[f"W{i}"]  # L2 on weights, not biases
            grads[f"b{i}"] = db
        return loss, grads

    # ------------------------------------------------------------ public API
    def predict_scores(self, X) -> np.ndarray:
        """Network outputs (n, n_classes) in evaluation mode (no dropout)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self._forward(np.asarray(X, dtype=float))[0]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n, n_classes): softmax of the outputs for cross-entropy; for
        MSE the outputs (which regress one-hot targets) clipped to [0, 1] and renormalized."""
        scores = self.predict_scores(X)
        if not np.all(np.isfinite(scores)):
            return np.full(scores.shape, 1.0 / self.n_classes)
        if self.config.loss == "cross_entropy":
            return losses.softmax(scores)
        clipped = np.clip(scores, 1e-6, 1.0)
        return clipped / clipped.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        return self.predict_scores(X).argmax(axis=1)

    def hidden_activations(self, X) -> list:
        """Output of every hidden layer on X: list of (n, width) arrays (eval mode)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self._forward(np.asarray(X, dtype=float))[2]

    def evaluate(self, X, y) -> tuple[float, float]:
        """(data loss + L2 penalty, accuracy) on (X, y), without dropout."""
        if len(X) == 0:
            return float("nan"), float("nan")
        with np.errstate(over="ignore", invalid="ignore"):
            scores = self._forward(X)[0]
            if not np.all(np.isfinite(scores)):
                return float("nan"), float("nan")
            loss, _ = self._data_loss(scores, y)
            penalty = 0.5 * self.config.l2 * sum(float(np.sum(self.params[k] ** 2))
                                                 for k in self.params if k[0] == "W")
        return loss + penalty, float(np.mean(scores.argmax(axis=1) == y))

    def confusion_matrix(self, split: str = "test") -> np.ndarray:
        """counts[true, predicted], shape (n_classes, n_classes)."""
        X, y = (self.X_test, self.y_test) if split == "test" else (self.X_train, self.y_train)
        counts = np.zeros((self.n_classes, self.n_classes), dtype=int)
        if len(X):
            np.add.at(counts, (y, self.predict(X)), 1)
        return counts

    def _record(self, lr):
        train_loss, train_acc = self.evaluate(self.X_train, self.y_train)
        test_loss, test_acc = self.evaluate(self.X_test, self.y_test)
        for key, value in (("epoch", self.epoch), ("lr", lr), ("train_loss", train_loss),
                           ("test_loss", test_loss), ("train_accuracy", train_acc),
                           ("test_accuracy", test_acc)):
            self.history[key].append(value)

    def train_epoch(self) -> bool:
        """One pass over the training set in mini-batches. Returns False (and sets
        ``diverged`` and ``message``) when the loss became non-finite or exploded."""
        if self.diverged:
            return False
        lr = float(self.schedule(self.epoch))
        self.optimizer.lr = lr
        n = len(self.X_train)
        batch = min(int(self.config.batch_size), n)
        order = self._rng.permutation(n)
        first_loss = self.history["train_loss"][0]
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, n, batch):
                index = order[start:start + batch]
                loss, grads = self._gradients(self.X_train[index], self.y_train[index])
                bad_grads = not all(np.all(np.isfinite(g)) for g in grads.values())
                if not math.isfinite(loss) or bad_grads:
                    self._diverge(loss, lr)
                    return False
                self.optimizer.step(grads)
        self.epoch += 1
        self._record(lr)
        current = self.history["train_loss"][-1]
        # "Exploded": NaN, or 10× worse than the untrained network (training never gets there).
        exploded = math.isfinite(first_loss) and current > 10 * max(first_loss, 0.1)
        if not math.isfinite(current) or exploded:
            self._diverge(current, lr)
            return False
        return True

    def train(self, epochs: int, stop=None, callback=None) -> int:
        """Up to ``epochs`` epochs; ``stop.is_set()`` (a ``threading.Event``) ends early;
        ``callback(model)`` runs after each epoch. Returns the number of epochs run."""
        done = 0
        for _ in range(int(epochs)):
            if stop is not None and stop.is_set():
                break
            if not self.train_epoch():
                break
            done += 1
            if callback is not None:
                callback(self)
        return done

    def _diverge(self, loss, lr):
        self.diverged = True
        self.message = divergence_message(loss, lr, self.config, self.epoch)


def divergence_message(loss, lr, config: PlaygroundConfig, epoch: int) -> str:
    """Explain why training blew up, with what to change."""
    what = "NaN" if (isinstance(loss, float) and math.isnan(loss)) else (
        "infinite" if not math.isfinite(loss) else f"{loss:.3g}, over 10 times the starting loss")
    reasons = []
    if config.optimizer in ("SGD", "momentum", "Nesterov"):
        reasons.append(
            f"the learning rate {lr:g} is too large for {config.optimizer}: each step is "
            "lr × gradient, it overshoots the minimum, lands where the gradient is larger, and "
            f"the weights grow without bound. Try lr ≤ {lr / 10:g}")
        if config.optimizer != "SGD":
            reasons.append("momentum (0.9) makes the effective step about 10× larger than lr")
    else:
        reasons.append(
            f"the learning rate {lr:g} is too large for {config.optimizer}: it moves every weight "
            "by about lr per step whatever the gradient, so the outputs jump far past the "
            f"minimum. Try lr ≤ {lr / 10:g}")
    if config.loss == "mse":
        reasons.append("with MSE the outputs are unbounded, so a bad step makes the loss grow "
                       "quadratically")
    if "relu" in config.activations or "elu" in config.activations:
        reasons.append("ReLU-type units are unbounded above, so activations can grow layer after "
                       "layer")
    return (f"Training diverged at epoch {epoch}: the loss became {what}. Likely cause: "
            + "; ".join(reasons) + ". Press reset after changing the settings.")
