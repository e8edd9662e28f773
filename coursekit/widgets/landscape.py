"""LossLandscape: 1-D interpolation and 2-D slices of a trained torch model's loss."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.ticker import MaxNLocator

from coursekit.viz.landscape import (
    DIRECTIONS,
    NORMALIZATIONS,
    get_weights,
    interpolate_1d,
    landscape_slice,
    loss_function,
    plot_interpolation,
    plot_slice,
)
from coursekit.viz.style import use_style
from coursekit.widgets.base import FigureWidget, StaticFigure


class LossLandscape(FigureWidget):
    """Loss of a trained ``model`` around its weights.

    model: a torch model (its current weights are the centre); X, y: data the
    loss is measured on; criterion: loss function (default cross-entropy);
    snapshots: (n, n_weights) flat weights recorded during training (e.g.
    ``coursekit.train.WeightSnapshots`` → ``history.snapshots``), drawn as the
    trajectory; start: weights for the 1-D interpolation (default the first
    snapshot). Controls: ``normalization`` (filter / layer / none; for
    random directions), ``directions`` ("random", or "pca": the top-2 PCA
    directions of the trajectory, offered when there are >= 2 snapshots),
    ``span`` (random: ± range in units of the directions; pca: zoom factor of
    the range that covers the path with a margin), ``resolution``, ``seed``.
    """

    figsize = (10.0, 4.0)

    def __init__(self, model, X, y, criterion=None, snapshots=None, start=None,
                 resolution: int = 21, span: float = 1.0, seed: int = 0):
        super().__init__()
        self.model = model
        self.loss_fn = loss_function(X, y, criterion)
        self.center = get_weights(model)
        self.snapshots = None if snapshots is None else np.asarray(snapshots, dtype=float)
        if self.snapshots is not None and self.snapshots.shape[1:] != self.center.shape:
            raise ValueError(f"snapshots must have shape (n, {self.center.size}) for this model, "
                             f"got {self.snapshots.shape}")
        if start is None and self.snapshots is not None:
            start = self.snapshots[0]
        self.start = None if start is None else np.asarray(start, dtype=float)
        self.normalization = widgets.Dropdown(options=NORMALIZATIONS, value="filter",
                                              description="normalize")
        has_path = self.snapshots is not None and len(self.snapshots) >= 2
        self.directions = widgets.Dropdown(options=DIRECTIONS if has_path else DIRECTIONS[:1],
                                           value="random", description="directions")
        self.span = widgets.FloatLogSlider(value=span, base=10, min=-2, max=1, step=0.1,
                                           description="span ±")
        self.resolution = widgets.IntSlider(value=resolution, min=5, max=51, step=2,
                                            description="grid")
        self.seed = widgets.IntSlider(value=seed, min=0, max=20, description="seed")
        self.result = {}
        self._alphas = np.linspace(-0.5, 1.5, 41)
        self._interpolation = None
        self._build_ui()
        self.update()

    def _controls(self):
        return [self.normalization, self.directions, self.span, self.resolution, self.seed]

    def compute(self, normalization=None, directions=None, resolution=None) -> dict:
        """The slice for the given (default: current) controls: coords1, coords2, Z
        (len(coords2), len(coords1)), the projected trajectory (n, 2) or None, the
        axis labels and ``path_in_plane`` (fraction of the path the plane holds, or None):
        ``coursekit.viz.landscape.landscape_slice`` of the model, its data and snapshots."""
        return landscape_slice(self.model, self.loss_fn, self.center, snapshots=self.snapshots,
                               directions=directions or self.directions.value,
                               normalization=normalization or self.normalization.value,
                               span=self.span.value, resolution=resolution or self.resolution.value,
                               seed=self.seed.value)

    def interpolation(self):
        if self.start is None:
            return None
        if self._interpolation is None:  # independent of the controls: compute once
            self._interpolation = interpolate_1d(self.model, self.loss_fn, self.start, self.center,
                                                 self._alphas)
        return self._interpolation

    def draw(self, figure):
        self.result = self.compute()
        interpolation = self.interpolation()
        axes = figure.subplots(1, 2 if interpolation is not None else 1, squeeze=False)[0]
        if interpolation is not None:
            plot_interpolation(axes[0], self._alphas, interpolation, log=True)
            axes[0].set_title("1-D: from the initial to the trained weights", fontsize=10)
        r = self.result
        plot_slice(axes[-1], r["coords1"], r["coords2"], r["Z"], r["trajectory"],
                   labels=r["labels"])
        axes[-1].set_title(f"2-D slice: {self._slice_name(r)}", fontsize=10)
        path = ("" if r["path_in_plane"] is None
                else f"; the plane holds {100 * r['path_in_plane']:.3g}% of the training path")
        self.message.value = (f"loss at the centre {self.loss_fn(self.model):.4g}; "
                              f"‖d1‖ = {r['d1_norm']:.3g}, grid {self.resolution.value}² = "
                              f"{self.resolution.value ** 2} forward passes{path}")

    @staticmethod
    def _slice_name(result) -> str:
        if result["directions"] == "random":
            return f"{result['normalization']}-normalized random directions"
        return "PCA plane of the training path"

    def state(self) -> dict:
        """The controls and the slice shown: Z, its coordinates and the share of the path
        the plane holds."""
        r = self.result
        return {"normalization": self.normalization.value, "directions": self.directions.value,
                "span": self.span.value, "Z": r["Z"].copy(), "coords1": r["coords1"].copy(),
                "coords2": r["coords2"].copy(), "path_in_plane": r["path_in_plane"]}

    def render_static(self):
        """Small multiples for the website. Top row: the 1-D interpolation (when a start
        point is known) and the training path on its PCA plane (when there are >= 2
        snapshots), loss contours computed on that plane. Bottom row: the same random
        plane with filter, layer and no normalization on one colour scale (why
        normalization matters); the share of the path each plane holds is printed on it."""
        interpolation = self.interpolation()
        has_path = "pca" in self.directions.options
        n_top = (interpolation is not None) + has_path
        use_style()
        n_columns = len(NORMALIZATIONS)
        figure = StaticFigure(figsize=(3.6 * n_columns, 3.2 * (1 + (n_top > 0)) + 0.4),
                              layout="constrained")
        FigureCanvasAgg(figure)
        figure.suptitle("Loss landscape around the trained weights")
        if n_top:
            top, bottom = figure.subfigures(2, 1)
            top_axes = top.subplots(1, n_top, squeeze=False)[0]
        else:
            bottom, top_axes = figure, []
        if interpolation is not None:
            plot_interpolation(top_axes[0], self._alphas, interpolation, log=True)
            top_axes[0].set_title("1-D interpolation", fontsize=10)
        if has_path:
            r = self.compute(directions="pca")
            plot_slice(top_axes[-1], r["coords1"], r["coords2"], r["Z"], r["trajectory"],
                       labels=r["labels"])
            top_axes[-1].set_title("training path on its PCA plane", fontsize=10)

        axes = bottom.subplots(1, n_columns, squeeze=False)[0]
        results = [self.compute(normalization=normalization, directions="random")
                   for normalization in NORMALIZATIONS]
        # one colour scale for the three slices, so their sharpness can be compared
        logs = np.log10(np.clip(np.concatenate([r["Z"].ravel() for r in results]), 1e-6, None))
        logs = logs[np.isfinite(logs)]
        levels = np.linspace(logs.min(), logs.max(), 20)
        for ax, r in zip(axes, results):
            plot_slice(ax, r["coords1"], r["coords2"], r["Z"], r["trajectory"], levels=levels,
                       colorbar=False, labels=r["labels"])
            name = "no" if r["normalization"] == "none" else r["normalization"]
            ax.set_title(f"random, {name} normalization, ±{self.span.value:g}", fontsize=10)
            if r["path_in_plane"] is not None:
                ax.text(0.03, 0.04, f"path in this plane: {100 * r['path_in_plane']:.2g}%",
                        transform=ax.transAxes, fontsize=7, color="w")
        contour = axes[-1].collections[0]  # plot_slice's filled contours, on the shared levels
        colorbar = bottom.colorbar(contour, ax=list(axes), label="log10 loss")
        colorbar.set_ticks([t for t in MaxNLocator(6).tick_values(levels[0], levels[-1])
                            if levels[0] <= t <= levels[-1]])  # round ticks, not the 20 level values
        return figure
