"""LossLandscape: 1-D interpolation and 2-D slices of a trained torch model's loss."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from coursekit.viz.landscape import (
    NORMALIZATIONS,
    get_weights,
    interpolate_1d,
    loss_function,
    plot_interpolation,
    plot_slice,
    project_trajectory,
    random_direction,
    slice_2d,
    trajectory_directions,
)
from coursekit.widgets.base import FigureWidget, new_static_figure

DIRECTIONS = ("random", "trajectory PCA")


class LossLandscape(FigureWidget):
    """Loss of a trained ``model`` around its weights.

    model: a torch model (its current weights are the centre); X, y: data the
    loss is measured on; criterion: loss function (default cross-entropy);
    snapshots: (n, n_weights) flat weights recorded during training (e.g.
    ``coursekit.train.WeightSnapshots`` → ``history.snapshots``), drawn as the
    trajectory; start: weights for the 1-D interpolation (default the first
    snapshot). Controls: ``normalization`` (filter / layer / none),
    ``directions`` (random, or the top-2 PCA directions of the trajectory),
    ``span``, ``resolution``, ``seed``.
    """

    figsize = (10.0, 4.0)

    def __init__(self, model, X, y, criterion=None, snapshots=None, start=None, resolution: int = 21,
                 span: float = 1.0, seed: int = 0):
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
        self.normalization = widgets.Dropdown(options=NORMALIZATIONS, value="filter", description="normalize")
        has_path = self.snapshots is not None and len(self.snapshots) >= 3
        self.directions = widgets.Dropdown(options=DIRECTIONS if has_path else DIRECTIONS[:1], value="random",
                                           description="directions")
        self.span = widgets.FloatLogSlider(value=span, base=10, min=-2, max=1, step=0.1, description="span ±")
        self.resolution = widgets.IntSlider(value=resolution, min=5, max=51, step=2, description="grid")
        self.seed = widgets.IntSlider(value=seed, min=0, max=20, description="seed")
        self.result = {}
        self._alphas = np.linspace(-0.5, 1.5, 41)
        self._interpolation = None
        self._build_ui()
        self.update()

    def _controls(self):
        return [self.normalization, self.directions, self.span, self.resolution, self.seed]

    def compute(self, normalization=None, directions=None) -> dict:
        normalization = normalization or self.normalization.value
        directions = directions or self.directions.value
        trajectory = None
        if directions == "random":
            d1 = random_direction(self.model, self.center, normalization, seed=self.seed.value)
            d2 = random_direction(self.model, self.center, normalization, seed=self.seed.value + 1000)
            coords = np.linspace(-self.span.value, self.span.value, self.resolution.value)
            if self.snapshots is not None:
                trajectory = project_trajectory(self.snapshots, self.center, d1, d2)
        else:
            d1, d2, _ = trajectory_directions(self.snapshots, self.center)
            trajectory = project_trajectory(self.snapshots, self.center, d1, d2)
            reach = np.abs(trajectory).max() * 1.25 * self.span.value
            coords = np.linspace(-reach, reach, self.resolution.value)
        Z = slice_2d(self.model, self.loss_fn, self.center, d1, d2, coords)
        return {"coords": coords, "Z": Z, "trajectory": trajectory, "normalization": normalization,
                "directions": directions, "d1_norm": float(np.linalg.norm(d1))}

    def interpolation(self):
        if self.start is None:
            return None
        if self._interpolation is None:  # independent of the controls: compute once
            self._interpolation = interpolate_1d(self.model, self.loss_fn, self.start, self.center, self._alphas)
        return self._interpolation

    def draw(self, figure):
        self.result = self.compute()
        interpolation = self.interpolation()
        axes = figure.subplots(1, 2 if interpolation is not None else 1, squeeze=False)[0]
        if interpolation is not None:
            plot_interpolation(axes[0], self._alphas, interpolation, log=True)
            axes[0].set_title("1-D: from the initial to the trained weights", fontsize=10)
        ax = axes[-1]
        r = self.result
        plot_slice(ax, r["coords"], r["coords"], r["Z"], r["trajectory"])
        label = (f"{r['normalization']}-normalized random directions" if r["directions"] == "random"
                 else "PCA directions of the trajectory")
        ax.set_title(f"2-D slice: {label}", fontsize=10)
        self.message.value = (f"loss at the centre {self.loss_fn(self.model):.4g}; "
                              f"‖d1‖ = {r['d1_norm']:.3g}, grid {self.resolution.value}² = "
                              f"{self.resolution.value ** 2} forward passes")

    def state(self) -> dict:
        return {"normalization": self.normalization.value, "directions": self.directions.value,
                "span": self.span.value, "Z": self.result["Z"].copy(), "coords": self.result["coords"].copy()}

    def render_static(self):
        """The same slice with filter, layer and no normalization (why normalization matters),
        plus the 1-D interpolation when a start point is known."""
        interpolation = self.interpolation()
        n = len(NORMALIZATIONS) + (interpolation is not None)
        figure, axes = new_static_figure(n, n, panel_size=(3.6, 3.2),
                                         title="Loss landscape around the trained weights")
        if interpolation is not None:
            plot_interpolation(axes[0], self._alphas, interpolation, log=True)
            axes[0].set_title("1-D interpolation", fontsize=10)
        results = [self.compute(normalization=normalization, directions="random")
                   for normalization in NORMALIZATIONS]
        # one colour scale for the three slices, so their sharpness can be compared
        logs = np.log10(np.clip(np.concatenate([r["Z"].ravel() for r in results]), 1e-6, None))
        logs = logs[np.isfinite(logs)]
        levels = np.linspace(logs.min(), logs.max(), 20)
        for ax, r in zip(axes[n - len(NORMALIZATIONS):], results):
            contour = plot_slice(ax, r["coords"], r["coords"], r["Z"], r["trajectory"], levels=levels,
                                 colorbar=False)
            ax.set_title(f"{r['normalization']} normalization, ±{self.span.value:g}", fontsize=10)
        figure.colorbar(contour, ax=axes[-1], label="log10 loss")
        return figure
