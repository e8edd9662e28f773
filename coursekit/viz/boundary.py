"""Decision boundaries of 2-D classifiers: compute a grid, then draw it."""

from __future__ import annotations

import numpy as np

from .style import CLASS_COLORS, class_cmap


def decision_boundary(predict, X, resolution: int = 200, margin: float = 0.5):
    """Evaluate a classifier on a grid that covers the points ``X``.

    ``predict`` maps an (M, 2) array to either class ids (M,) int, scores or
    probabilities for class 1 (M,) float, or class probabilities (M, K).
    Returns ``(xx, yy, zz)``, each (resolution, resolution): grid coordinates
    and the prediction, which is a class id (int) when ``predict`` returns
    ids or (M, K) scores, or the float output (e.g. P(class 1)) otherwise.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got {X.shape}")
    if int(resolution) < 2:
        raise ValueError(f"resolution must be >= 2, got {resolution}")
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(low[0], high[0], resolution),
                         np.linspace(low[1], high[1], resolution))
    grid = np.c_[xx.ravel(), yy.ravel()]
    out = np.asarray(predict(grid))
    if out.ndim == 2 and out.shape[1] > 1:
        out = out.argmax(axis=1)
    elif out.ndim == 2:
        out = out[:, 0]
    if out.shape != (grid.shape[0],):
        raise ValueError(
            f"predict returned shape {out.shape}; expected ({grid.shape[0]},) or "
            f"({grid.shape[0]}, K) for {grid.shape[0]} grid points")
    return xx, yy, out.reshape(xx.shape)


def plot_dataset(ax, X, y, s: float = 14, alpha: float = 0.9):
    """Scatter 2-D points coloured by class id."""
    y = np.asarray(y).astype(int)
    for k in np.unique(y):
        ax.scatter(X[y == k, 0], X[y == k, 1], s=s, alpha=alpha,
                   color=CLASS_COLORS[k % len(CLASS_COLORS)], edgecolor="white",
                   linewidth=0.4, label=f"class {k}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def plot_decision_boundary(ax, xx, yy, zz, X=None, y=None, title=None, n_classes=None):
    """Draw a grid from ``decision_boundary`` (and optionally the points).

    Integer ``zz`` is drawn as coloured class regions; float ``zz`` as a
    probability map with its 0.5 contour.
    """
    if np.issubdtype(zz.dtype, np.integer):
        k = n_classes or int(max(zz.max(), 0 if y is None else np.max(y))) + 1
        ax.contourf(xx, yy, zz, levels=np.arange(k + 1) - 0.5, cmap=class_cmap(max(k, 2)),
                    alpha=0.25)
        if k > 1:
            ax.contour(xx, yy, zz, levels=np.arange(k) + 0.5, colors="k", linewidths=0.6)
    else:
        ax.contourf(xx, yy, zz, levels=20, cmap="RdBu_r", alpha=0.35, vmin=0, vmax=1)
        ax.contour(xx, yy, zz, levels=[0.5], colors="k", linewidths=1.0)
    if X is not None and y is not None:
        plot_dataset(ax, X, y)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax
