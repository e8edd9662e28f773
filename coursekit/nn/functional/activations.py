"""Activation functions as forward/backward pairs.

Every ``*_forward(x, ...)`` takes an array of any shape and returns
``(out, cache)`` with ``out.shape == x.shape`` (maxout excepted); every
``*_backward(dout, cache)`` returns ``dx`` with the shape of ``x``
(``prelu_backward`` also returns the gradient of its slope).
Definitions follow ``torch.nn.functional`` so results can be compared.
"""

from typing import Callable, NamedTuple

import numpy as np

from ._checks import as_float_array, check_positive_int


def sign_forward(x):
    """Sign activation, the perceptron's threshold: -1, 0 or +1 elementwise.

    There is deliberately no ``sign_backward``: the derivative is 0 everywhere
    except at 0, where it does not exist, so gradient descent receives no
    signal about which way to move the weights. That is why networks use smooth
    activations (sigmoid, tanh, ReLU) and why the perceptron uses its own rule.

    Returns ``(out, None)``; ``out`` has the shape of ``x``.
    """
    return np.sign(as_float_array("x", x)), None


def relu_forward(x):
    """ReLU ``max(0, x)``. Returns ``(out, cache)``, ``out`` shaped like ``x``."""
    x = as_float_array("x", x)
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    """Gradient of ReLU: passes ``dout`` where ``x > 0`` (0 at ``x == 0``, as torch)."""
    x = cache
    return dout * (x > 0)


def leaky_relu_forward(x, negative_slope=0.01):
    """Leaky ReLU: ``x`` for ``x > 0``, ``negative_slope * x`` otherwise."""
    x = as_float_array("x", x)
    return np.where(x > 0, x, negative_slope * x), (x, negative_slope)


def leaky_relu_backward(dout, cache):
    """Gradient of leaky ReLU with respect to ``x``."""
    x, negative_slope = cache
    return dout * np.where(x > 0, 1.0, negative_slope)


def _prelu_slope(x, alpha):
    """Broadcast ``alpha`` (scalar, (1,) or (C,)) over channel axis 1 of ``x``."""
    alpha = np.asarray(alpha, dtype=x.dtype)
    if alpha.size == 1:
        return alpha.reshape(()), ()
    if alpha.ndim != 1 or x.ndim < 2 or x.shape[1] != alpha.shape[0]:
        raise ValueError(
            f"alpha must be a scalar or have shape (C,) with C = x.shape[1]; "
            f"got alpha shape {alpha.shape} for x shape {x.shape}"
        )
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return alpha.reshape(shape), tuple(i for i in range(x.ndim) if i != 1)


def prelu_forward(x, alpha):
    """Parametric ReLU: like leaky ReLU but the slope ``alpha`` is learned.

    x: any shape; channels on axis 1 when ``alpha`` has shape (C,).
    alpha: scalar, shape (1,) or (C,).
    """
    x = as_float_array("x", x)
    slope, _ = _prelu_slope(x, alpha)
    return np.where(x > 0, x, slope * x), (x, alpha)


def prelu_backward(dout, cache):
    """Returns ``(dx, dalpha)``; ``dalpha`` has the shape of ``alpha``."""
    x, alpha = cache
    slope, reduce_axes = _prelu_slope(x, alpha)
    dx = dout * np.where(x > 0, 1.0, slope)
    dslope = dout * np.where(x > 0, 0.0, x)
    dalpha = dslope.sum() if reduce_axes == () else dslope.sum(axis=reduce_axes)
    return dx, np.reshape(dalpha, np.shape(alpha))


def elu_forward(x, alpha=1.0):
    """ELU: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    x = as_float_array("x", x)
    # expm1 keeps precision for small negative x; the minimum avoids overflow warnings.
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    return out, (x, out, alpha)


def elu_backward(dout, cache):
    """Gradient of ELU: 1 for ``x > 0``, ``out + alpha`` (= alpha*exp(x)) otherwise."""
    x, out, alpha = cache
    return dout * np.where(x > 0, 1.0, out + alpha)


_SQRT_2_OVER_PI = np.sqrt(2.0 / np.pi)


def gelu_forward(x, approximate="none"):
    """GELU ``x * Phi(x)`` with Phi the standard normal CDF (torch's default).

    approximate: ``"none"`` (exact, uses erf) or ``"tanh"`` (the GPT-2 formula).
    """
    x = as_float_array("x", x)
    if approximate == "none":
        from scipy.special import erf  # lazy: importing coursekit.nn then needs only NumPy

        cdf = 0.5 * (1.0 + erf(x / np.sqrt(2.0)))
        return x * cdf, (x, approximate, cdf)
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
        t = np.tanh(inner)
        return 0.5 * x * (1.0 + t), (x, approximate, t)
    raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu_backward(dout, cache):
    """Gradient of GELU with respect to ``x``."""
    x, approximate, saved = cache
    if approximate == "none":
        pdf = np.exp(-0.5 * x**2) / np.sqrt(2.0 * np.pi)
        return dout * (saved + x * pdf)
    t = saved
    dinner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x**2)
    return dout * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t**2) * dinner)


def sigmoid(x):
    """Numerically stable logistic function ``1 / (1 + exp(-x))`` (no overflow)."""
    x = as_float_array("x", x)
    # exp(-logaddexp(0, -x)) never exponentiates a large positive number.
    return np.exp(-np.logaddexp(0.0, -x))


def sigmoid_forward(x):
    """Logistic sigmoid; output in (0, 1). Returns ``(out, cache)``."""
    out = sigmoid(as_float_array("x", x))
    return out, out


def sigmoid_backward(dout, cache):
    """Gradient of sigmoid: ``out * (1 - out)``, at most 1/4 (why deep sigmoid nets vanish)."""
    out = cache
    return dout * out * (1.0 - out)


def tanh_forward(x):
    """Hyperbolic tangent; output in (-1, 1), zero-centred. Returns ``(out, cache)``."""
    out = np.tanh(as_float_array("x", x))
    return out, out


def tanh_backward(dout, cache):
    """Gradient of tanh: ``1 - out**2``."""
    out = cache
    return dout * (1.0 - out**2)


def softplus_forward(x, beta=1.0, threshold=20.0):
    """Softplus ``log(1 + exp(beta * x)) / beta``, a smooth ReLU (torch's definition).

    Like torch, returns ``x`` itself where ``beta * x > threshold``.
    """
    x = as_float_array("x", x)
    bx = beta * x
    out = np.where(bx > threshold, x, np.logaddexp(0.0, bx) / beta)
    return out, (x, beta, threshold)


def softplus_backward(dout, cache):
    """Gradient of softplus: ``sigmoid(beta * x)`` (1 above the threshold)."""
    x, beta, threshold = cache
    bx = beta * x
    return dout * np.where(bx > threshold, 1.0, sigmoid(bx))


def maxout_forward(x, num_pieces):
    """Maxout: the maximum of ``num_pieces`` consecutive features.

    x: (N, D * num_pieces, ...) -- features on axis 1, grouped consecutively.
    Returns ``(out, cache)`` with out (N, D, ...): ``out[:, d] = max_k x[:, d*num_pieces + k]``.
    A maxout unit with k linear pieces can represent ReLU (k = 2, one piece 0)
    and any convex piecewise-linear function.
    """
    x = as_float_array("x", x)
    k = check_positive_int("num_pieces", num_pieces)
    if x.ndim < 2 or x.shape[1] % k != 0:
        raise ValueError(
            f"x must have shape (N, D * num_pieces, ...) with axis 1 divisible by "
            f"num_pieces={k}; got shape {x.shape}"
        )
    grouped = x.reshape(x.shape[0], x.shape[1] // k, k, *x.shape[2:])
    winner = grouped.argmax(axis=2)
    out = np.take_along_axis(grouped, winner[:, :, None], axis=2)[:, :, 0]
    return out, (x.shape, winner, k)


def maxout_backward(dout, cache):
    """Gradient of maxout: ``dout`` routed to the winning piece, 0 to the others."""
    x_shape, winner, k = cache
    grouped = np.zeros((x_shape[0], x_shape[1] // k, k, *x_shape[2:]), dtype=dout.dtype)
    np.put_along_axis(grouped, winner[:, :, None], dout[:, :, None], axis=2)
    return grouped.reshape(x_shape)


def identity_forward(x):
    """The identity ("linear" activation, no nonlinearity). Returns ``(x, None)``."""
    return as_float_array("x", x), None


def identity_backward(dout, cache):
    """Gradient of the identity: ``dout`` unchanged."""
    return dout


class Activation(NamedTuple):
    """One entry of :data:`ACTIVATIONS`.

    forward/backward: the pair above (``backward`` None for ``sign``, which has
    no useful derivative). gain: the ``nonlinearity`` name passed to
    :func:`coursekit.nn.init.calculate_gain` for this activation (ELU, GELU and
    softplus behave like ReLU for x > 0 and use its gain, as common practice).
    kind: ``"elementwise"`` (f applied to each entry, no parameter to choose
    for a network layer), ``"parametric"`` (needs an extra argument: prelu's
    slope, maxout's piece count), ``"threshold"`` (sign: no gradient) or
    ``"identity"`` (linear: no activation at all).
    """

    forward: Callable
    backward: Callable | None
    gain: str
    kind: str


#: The course's one registry of activations, in teaching order: name -> Activation.
#: Adding an activation here makes it appear in every explorer and widget that
#: shows its kind (viz.activations, viz.gradient_flow, viz.playground).
ACTIVATIONS = {
    "sign": Activation(sign_forward, None, "linear", "threshold"),
    "sigmoid": Activation(sigmoid_forward, sigmoid_backward, "sigmoid", "elementwise"),
    "tanh": Activation(tanh_forward, tanh_backward, "tanh", "elementwise"),
    "relu": Activation(relu_forward, relu_backward, "relu", "elementwise"),
    "leaky_relu": Activation(leaky_relu_forward, leaky_relu_backward, "leaky_relu", "elementwise"),
    "prelu": Activation(prelu_forward, prelu_backward, "leaky_relu", "parametric"),
    "elu": Activation(elu_forward, elu_backward, "relu", "elementwise"),
    "softplus": Activation(softplus_forward, softplus_backward, "relu", "elementwise"),
    "gelu": Activation(gelu_forward, gelu_backward, "relu", "elementwise"),
    "maxout": Activation(maxout_forward, maxout_backward, "linear", "parametric"),
    "linear": Activation(identity_forward, identity_backward, "linear", "identity"),
}


def activation_names(*kinds):
    """Names in :data:`ACTIVATIONS` (teaching order) whose kind is one of ``kinds``
    (all if none)."""
    unknown = set(kinds) - {a.kind for a in ACTIVATIONS.values()}
    if unknown:
        raise ValueError(f"unknown activation kind(s) {sorted(unknown)}; kinds are "
                         f"elementwise, parametric, threshold, identity")
    return tuple(n for n, a in ACTIVATIONS.items() if not kinds or a.kind in kinds)


def get_activation(name, allowed=None):
    """The :class:`Activation` called ``name``; ``allowed`` (names) narrows the choice.

    Raises ``ValueError`` naming the allowed activations for an unknown name.
    """
    allowed = tuple(ACTIVATIONS) if allowed is None else tuple(allowed)
    if name not in allowed:
        raise ValueError(f"activation must be one of {allowed}, got {name!r}")
    return ACTIVATIONS[name]


def activation_gain(name):
    """The initialisation gain for a layer followed by activation ``name``
    (``init.calculate_gain`` of the registry's ``gain`` entry)."""
    from coursekit.nn.init import calculate_gain

    return calculate_gain(get_activation(name).gain)
