"""Optimizer races on 2-D surfaces: every path is a run of ``coursekit.nn.optim``.

The point (x, y) is one parameter ``{"xy": array([x, y])}``; each step computes
the exact gradient of the surface and calls ``optimizer.step`` — the same
update rules as ``torch.optim`` (the tests check it).

Compute: ``OPTIMIZERS``, ``make_optimizer``, ``optimizer_path``, ``race``.
Draw: ``plot_paths``, ``plot_loss_curves``.
"""

from __future__ import annotations

import numpy as np

from coursekit.nn.optim import ALIASES, optimizer_names, resolve_optimizer
from coursekit.nn.optim import OPTIMIZERS as _REGISTRY
from coursekit.viz.surfaces import Surface, get_surface, plot_surface_contours

__all__ = ["OPTIMIZERS", "PLAIN_GRADIENT", "make_optimizer", "optimizer_path", "race", "plot_paths",
           "plot_loss_curves"]

_RACE_NAME = {canonical: alias for alias, canonical in ALIASES.items()}  # "SGD" -> "GD"
#: Optimizer names in the race: every optimizer of ``coursekit.nn.optim.OPTIMIZERS``, in
#: teaching order. SGD is called "GD" here (each step uses the exact gradient of the
#: surface); both spellings are accepted.
OPTIMIZERS = tuple(_RACE_NAME.get(n, n) for n in optimizer_names())
#: Methods whose step is lr × gradient (they use ``lr_gradient``); the others
#: rescale the gradient per coordinate (``lr_adaptive``), except AdaDelta,
#: which has no learning rate to tune (torch's lr = 1.0).
PLAIN_GRADIENT = tuple(_RACE_NAME.get(n, n) for n in optimizer_names("gradient"))
_PALETTE = ["#d62728", "#1f77b4", "#17becf", "#9467bd", "#2ca02c", "#8c564b", "#ff7f0e", "#e377c2",
            "#7f7f7f", "#bcbd22"]
#: A colour per optimizer (both spellings of SGD).
COLORS = dict(zip(OPTIMIZERS, _PALETTE))
COLORS.update({canonical: COLORS[alias] for alias, canonical in ALIASES.items() if alias in COLORS})

# Beyond this distance from the origin a path has diverged (and floats soon overflow).
_DIVERGED = 1e6


def make_optimizer(name: str, params: dict, lr_gradient: float = 0.01, lr_adaptive: float = 0.05,
                   momentum: float = 0.9, beta1: float = 0.9, beta2: float = 0.999,
                   rho: float = 0.9):
    """A ``coursekit.nn.optim`` optimizer over ``params`` for the race entry ``name``.

    GD = SGD (either spelling); momentum and Nesterov = SGD(momentum, nesterov); RMSprop uses
    ``rho`` as its decay ``alpha`` (0.9 as Hinton proposed; torch's 0.99 makes
    the first, bias-uncorrected steps 10× lr); AdaDelta uses ``rho`` and
    lr = 1 (torch's default); Adam uses ``(beta1, beta2)``.
    """
    from coursekit.nn import optim

    canonical = resolve_optimizer(name)
    for arg, value in (("lr_gradient", lr_gradient), ("lr_adaptive", lr_adaptive)):
        if not value > 0:
            raise ValueError(f"{arg} must be > 0, got {value}")
    kind = _REGISTRY[canonical].kind
    lr = lr_gradient if kind == "gradient" else lr_adaptive if kind == "adaptive" else None
    # RMSprop's decay is rho here (0.9), not the registry's default 0.99 (torch's).
    return optim.make_optimizer(canonical, params, lr=lr, momentum=momentum, alpha=rho, rho=rho,
                                betas=(beta1, beta2))


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


def plot_paths(ax, surface: Surface, results: dict, grid=None, legend: bool = True,
               contours: bool = True):
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
