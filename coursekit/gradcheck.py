"""Numerical gradients and relative errors: how we know a backward pass is right.

Central differences ``(f(x + h) - f(x - h)) / 2h`` have error O(h**2); with
h = 1e-6 in float64 a correct analytic gradient typically agrees to a relative
error of about 1e-8 or better, a wrong one to about 1e-1 or worse.
"""

import numpy as np


def numerical_gradient(f, x, h=1e-6, dout=None):
    """Gradient of ``f`` at ``x`` by central differences.

    f: function of the array ``x`` alone. If ``dout`` is None it must return a
       scalar and the result is ``d f / d x``; otherwise it may return an array
       and the result is the gradient of ``sum(f(x) * dout)`` (a backward pass
       fed with ``dout``).
    x: float array, perturbed in place one entry at a time and restored.
    Returns an array shaped like ``x``. Costs 2 * x.size evaluations of ``f``.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"x must be a float numpy array (it is perturbed in place), got "
            f"{type(x).__name__} {getattr(x, 'dtype', '')}"
        )
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")

    def value():
        out = f(x)
        return float(np.sum(np.asarray(out) * dout)) if dout is not None else float(out)

    for i in range(flat_x.size):
        old = flat_x[i]
        flat_x[i] = old + h
        plus = value()
        flat_x[i] = old - h
        minus = value()
        flat_x[i] = old
        flat_grad[i] = (plus - minus) / (2 * h)
    return grad


def rel_error(a, b, eps=1e-300):
    """Relative error ``max|a - b| / max(max|a|, max|b|)`` between two arrays.

    Normalising by the largest magnitude (rather than entry by entry) keeps entries
    that are nearly zero from dominating. 0 means identical; ~1e-8 means agreement
    to about 8 significant digits.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(np.max(np.abs(a)), np.max(np.abs(b)), eps)
    return float(np.max(np.abs(a - b)) / scale)


def check_layer(forward, backward, *inputs, h=1e-6, rng=0):
    """Compare a layer's backward pass with numerical gradients.

    forward(*inputs) -> (out, cache); backward(dout, cache) -> one gradient or a
    tuple of gradients, the i-th for ``inputs[i]`` (a None gradient is skipped).
    A random ``dout`` (seeded by ``rng``) is fed back so every output entry counts.
    Returns a list of relative errors, one per returned gradient (None where the
    gradient was None or the input is not a float array).

    Example::

        errors = check_layer(relu_forward, relu_backward, np.random.randn(3, 4))
        assert max(e for e in errors if e is not None) < 1e-7
    """
    inputs = [np.array(x, dtype=float) if isinstance(x, np.ndarray) and
              np.issubdtype(x.dtype, np.floating) else x for x in inputs]
    out, cache = forward(*inputs)
    dout = np.random.default_rng(rng).standard_normal(np.shape(out))
    grads = backward(dout, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    errors = []
    for i, analytic in enumerate(grads):
        x = inputs[i] if i < len(inputs) else None
        if analytic is None or not isinstance(x, np.ndarray) or not np.issubdtype(
            x.dtype, np.floating
        ):
            errors.append(None)
            continue

        def f(_, i=i):
            return forward(*inputs)[0]

        numeric = numerical_gradient(f, inputs[i], h=h, dout=dout)
        errors.append(rel_error(analytic, numeric))
    return errors
