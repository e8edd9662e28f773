"""Optimisers with torch.optim's update rules, over a dict of NumPy arrays.

Usage (any dict of float arrays -- a network's weights or a 2-D point)::

    params = {"w": np.array([1.5, -0.5])}
    opt = Adam(params, lr=0.1)
    for t in range(100):
        grads = {"w": grad_of_loss(params["w"])}
        opt.step(grads)          # updates params["w"] IN PLACE

``step(grads)``: ``grads`` maps parameter names to gradient arrays of the same
shapes. Each listed parameter is updated in place (so layers or plots holding a
reference to the array see the new values); a parameter missing from ``grads``
is skipped, like a torch parameter whose ``.grad`` is None. Per-parameter state
(momentum, running averages) lives in ``opt.state[name]``; ``opt.lr`` may be
changed between steps, e.g. ``opt.lr = schedule(t)`` with a schedule from
:mod:`coursekit.nn.schedules`.

The names the course uses for them ("SGD", "momentum", "Adam", ...) are in one
registry, :data:`OPTIMIZERS` (name -> factory); build one with
``make_optimizer(name, params, lr)``.
"""

from typing import Callable, NamedTuple

import numpy as np


class Optimizer:
    """Base class: holds ``params`` (dict name -> float array), ``lr`` and ``state``."""

    def __init__(self, params, lr):
        if not isinstance(params, dict) or not params:
            raise TypeError(
                f"params must be a non-empty dict name -> numpy array, got {type(params).__name__}"
            )
        for name, p in params.items():
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise TypeError(
                    f"params[{name!r}] must be a float numpy array (updated in place), "
                    f"got {type(p).__name__} {getattr(p, 'dtype', '')}; "
                    f"use np.array(..., dtype=float)"
                )
        if lr < 0:
            raise ValueError(f"lr must be non-negative, got {lr!r}")
        self.params = params
        self.lr = lr
        self.state = {name: {} for name in params}
        self.step_count = 0

    def step(self, grads):
        """Apply one update to every parameter named in ``grads`` (in place)."""
        if not isinstance(grads, dict):
            raise TypeError(f"grads must be a dict name -> array, got {type(grads).__name__}")
        self.step_count += 1
        for name, g in grads.items():
            if name not in self.params:
                raise ValueError(
                    f"grads has key {name!r} that is not a parameter; "
                    f"parameters are {sorted(self.params)}"
                )
            if g is None:
                continue
            p = self.params[name]
            g = np.asarray(g, dtype=p.dtype)
            if g.shape != p.shape:
                raise ValueError(
                    f"grads[{name!r}] must have the parameter's shape {p.shape}, got {g.shape}"
                )
            self._update(p, g, self.state[name])

    def _update(self, p, g, state):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay.

    ``g += weight_decay * p``; with momentum ``v = momentum * v + (1 - dampening) * g``
    (``v = g`` on the first step); the step uses ``v``, or ``g + momentum * v`` for
    Nesterov; ``p -= lr * step``.
    """

    def __init__(self, params, lr=0.01, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0):
        super().__init__(params, lr)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0")
        self.momentum, self.dampening = momentum, dampening
        self.nesterov, self.weight_decay = nesterov, weight_decay

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            if "velocity" not in state:
                state["velocity"] = g.copy()
            else:
                v = state["velocity"]
                v *= self.momentum
                v += (1.0 - self.dampening) * g
            v = state["velocity"]
            g = g + self.momentum * v if self.nesterov else v
        p -= self.lr * g


class AdaGrad(Optimizer):
    """AdaGrad: divide by the root of the sum of all past squared gradients.

    Frequently updated coordinates get smaller steps; the sum only grows, so the
    effective rate decays to zero (what RMSprop/AdaDelta fix).
    """

    def __init__(self, params, lr=0.01, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(params, lr)
        self.lr_decay, self.weight_decay = lr_decay, weight_decay
        self.initial_accumulator_value, self.eps = initial_accumulator_value, eps

    def _update(self, p, g, state):
        if "sum" not in state:
            state["sum"] = np.full_like(p, self.initial_accumulator_value)
            state["step"] = 0
        state["step"] += 1
        if self.weight_decay:
            g = g + self.weight_decay * p
        clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        state["sum"] += g * g
        p -= clr * g / (np.sqrt(state["sum"]) + self.eps)


class RMSprop(Optimizer):
    """RMSprop: divide by the root of an exponential moving average of squared gradients.

    ``s = alpha * s + (1 - alpha) * g**2``; ``p -= lr * g / (sqrt(s) + eps)``.
    ``centered`` subtracts the squared mean gradient; ``momentum`` adds a velocity.
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0,
                 momentum=0.0, centered=False):
        super().__init__(params, lr)
        self.alpha, self.eps, self.weight_decay = alpha, eps, weight_decay
        self.momentum, self.centered = momentum, centered

    def _update(self, p, g, state):
        if "square_avg" not in state:
            state["square_avg"] = np.zeros_like(p)
            if self.centered:
                state["grad_avg"] = np.zeros_like(p)
            if self.momentum:
                state["velocity"] = np.zeros_like(p)
        if self.weight_decay:
            g = g + self.weight_decay * p
        sq = state["square_avg"]
        sq *= self.alpha
        sq += (1 - self.alpha) * g * g
        if self.centered:
            ga = state["grad_avg"]
            ga *= self.alpha
            ga += (1 - self.alpha) * g
            denom = np.sqrt(sq - ga * ga) + self.eps
        else:
            denom = np.sqrt(sq) + self.eps
        if self.momentum:
            v = state["velocity"]
            v *= self.momentum
            v += g / denom
            p -= self.lr * v
        else:
            p -= self.lr * g / denom


class AdaDelta(Optimizer):
    """AdaDelta: RMSprop whose step size is itself a running RMS of past updates,
    so the units of the update match the parameter's (``lr`` = 1 by default).

    ``s = rho s + (1-rho) g**2``; ``dx = sqrt(u + eps) / sqrt(s + eps) * g``;
    ``u = rho u + (1-rho) dx**2``; ``p -= lr * dx``.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        super().__init__(params, lr)
        self.rho, self.eps, self.weight_decay = rho, eps, weight_decay

    def _update(self, p, g, state):
        if "square_avg" not in state:
            state["square_avg"] = np.zeros_like(p)
            state["acc_delta"] = np.zeros_like(p)
        if self.weight_decay:
            g = g + self.weight_decay * p
        sq, acc = state["square_avg"], state["acc_delta"]
        sq *= self.rho
        sq += (1 - self.rho) * g * g
        delta = np.sqrt(acc + self.eps) / np.sqrt(sq + self.eps) * g
        acc *= self.rho
        acc += (1 - self.rho) * delta * delta
        p -= self.lr * delta


class Adam(Optimizer):
    """Adam: momentum (first moment ``m``) + RMSprop (second moment ``v``), both
    bias-corrected because they start at zero.

    ``m = b1 m + (1-b1) g``; ``v = b2 v + (1-b2) g**2``;
    ``p -= lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)``.
    ``weight_decay`` is added to the gradient (L2 penalty -- see AdamW for why that
    differs from true weight decay).
    """

    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False):
        super().__init__(params, lr)
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"betas must both lie in [0, 1), got {betas!r}")
        self.betas, self.eps = tuple(betas), eps
        self.weight_decay, self.amsgrad = weight_decay, amsgrad

    def _update(self, p, g, state):
        if "m" not in state:
            state["step"] = 0
            state["m"] = np.zeros_like(p)
            state["v"] = np.zeros_like(p)
            if self.amsgrad:
                state["v_max"] = np.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        b1, b2 = self.betas
        if self.weight_decay:
            if self.decoupled:
                p *= 1.0 - self.lr * self.weight_decay
            else:
                g = g + self.weight_decay * p
        m, v = state["m"], state["v"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        if self.amsgrad:
            np.maximum(state["v_max"], v, out=state["v_max"])
            v = state["v_max"]
        bias_correction1 = 1 - b1**t
        bias_correction2 = 1 - b2**t
        denom = np.sqrt(v) / np.sqrt(bias_correction2) + self.eps
        p -= (self.lr / bias_correction1) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr * wd``
    before the Adam step, instead of adding ``wd * p`` to the gradient. With Adam
    the L2 gradient would be divided by ``sqrt(v)`` and so decay weights unevenly.
    """

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


# ---------------------------------------------------------------- the registry


class OptimizerSpec(NamedTuple):
    """One entry of :data:`OPTIMIZERS`.

    factory(params, lr, momentum, alpha, rho, betas) -> an optimizer; ``lr=None``
    means the class's own default. kind: ``"gradient"`` (the step is lr times
    the gradient: SGD, momentum, Nesterov), ``"adaptive"`` (the gradient is
    rescaled per coordinate) or ``"no_lr"`` (AdaDelta: lr is a multiplier,
    torch's 1.0, not a rate to tune).
    """

    factory: Callable
    kind: str


def _lr(lr, default):
    return default if lr is None else lr


#: The course's one registry of optimizers, in teaching order: name -> OptimizerSpec.
#: Canonical names; "GD" is accepted as another spelling of "SGD" (see ALIASES).
OPTIMIZERS = {
    "SGD": OptimizerSpec(lambda p, lr, **h: SGD(p, lr=_lr(lr, 0.01)), "gradient"),
    "momentum": OptimizerSpec(
        lambda p, lr, momentum, **h: SGD(p, lr=_lr(lr, 0.01), momentum=momentum), "gradient"),
    "Nesterov": OptimizerSpec(
        lambda p, lr, momentum, **h: SGD(p, lr=_lr(lr, 0.01), momentum=momentum, nesterov=True),
        "gradient"),
    "AdaGrad": OptimizerSpec(lambda p, lr, **h: AdaGrad(p, lr=_lr(lr, 0.01)), "adaptive"),
    "RMSprop": OptimizerSpec(
        lambda p, lr, alpha, **h: RMSprop(p, lr=_lr(lr, 0.01), alpha=alpha), "adaptive"),
    "AdaDelta": OptimizerSpec(lambda p, lr, rho, **h: AdaDelta(p, lr=_lr(lr, 1.0), rho=rho),
                              "no_lr"),
    "Adam": OptimizerSpec(lambda p, lr, betas, **h: Adam(p, lr=_lr(lr, 1e-3), betas=betas),
                          "adaptive"),
}

#: Other spellings accepted for a registry name. On an exact gradient (a 2-D surface)
#: SGD is plain gradient descent, which the course also calls "GD".
ALIASES = {"GD": "SGD"}


def optimizer_names(*kinds):
    """Canonical names in :data:`OPTIMIZERS` (teaching order) of the given kinds (all if none)."""
    return tuple(n for n, spec in OPTIMIZERS.items() if not kinds or spec.kind in kinds)


def resolve_optimizer(name, allowed=None):
    """The canonical registry name for ``name`` ("GD" -> "SGD"); ``allowed`` narrows the choice.

    Raises ``ValueError`` naming the allowed optimizers for an unknown name, with
    the right spelling when only the case is wrong (``"adam"`` -> ``"Adam"``).
    """
    allowed = tuple(OPTIMIZERS) if allowed is None else tuple(allowed)
    canonical = ALIASES.get(name, name) if isinstance(name, str) else name
    if canonical in allowed:
        return canonical
    by_lower = {a.lower(): c for a, c in ALIASES.items() if c in allowed}
    by_lower.update({k.lower(): k for k in allowed})
    guess = by_lower.get(name.lower()) if isinstance(name, str) else None
    hint = f"; did you mean {guess!r}? (names are case-sensitive)" if guess else ""
    raise ValueError(f"optimizer must be one of {allowed}, got {name!r}{hint}")


def make_optimizer(name, params, lr=None, *, momentum=0.9, alpha=0.99, rho=0.9,
                   betas=(0.9, 0.999)):
    """The optimizer ``name`` of :data:`OPTIMIZERS` over ``params``.

    lr: the learning rate (None: the class's default, e.g. 1.0 for AdaDelta).
    momentum: for "momentum" and "Nesterov"; alpha: RMSprop's decay (torch's
    default 0.99; the optimizer race passes 0.9, Hinton's value); rho:
    AdaDelta's decay; betas: Adam's.
    """
    spec = OPTIMIZERS[resolve_optimizer(name)]
    return spec.factory(params, lr, momentum=momentum, alpha=alpha, rho=rho, betas=betas)
