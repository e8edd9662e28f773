"""Weight initialisation, with torch's formulas (``torch.nn.init``).

Every function takes a ``shape`` and a keyword ``rng`` (a
``numpy.random.Generator`` or an int seed; None draws fresh entropy) and returns
a new float64 array. Shapes use torch's layouts: Linear (out, in), Conv2d
(F, C, KH, KW); fan_in = in * KH * KW, fan_out = out * KH * KW.
"""

import math

import numpy as np


def calculate_gain(nonlinearity, param=None):
    """Recommended gain for a nonlinearity (``torch.nn.init.calculate_gain``).

    linear/conv/sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu with slope a:
    sqrt(2 / (1 + a**2)); selu: 3/4.
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(
        f"nonlinearity must be one of linear, conv2d, sigmoid, tanh, relu, leaky_relu, "
        f"selu; got {nonlinearity!r}"
    )


def fan_in_and_fan_out(shape):
    """``(fan_in, fan_out)`` of a weight of this shape (needs at least 2 dimensions)."""
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(
            f"shape must have at least 2 dimensions (out, in, ...) to define fan in/out, "
            f"got {shape}"
        )
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def zeros(shape, rng=None):
    """All zeros. Fine for biases; for weights every unit of a layer would stay
    identical forever (symmetry is never broken). ``rng`` is accepted and unused."""
    return np.zeros(shape)


def normal(shape, std=0.01, mean=0.0, rng=None):
    """Gaussian ``N(mean, std**2)``. Too small a std shrinks signals layer by layer,
    too large saturates sigmoids -- variance scaling chooses it from the fan."""
    return _rng(rng).normal(mean, std, size=shape)


def uniform(shape, r=0.05, rng=None):
    """Uniform on ``[-r, r]``; its variance is ``r**2 / 3`` (so ``r = sqrt(3) * std``)."""
    return _rng(rng).uniform(-r, r, size=shape)


def xavier_uniform(shape, gain=1.0, rng=None):
    """Glorot/Xavier uniform: ``U(-a, a)``, ``a = gain * sqrt(6 / (fan_in + fan_out))``,
    i.e. variance ``2 / (fan_in + fan_out)``: keeps forward and backward signals alike."""
    fan_in, fan_out = fan_in_and_fan_out(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _rng(rng).uniform(-a, a, size=shape)


def xavier_normal(shape, gain=1.0, rng=None):
    """Glorot/Xavier normal: std ``gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return _rng(rng).normal(0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), size=shape)


def _kaiming_std(shape, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    """He/Kaiming uniform: ``U(-b, b)``, ``b = gain * sqrt(3 / fan)``.

    With the defaults (a = 0, leaky_relu) the gain is sqrt(2), the ReLU value: ReLU
    zeroes half the signal, so the variance is doubled to compensate.
    mode: ``"fan_in"`` preserves forward variance, ``"fan_out"`` backward variance.
    """
    bound = math.sqrt(3.0) * _kaiming_std(shape, a, mode, nonlinearity)
    return _rng(rng).uniform(-bound, bound, size=shape)


def kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    """He/Kaiming normal: std ``gain / sqrt(fan)``."""
    return _rng(rng).normal(0.0, _kaiming_std(shape, a, mode, nonlinearity), size=shape)


def orthogonal(shape, gain=1.0, rng=None):
    """(Semi-)orthogonal matrix: rows (or columns) orthonormal, times ``gain``.

    Shapes with more than 2 dimensions are flattened to (shape[0], rest), as in
    torch. An orthogonal matrix preserves norms exactly, so repeated products
    (deep linear nets, RNN recurrences) neither explode nor vanish at the start.
    """
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"shape must have at least 2 dimensions, got {shape}")
    rows, cols = shape[0], math.prod(shape[1:])
    flat = _rng(rng).normal(size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    # Sign fix makes Q uniformly distributed over orthogonal matrices.
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape)
