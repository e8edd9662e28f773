"""AutoencoderExplorer: one image's code, its reconstruction and its nearest neighbours
by code and by pixels."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from coursekit.viz.autoencoder import encode_decode, plot_code, plot_retrieval, retrieve
from coursekit.viz.latent import plot_image_grid, tile_images
from coursekit.widgets.base import FigureWidget, new_static_figure, wide_label


class AutoencoderExplorer(FigureWidget):
    """images (n, H, W) with labels (n,), ``encode`` (rows (n, H*W) -> codes (n, m)) and
    ``decode`` (codes -> rows). Controls: ``item`` (which image), ``noise`` (std of
    Gaussian noise added to it before encoding, seeded), ``k`` (neighbours shown) and
    ``metric`` (euclidean / cosine). Neighbours are searched among the other images,
    once in code space and once in pixel space."""

    figsize = (9.0, 3.9)

    def __init__(self, images, labels, encode, decode, item: int = 0, k: int = 6, seed: int = 0):
        super().__init__()
        self.images = np.asarray(images, dtype=float)
        if self.images.ndim != 3:
            raise ValueError(f"images must have shape (n, H, W), got {self.images.shape}")
        self.labels = np.asarray(labels)
        if len(self.labels) != len(self.images):
            raise ValueError(f"labels has {len(self.labels)} entries for {len(self.images)} images")
        self.encode, self.decode = encode, decode
        self.pixels = self.images.reshape(len(self.images), -1)
        self.codes = np.asarray(encode(self.pixels), dtype=float)
        self.seed = seed
        self.item = widgets.IntSlider(value=item, min=0, max=len(self.images) - 1,
                                      description="image #",
                                      continuous_update=False)
        self.noise = widgets.FloatSlider(value=0.0, min=0.0, max=0.5, step=0.05,
                                         description="input noise σ", continuous_update=False)
        self.k = widgets.IntSlider(value=k, min=1, max=min(10, len(self.images) - 1),
                                   description="neighbours")
        self.metric = widgets.Dropdown(options=("euclidean", "cosine"), value="euclidean",
                                       description="metric")
        wide_label(self.noise)
        self._view = None
        self._build_ui()
        self.update()

    def _controls(self):
        return [self.item, self.noise, self.k, self.metric]

    def compute(self, item: int, noise: float, k: int, metric: str) -> dict:
        """Everything the picture shows for one setting of the controls (plain arrays)."""
        x = self.pixels[item]
        if noise > 0:
            rng = np.random.default_rng([self.seed, item])
            x = np.clip(x + noise * rng.standard_normal(x.shape), 0.0, 1.0)
        code, reconstruction = encode_decode(self.encode, self.decode, x)
        by_code, code_scores = retrieve(self.codes, code, k, metric, exclude=item)
        by_pixels, pixel_scores = retrieve(self.pixels, x, k, metric, exclude=item)
        return {"item": item, "label": self.labels[item].item(), "noise": noise, "k": k,
                "metric": metric, "input": x.reshape(self.images.shape[1:]), "code": code,
                "reconstruction": reconstruction.reshape(self.images.shape[1:]),
                "reconstruction_error": float(np.mean((reconstruction - self.pixels[item]) ** 2)),
                "by_code": by_code, "by_code_scores": code_scores,
                "by_pixels": by_pixels, "by_pixels_scores": pixel_scores,
                "code_label_matches": int(np.sum(self.labels[by_code] == self.labels[item])),
                "pixel_label_matches": int(np.sum(self.labels[by_pixels] == self.labels[item]))}

    def layout_key(self):
        return "fixed"  # the panels do not depend on any control: lay them out once

    def make_axes(self, figure):
        grid = figure.add_gridspec(3, 3, height_ratios=(1.5, 1, 1))
        return {"input": figure.add_subplot(grid[0, 0]), "code": figure.add_subplot(grid[0, 1]),
                "reconstruction": figure.add_subplot(grid[0, 2]),
                "by_code": figure.add_subplot(grid[1, :]),
                "by_pixels": figure.add_subplot(grid[2, :])}

    def _draw_view(self, axes, view):
        lo, hi = 0.0, 1.0
        axes["input"].imshow(view["input"], cmap="gray_r", vmin=lo, vmax=hi)
        axes["input"].set_title(f"input #{view['item']} (label {view['label']}"
                                + (f", noise σ={view['noise']:.2f})" if view["noise"] else ")"))
        axes["reconstruction"].imshow(view["reconstruction"], cmap="gray_r", vmin=lo, vmax=hi)
        axes["reconstruction"].set_title(f"reconstruction (MSE {view['reconstruction_error']:.4f})")
        for name in ("input", "reconstruction"):
            axes[name].set_xticks([])
            axes[name].set_yticks([])
            axes[name].grid(False)
        plot_code(axes["code"], view["code"], title=f"its code ({len(view['code'])} numbers)")
        for name, what, matches in (("by_code", "code", "code_label_matches"),
                                    ("by_pixels", "pixels", "pixel_label_matches")):
            indices = view[name]
            plot_retrieval(axes[name], self.images[indices], self.labels[indices],
                           title=f"nearest by {what} ({view['metric']}): "
                                 f"{view[matches]} of {view['k']} share its label")

    def draw_axes(self, axes):
        self._view = self.compute(self.item.value, self.noise.value, self.k.value,
                                  self.metric.value)
        self._draw_view(axes, self._view)

    def redraw_panels(self, axes):
        """Fast update: new pixels and titles in the image panels (clearing an Axes rebuilds
        its ticks, the slow part of a redraw); only the bar chart is drawn again."""
        view = self._view = self.compute(self.item.value, self.noise.value, self.k.value,
                                         self.metric.value)
        axes["input"].images[0].set_data(view["input"])
        axes["input"].set_title(f"input #{view['item']} (label {view['label']}"
                                + (f", noise σ={view['noise']:.2f})" if view["noise"] else ")"))
        axes["reconstruction"].images[0].set_data(view["reconstruction"])
        axes["reconstruction"].set_title(f"reconstruction (MSE {view['reconstruction_error']:.4f})")
        axes["code"].clear()
        plot_code(axes["code"], view["code"], title=f"its code ({len(view['code'])} numbers)")
        h, w = self.images.shape[1:]
        for name, what, matches in (("by_code", "code", "code_label_matches"),
                                    ("by_pixels", "pixels", "pixel_label_matches")):
            ax, indices = axes[name], view[name]
            mosaic = tile_images(self.images[indices][None])
            image = ax.images[0]
            image.set_data(mosaic)
            image.set_extent((-0.5, mosaic.shape[1] - 0.5, mosaic.shape[0] - 0.5, -0.5))
            ax.set_xlim(-0.5, mosaic.shape[1] - 0.5)
            ax.set_xticks(np.arange(len(indices)) * (w + 1) + w / 2 - 0.5)
            ax.set_xticklabels([str(label) for label in self.labels[indices]], fontsize=9)
            ax.set_title(f"nearest by {what} ({view['metric']}): {view[matches]} of {view['k']} share its label")

    def state(self) -> dict:
        """The image, its noise, the code, the reconstruction error and the k nearest neighbours by
        code and by pixels with their label matches (the testing contract)."""
        view = self._view
        return {"item": view["item"], "label": view["label"], "noise": view["noise"],
                "k": view["k"], "metric": view["metric"], "code": view["code"].copy(),
                "reconstruction_error": view["reconstruction_error"],
                "by_code": view["by_code"].tolist(), "by_pixels": view["by_pixels"].tolist(),
                "code_label_matches": view["code_label_matches"],
                "pixel_label_matches": view["pixel_label_matches"]}

    def render_static(self, items=(0, 1, 2)):
        """For each item: input, reconstruction, and its neighbours by code and by pixels."""
        figure, axes = new_static_figure(2 * len(items), 2, panel_size=(4.4, 1.5),
                                         title="Autoencoder retrieval: top row of each pair by code, "
                                               "bottom by pixels")
        for row, item in enumerate(items):
            view = self.compute(item, 0.0, self.k.value, self.metric.value)
            plot_image_grid(axes[2 * row], np.stack([view["input"], view["reconstruction"]])[None],
                            title=f"#{item} (label {view['label']}) and its reconstruction")
            both = np.concatenate([self.images[view["by_code"]], self.images[view["by_pixels"]]])
            plot_image_grid(axes[2 * row + 1], both.reshape(2, view["k"], *self.images.shape[1:]),
                            title=f"by code: {view['code_label_matches']}/{view['k']} same label; "
                                  f"by pixels: {view['pixel_label_matches']}/{view['k']}")
        return figure
