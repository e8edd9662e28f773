"""One figure style for the whole course.

``use_style()`` sets matplotlib defaults (called by ``new_figure``);
``new_figure`` makes a grid of Axes of a consistent size; ``label`` sets a
title and axis labels in one call; ``CLASS_COLORS`` colours class ids the
same way in every chapter.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

CLASS_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.autolayout": False,
    "figure.constrained_layout.use": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "image.cmap": "viridis",
    "axes.prop_cycle": mpl.cycler(color=CLASS_COLORS),
}


def use_style() -> None:
    """Apply the course style to matplotlib's global settings."""
    mpl.rcParams.update(STYLE)


def class_cmap(n_classes: int) -> ListedColormap:
    """A discrete colormap whose colour i is the colour of class i."""
    if not 1 <= n_classes <= len(CLASS_COLORS):
        raise ValueError(f"n_classes must be 1..{len(CLASS_COLORS)}, got {n_classes}")
    return ListedColormap(CLASS_COLORS[:n_classes])


def new_figure(nrows: int = 1, ncols: int = 1, size: float = 3.6, aspect: float = 1.0,
               squeeze: bool = True, **kwargs):
    """A figure with an nrows x ncols grid of Axes, each about ``size`` inches wide.

    Returns ``(fig, axes)`` like ``plt.subplots``.
    """
    use_style()
    figsize = (size * ncols, size * aspect * nrows)
    return plt.subplots(nrows, ncols, figsize=figsize, squeeze=squeeze, **kwargs)


def label(ax, title: str | None = None, xlabel: str | None = None,
          ylabel: str | None = None):
    """Set title and axis labels of ``ax``; returns ``ax``."""
    if title is not None:
        ax.set_title(title)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    return ax


def show_images(axes, images, titles=None, cmap="gray", vmin=None, vmax=None):
    """Draw a list of 2-D images on a sequence of Axes, without ticks."""
    axes = np.ravel(axes)
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < len(images):
            ax.imshow(np.asarray(images[i]), cmap=cmap, vmin=vmin, vmax=vmax)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    return axes
