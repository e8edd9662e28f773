"""Activation functions and their derivatives, with the regions where learning stalls.

Values come from ``coursekit.nn.functional`` (the course's one definition of
each activation); this module only evaluates them on a grid and finds the
*dead* (f'(x) = 0) and *saturated* (0 < |f'(x)| < threshold) intervals.

Compute: ``activation_curve``, ``gradient_regions``. Draw: ``plot_activation``.
"""

from __future__ import annotations

import numpy as np

from coursekit.nn.functional.activations import activation_names, get_activation

__all__ = ["ACTIVATIONS", "FORMULAS", "MAXOUT_PIECES", "activation_curve", "gradient_regions",
           "plot_activation"]

#: Names accepted by ``activation_curve``, in teaching order: every activation of the
#: registry ``coursekit.nn.functional.ACTIVATIONS`` except the identity.
ACTIVATIONS = activation_names("threshold", "elementwise", "parametric")

#: Activations whose shape depends on the parameter ``alpha``.
USES_ALPHA = ("leaky_relu", "prelu", "elu", "maxout")

#: 1-D maxout ``max_k (w_k x + b_k)``: (slope, intercept) of each linear piece;
#: the first slope is replaced by ``alpha``.
MAXOUT_PIECES = ((-0.5, -0.5), (0.25, 0.0), (1.5, -1.0))

#: (function, derivative) as matplotlib mathtext (also valid MathJax).
FORMULAS = {
    "sign": (r"$\mathrm{sign}(x) = -1,\ 0,\ +1$", r"$f'(x) = 0$ (undefined at 0)"),
    "sigmoid": (r"$\sigma(x) = \frac{1}{1 + e^{-x}}$", r"$\sigma'(x) = \sigma(x)\,(1 - \sigma(x)) \leq \frac{1}{4}$"),
    "tanh": (r"$\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}$", r"$\tanh'(x) = 1 - \tanh^2(x)$"),
    "relu": (r"$\mathrm{ReLU}(x) = \max(0, x)$", r"$f'(x) = 1\ (x > 0),\ 0\ (x < 0)$"),
    "leaky_relu": (r"$f(x) = x\ (x > 0),\ \alpha x\ (x \leq 0)$", r"$f'(x) = 1\ (x > 0),\ \alpha\ (x < 0)$"),
    "prelu": (r"$f(x) = x\ (x > 0),\ \alpha x\ (x \leq 0)$, $\alpha$ learned",
              r"$f'(x) = 1\ (x > 0),\ \alpha\ (x < 0)$; $\partial f/\partial\alpha = x\ (x<0)$"),
    "elu": (r"$f(x) = x\ (x > 0),\ \alpha(e^{x} - 1)\ (x \leq 0)$", r"$f'(x) = 1\ (x > 0),\ \alpha e^{x}\ (x \leq 0)$"),
    "softplus": (r"$f(x) = \ln(1 + e^{x})$", r"$f'(x) = \sigma(x)$"),
    "gelu": (r"$\mathrm{GELU}(x) = x\,\Phi(x)$", r"$f'(x) = \Phi(x) + x\,\varphi(x)$"),
    "maxout": (r"$f(x) = \max_k\,(w_k x + b_k)$", r"$f'(x) = w_{k^*}$, $k^* = \arg\max_k (w_k x + b_k)$"),
}


def _check_name(name):
    get_activation(name, allowed=ACTIVATIONS)


def activation_curve(name: str, x, alpha: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Values ``f(x)`` and derivatives ``f'(x)`` of activation ``name`` on ``x`` (1-D).

    alpha: the slope for leaky_relu / prelu, the saturation value for elu and
    the first maxout slope (ignored by the others). Derivatives come from the
    ``*_backward`` functions of ``coursekit.nn.functional`` with ``dout = 1``.
    Returns ``(y, dy)``, each shaped like ``x``.
    """
    _check_name(name)
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    ones = np.ones_like(x)
    if name == "sign":
        y, _ = get_activation("sign").forward(x)
        return y, np.zeros_like(x)  # zero almost everywhere: no learning signal
    if name == "maxout":
        pieces = np.array(MAXOUT_PIECES, dtype=float)
        pieces[0, 0] = alpha
        pre = x[:, None] * pieces[:, 0] + pieces[:, 1]  # (N, k): all pieces of one unit
        maxout = get_activation("maxout")
        out, cache = maxout.forward(pre, len(pieces))
        d_pre = maxout.backward(np.ones_like(out), cache)
        return out[:, 0], d_pre @ pieces[:, 0]
    activation = get_activation(name)
    # alpha is the second positional argument of leaky_relu, prelu and elu
    y, cache = activation.forward(x, alpha) if name in USES_ALPHA else activation.forward(x)
    dy = activation.backward(ones, cache)
    if name == "prelu":
        dy = dy[0]  # (dx, dalpha)
    return y, dy


def _intervals(x, mask):
    """Maximal runs of True in ``mask`` as (x_start, x_end) pairs."""
    intervals = []
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(int)))
    for start, stop in zip(edges[::2], edges[1::2]):
        intervals.append((float(x[start]), float(x[stop - 1])))
    return intervals


def gradient_regions(x, dy, threshold: float = 0.05) -> dict:
    """Where an activation stops passing gradient.

    Returns ``{"dead": [(a, b), ...], "saturated": [(a, b), ...]}``: intervals
    of ``x`` where ``f'(x) = 0`` exactly (a unit there never updates its
    incoming weights) and tails where ``0 < |f'(x)| < threshold`` and shrinking
    outward: the output saturates towards a constant and the gradient is
    multiplied by less than ``threshold`` at each such layer.
    """
    x = np.asarray(x, dtype=float)
    dy = np.asarray(dy, dtype=float)
    if x.shape != dy.shape:
        raise ValueError(f"x and dy must have the same shape, got {x.shape} and {dy.shape}")
    if threshold <= 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    magnitude = np.abs(dy)
    small = _intervals(x, (magnitude > 0) & (magnitude < threshold))
    return {"dead": _intervals(x, magnitude == 0),
            "saturated": [(a, b) for a, b in small if _flattens_outward(x, magnitude, a, b)]}


def _flattens_outward(x, magnitude, a, b) -> bool:
    """Whether the small-gradient interval [a, b] is a tail where f' decays towards 0.

    Saturation means the output approaches a constant: a tail of the plotted
    range where |f'| keeps shrinking outward (sigmoid, tanh, ELU, GELU for
    x << 0). A constant small slope (leaky ReLU's 0.01) is not saturation, and
    neither is an isolated point where f' crosses zero (GELU near x = -0.75).
    """
    inside = magnitude[(x >= a) & (x <= b)]
    if a == x[0]:
        inside = inside[::-1]  # read from the inner edge outward
    elif b != x[-1]:
        return False
    return bool(np.all(np.diff(inside) <= 0) and inside[-1] < inside[0])


def plot_activation(ax, name: str, x, alpha: float = 0.1, threshold: float = 0.05,
                    show_derivative: bool = True, title: bool = True, legend: bool = True):
    """Draw f and f' of ``name`` on ``ax`` with dead (grey) and saturated (orange) bands."""
    y, dy = activation_curve(name, x, alpha)
    regions = gradient_regions(x, dy, threshold)
    for a, b in regions["dead"]:
        ax.axvspan(a, b, color="0.6", alpha=0.25, lw=0,
                   label="dead: f'(x) = 0" if a == regions["dead"][0][0] else None)
    for k, (a, b) in enumerate(regions["saturated"]):
        ax.axvspan(a, b, color="tab:orange", alpha=0.15, lw=0,
                   label=f"saturated: |f'(x)| < {threshold:.3g}" if k == 0 else None)
    ax.plot(x, y, color="tab:blue", lw=2, label="f(x)")
    if show_derivative:
        ax.plot(x, dy, color="tab:red", lw=1.5, ls="--", label="f'(x)")
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlim(x[0], x[-1])
    ax.set_xlabel("x")
    ax.set_ylabel("f(x), f'(x)")
    if title:
        suffix = f" (α = {alpha:g})" if name in USES_ALPHA else ""
        ax.set_title(f"{name}{suffix}", fontsize=10)
    if legend:
        ax.legend(fontsize=7, loc="upper left")
    return ax
