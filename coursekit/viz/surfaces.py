"""Two-dimensional test functions for optimizers, with exact gradients.

Each ``Surface`` has ``f(x, y)`` (works on arrays), ``grad(x, y) -> (dfdx, dfdy)``,
a plotting window, a start point where the optimizers begin, the known minima
and learning rates that make a good race (one for plain-gradient methods, one
for adaptive methods, whose step size does not scale with the gradient).

Compute: ``SURFACES``, ``get_surface``, ``surface_grid``. Draw: ``plot_surface_contours``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Surface", "SURFACES", "get_surface", "surface_grid", "plot_surface_contours"]


@dataclass(frozen=True)
class Surface:
    name: str
    formula: str  # mathtext
    f: object
    grad: object
    xlim: tuple
    ylim: tuple
    start: tuple
    minima: tuple  # ((x, y), ...)
    f_min: float
    lr_gradient: float  # default lr for GD / momentum / Nesterov
    lr_adaptive: float  # default lr for AdaGrad / RMSprop / Adam
    steps: int = 100
    log_levels: bool = True
    notes: str = field(default="")
    legend_loc: str = "lower left"  # a corner without a minimum


def _quadratic(x, y):
    return 0.5 * (x ** 2 + 20.0 * y ** 2)


def _quadratic_grad(x, y):
    return x, 20.0 * y


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100.0 * (y - x ** 2) ** 2


def _rosenbrock_grad(x, y):
    return -2 * (1 - x) - 400.0 * x * (y - x ** 2), 200.0 * (y - x ** 2)


def _saddle(x, y):
    return x ** 2 + 0.25 * y ** 4 - 0.5 * y ** 2


def _saddle_grad(x, y):
    return 2 * x, y ** 3 - y


def _himmelblau(x, y):
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def _himmelblau_grad(x, y):
    a = x ** 2 + y - 11
    b = x + y ** 2 - 7
    return 4 * x * a + 2 * b, 2 * a + 4 * y * b


def _beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def _beale_grad(x, y):
    a = 1.5 - x + x * y
    b = 2.25 - x + x * y ** 2
    c = 2.625 - x + x * y ** 3
    dx = 2 * a * (y - 1) + 2 * b * (y ** 2 - 1) + 2 * c * (y ** 3 - 1)
    dy = 2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y ** 2
    return dx, dy


SURFACES = {
    "quadratic": Surface(
        "quadratic", r"$f = \frac{1}{2}(x^2 + 20 y^2)$", _quadratic, _quadratic_grad,
        (-2.2, 2.2), (-1.2, 1.2), (-2.0, 1.0), ((0.0, 0.0),), 0.0, 0.06, 0.1, 60,
        notes="condition number 20: plain GD zig-zags across the valley"),
    "rosenbrock": Surface(
        "rosenbrock", r"$f = (1 - x)^2 + 100 (y - x^2)^2$", _rosenbrock, _rosenbrock_grad,
        (-2.0, 2.0), (-1.0, 3.0), (-1.5, 2.0), ((1.0, 1.0),), 0.0, 1e-3, 0.1, 300,
        notes="a curved, flat-bottomed valley"),
    "saddle": Surface(
        "saddle", r"$f = x^2 + \frac{1}{4}y^4 - \frac{1}{2}y^2$", _saddle, _saddle_grad,
        (-1.6, 1.6), (-1.6, 1.6), (-1.5, 1e-3), ((0.0, 1.0), (0.0, -1.0)), -0.25, 0.05, 0.05, 80,
        log_levels=False, notes="saddle point at (0, 0): the gradient in y starts tiny"),
    "himmelblau": Surface(
        "himmelblau", r"$f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2$", _himmelblau, _himmelblau_grad,
        (-5.0, 5.0), (-5.0, 5.0), (-0.5, -0.5),
        ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)), 0.0,
        0.01, 0.05, 100, notes="four minima of equal depth: where you end depends on the path",
        legend_loc="upper right"),
    "beale": Surface(
        "beale", r"$f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2$",
        _beale, _beale_grad, (-4.5, 4.5), (-4.5, 4.5), (1.0, 1.4), ((3.0, 0.5),), 0.0,
        1e-3, 0.1, 300, notes="steep walls and a long flat valley"),
}


def get_surface(name: str) -> Surface:
    """The ``Surface`` called ``name`` (one of ``SURFACES``)."""
    if name not in SURFACES:
        raise ValueError(f"surface must be one of {tuple(SURFACES)}, got {name!r}")
    return SURFACES[name]


def surface_grid(surface: Surface, resolution: int = 120):
    """``(xx, yy, zz)`` each (resolution, resolution): f on the surface's window."""
    if resolution < 2:
        raise ValueError(f"resolution must be >= 2, got {resolution}")
    xx, yy = np.meshgrid(np.linspace(*surface.xlim, resolution),
                         np.linspace(*surface.ylim, resolution))
    return xx, yy, surface.f(xx, yy)


def plot_surface_contours(ax, surface: Surface, grid=None, levels: int = 30):
    """Filled contours of the surface (log-spaced levels where it spans decades); returns ``ax``."""
    xx, yy, zz = grid if grid is not None else surface_grid(surface)
    if surface.log_levels:
        shifted = zz - surface.f_min + 1e-3
        shown = np.log10(shifted)
    else:
        shown = zz
    ax.contourf(xx, yy, shown, levels=levels, cmap="Greys_r", alpha=0.55)
    ax.contour(xx, yy, shown, levels=levels, colors="k", linewidths=0.3, alpha=0.5)
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(surface.formula, fontsize=9)
    return ax
