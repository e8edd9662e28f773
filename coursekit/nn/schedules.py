"""Learning-rate schedules: callables ``schedule(step) -> lr``.

Every schedule is a small class whose instances are called with the step
(iteration or epoch index, starting at 0) and return the learning rate to use
for that step. Any plain function ``lr_at(step) -> float`` works wherever a
schedule is expected. With an optimiser from :mod:`coursekit.nn.optim`::

    schedule = CosineAnnealing(lr=0.1, total_steps=100)
    for t in range(100):
        opt.lr = schedule(t)
        opt.step(grads)

The formulas match ``torch.optim.lr_scheduler`` where torch has the schedule
(StepLR, ExponentialLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, LinearLR)
and Keras' ``InverseTimeDecay`` otherwise.
"""

import math


def _check_step(step):
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step!r}")
    return step


class Schedule:
    """Base class; ``values(n)`` lists the first ``n`` learning rates (for plots)."""

    def __call__(self, step):
        raise NotImplementedError

    def values(self, num_steps):
        return [self(t) for t in range(num_steps)]


class _Decay(Schedule):
    def __init__(self, lr, decay_rate, decay_steps=1, staircase=False):
        if decay_steps <= 0:
            raise ValueError(f"decay_steps must be positive, got {decay_steps!r}")
        self.lr, self.decay_rate = lr, decay_rate
        self.decay_steps, self.staircase = decay_steps, staircase

    def _progress(self, step):
        p = _check_step(step) / self.decay_steps
        return math.floor(p) if self.staircase else p


class InverseTimeDecay(_Decay):
    """``lr / (1 + decay_rate * step / decay_steps)`` -- decays like 1/t."""

    def __call__(self, step):
        return self.lr / (1.0 + self.decay_rate * self._progress(step))


class ExponentialDecay(_Decay):
    """``lr * decay_rate ** (step / decay_steps)``; ``decay_steps=1`` is torch's ExponentialLR."""

    def __call__(self, step):
        return self.lr * self.decay_rate ** self._progress(step)


class NaturalExpDecay(_Decay):
    """``lr * exp(-decay_rate * step / decay_steps)``."""

    def __call__(self, step):
        return self.lr * math.exp(-self.decay_rate * self._progress(step))


class StepDecay(Schedule):
    """``lr * gamma ** (step // step_size)``: drop by ``gamma`` every ``step_size`` steps
    (torch's StepLR)."""

    def __init__(self, lr, step_size, gamma=0.1):
        if step_size <= 0:
            raise ValueError(f"step_size must be positive, got {step_size!r}")
        self.lr, self.step_size, self.gamma = lr, step_size, gamma

    def __call__(self, step):
        return self.lr * self.gamma ** (_check_step(step) // self.step_size)


class CosineAnnealing(Schedule):
    """Half a cosine from ``lr`` down to ``min_lr`` over ``total_steps`` (CosineAnnealingLR):
    ``min_lr + (lr - min_lr) * (1 + cos(pi * step / total_steps)) / 2``."""

    def __init__(self, lr, total_steps, min_lr=0.0):
        if total_steps <= 0:
            raise ValueError(f"total_steps must be positive, got {total_steps!r}")
        self.lr, self.total_steps, self.min_lr = lr, total_steps, min_lr

    def __call__(self, step):
        t = _check_step(step)
        cosine = (1 + math.cos(math.pi * t / self.total_steps)) / 2
        return self.min_lr + (self.lr - self.min_lr) * cosine


class CosineWarmRestarts(Schedule):
    """SGDR (CosineAnnealingWarmRestarts): cosine decay over a cycle of ``first_cycle``
    steps, then jump back to ``lr``; each cycle is ``cycle_mult`` times longer."""

    def __init__(self, lr, first_cycle, cycle_mult=1, min_lr=0.0):
        if first_cycle <= 0 or cycle_mult < 1 or int(cycle_mult) != cycle_mult:
            raise ValueError(
                f"first_cycle must be positive and cycle_mult an integer >= 1, "
                f"got first_cycle={first_cycle!r}, cycle_mult={cycle_mult!r}"
            )
        self.lr, self.first_cycle = lr, first_cycle
        self.cycle_mult, self.min_lr = int(cycle_mult), min_lr

    def __call__(self, step):
        t, cycle = _check_step(step), self.first_cycle
        while t >= cycle:  # a handful of cycles at most: lengths grow or repeat
            t -= cycle
            cycle *= self.cycle_mult
        return self.min_lr + (self.lr - self.min_lr) * (1 + math.cos(math.pi * t / cycle)) / 2


class LinearWarmup(Schedule):
    """Linear warm-up for ``warmup_steps`` steps, then another schedule (or constant).

    For ``step < warmup_steps``:
    ``lr * (start_factor + (1 - start_factor) * step / warmup_steps)`` (torch's LinearLR);
    afterwards ``after(step - warmup_steps)`` if ``after`` is given, else ``lr``.
    Warm-up avoids huge early steps while Adam's moment estimates are still noisy.
    """

    def __init__(self, lr, warmup_steps, after=None, start_factor=0.1):
        if warmup_steps <= 0:
            raise ValueError(f"warmup_steps must be positive, got {warmup_steps!r}")
        self.lr, self.warmup_steps = lr, warmup_steps
        self.after, self.start_factor = after, start_factor

    def __call__(self, step):
        t = _check_step(step)
        if t < self.warmup_steps:
            return self.lr * (self.start_factor + (1 - self.start_factor) * t / self.warmup_steps)
        return self.lr if self.after is None else self.after(t - self.warmup_steps)
