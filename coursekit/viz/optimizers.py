"""Optimizer races on 2-D surfaces: every path is a run of ``coursekit.nn.optim``.

The point (x, y) is one parameter ``{"xy": array([x, y])}``; each step computes
the exact gradient of the surface and calls ``optimizer.step`` — the same
update rules as ``torch.optim`` (the tests check it).

Compute: ``OPTIMIZERS``, ``make_optimizer``, ``optimizer_path``, ``race``.
Draw: ``plot_paths``, ``plot_loss_curves``.
"""

from __future__ import annotations

import numpy as np

from coursekit.viz.surfaces import Surface, get_surface, plot_surface_contours

__all__ = ["OPTIMIZERS", "PLAIN_GRADIENT", "make_optimizer", "optimizer_path", "race", "plot_paths",
           "plot_loss_curves"]

#: Optimizer names in the race, in teaching order.
OPTIMIZERS = ("GD", "momentum", "Nesterov", "AdaGrad", "RMSprop", "AdaDelta", "Adam")
#: Methods whose step is lr × gradient (they use ``lr_gradient``); the others
#: rescale the gradient per coordinate (``lr_adaptive``), except AdaDelta,
#: which has no learning rate to tune (torch's lr = 1.0).
PLAIN_GRADIENT = ("GD", "momentum", "Nesterov")
COLORS = dict(zip(OPTIMIZERS, ["#d62728", "#1f77b4", "#17becf", "#9467bd", "#2ca02c", "#8c564b",
                               "#ff7f0e"]))

# Beyond this distance from the origin a path has diverged (and floats soon overflow).
_DIVERGED = 1e6


def make_optimizer(name: str, params: dict, lr_gradient: float = 0.01, lr_adaptive: float = 0.05,
                   momentum: float = 0.9, beta1: float = 0.9, beta2: float = 0.999, rho: float = 0.9):
    """A ``coursekit.nn.optim`` optimizer over ``params`` for the race entry ``name``.

    GD = SGD; momentum and Nesterov = SGD(momentum, nesterov); RMSprop uses
    ``rho`` as its decay ``alpha`` (0.9 as Hinton proposed; torch's 0.99 makes
    the first, bias-uncorrected steps 10× lr); AdaDelta uses ``rho`` and
    lr = 1 (torch's default); Adam uses ``(beta1, beta2)``.
    """
    from coursekit.nn import optim

    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
    for arg, value in (("lr_gradient", lr_gradient), ("lr_adaptive", lr_adaptive)):
        if not value > 0:
            raise ValueError(f"{arg} must be > 0, got {value}")
    if name == "GD":
        return optim.SGD(params, lr=lr_gradient)
    if name == "momentum":
        return optim.SGD(params, lr=lr_gradient, momentum=momentum)
    if name == "Nesterov":
        return optim.SGD(params, lr=lr_gradient, momentum=momentum, nesterov=True)
    if name == "AdaGrad":
        return optim.AdaGrad(params, lr=lr_adaptive)
    if name == "RMSprop":
        return optim.RMSprop(params, lr=lr_adaptive, alpha=rho)
    if name == "AdaDelta":
        return optim.AdaDelta(params, rho=rho)
    return optim.Adam(params, lr=lr_adaptive, betas=(beta1, beta2))


def optimizer_path(surface, name: str, steps: int | None = None, start=None, **hyper):
    """Run optimizer ``name`` on ``surface`` (a ``Surface`` or its name).

    Returns ``(path, losses, diverged)``: path (n + 1, 2) with the start as row
    0, losses (n + 1,) = f along the path, and ``diverged`` (bool). A path that
    leaves every sensible range stops early, so n can be < ``steps``.
    ``hyper``: keyword arguments of ``make_optimizer`` (lr_gradient, ...).
    """
    surface = get_surface(surface) if isinstance(surface, str) else surface
    steps = surface.steps if steps is None else int(steps)
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    point = np.array(surface.start if start is None else start, dtype=float)
    if point.shape != (2,):
        raise ValueError(f"start must be a point (x, y), got {start!r}")
    params = {"xy": point}
    optimizer = make_optimizer(name, params, **hyper)
    path = [point.copy()]
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            gx, gy = surface.grad(*point)
            optimizer.step({"xy": np.array([gx, gy])})
            if not np.all(np.isfinite(point)) or np.abs(point).max() > _DIVERGED:
                diverged = True
                break
            path.append(point.copy())
        path = np.array(path)
        losses = surface.f(path[:, 0], path[:, 1])
    return path, losses, diverged


def race(surface, names=OPTIMIZERS, steps: int | None = None, **hyper) -> dict:
    """``{name: (path, losses, diverged)}`` for each optimizer in ``names``."""
    return {name: optimizer_path(surface, name, steps, **hyper) for name in names}


def plot_paths(ax, surface: Surface, results: dict, grid=None, legend: bool = True, contours: bool = True):
    """Contours of ``surface`` (unless ``contours=False``: already drawn) with each optimizer's path."""
    if contours:
        plot_surface_contours(ax, surface, grid)
    for name, (path, _, diverged) in results.items():
        label = name + (" (diverged)" if diverged else "")
        ax.plot(path[:, 0], path[:, 1], "-", color=COLORS[name], lw=1.6, label=label, alpha=0.9)
        ax.plot(path[-1, 0], path[-1, 1], "o", color=COLORS[name], ms=4)
    ax.plot(*surface.start, "ko", ms=5)
    for mx, my in surface.minima:
        ax.plot(mx, my, "*", color="gold", ms=12, mec="k", mew=0.6, zorder=5)
    if legend:
        ax.legend(fontsize=7, loc=surface.legend_loc, ncol=2, framealpha=0.8, frameon=True)
    return ax


def plot_loss_curves(ax, surface: Surface, results: dict):
    """f − f_min against step (log scale), one line per optimizer."""
    for name, (_, losses, diverged) in results.items():
        gap = np.maximum(losses - surface.f_min, 1e-12)
        ax.plot(np.arange(len(gap)), gap, color=COLORS[name], lw=1.5, label=name)
        if diverged:
            ax.plot(len(gap) - 1, gap[-1], "x", color=COLORS[name], ms=8)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(r"$f - f_{min}$")
    ax.set_title("loss against step", fontsize=10)
    return ax
