"""LatentExplorer: walk the latent space of a decoder (VAE or GAN)."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from coursekit.viz.latent import decode_images, interpolate_codes, plot_image_grid, traversal_grid
from coursekit.widgets.base import FigureWidget, new_static_figure


class LatentExplorer(FigureWidget):
    """A traversal grid over two latent dimensions, the image of the slider code and an
    interpolation between two codes.

    decoder: callable codes (n, latent_dim) -> images; latent_dim: size of z;
    image_shape: (H, W) when the decoder returns flat vectors; codes: optional
    (m, latent_dim) codes of real examples (e.g. encoder means) to interpolate
    between; code_labels: their names. Controls: ``dim_x``, ``dim_y``,
    ``extent`` (traversal range ±), ``z`` (one slider per dimension = the base
    code), ``code_a``, ``code_b``, ``steps``, ``method`` (linear / slerp).
    """

    figsize = (12.0, 4.6)

    def __init__(self, decoder, latent_dim: int, image_shape=None, codes=None, code_labels=None,
                 grid_size: int = 7, seed: int = 0):
        super().__init__()
        if latent_dim < 2:
            raise ValueError(f"latent_dim must be >= 2 to traverse two dimensions, got {latent_dim}")
        self.decoder = decoder
        self.latent_dim = latent_dim
        self.image_shape = image_shape
        self.grid_size = grid_size
        if codes is None:
            codes = np.random.default_rng(seed).standard_normal((8, latent_dim))
        self.codes = np.asarray(codes, dtype=float)
        if self.codes.ndim != 2 or self.codes.shape[1] != latent_dim:
            raise ValueError(f"codes must have shape (m, {latent_dim}), got {self.codes.shape}")
        labels = code_labels if code_labels is not None else [f"code {i}" for i in range(len(self.codes))]
        options = [(f"{label} (#{i})", i) for i, label in enumerate(labels)]
        dims = list(range(latent_dim))
        self.dim_x = widgets.Dropdown(options=dims, value=1, description="grid x: z[·]")
        self.dim_y = widgets.Dropdown(options=dims, value=0, description="grid y: z[·]")
        self.extent = widgets.FloatSlider(value=2.5, min=0.5, max=5.0, step=0.25,
                                          description="range ±")
        self.z = [widgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.1, description=f"z[{i}]",
                                      continuous_update=False) for i in range(latent_dim)]
        self.code_a = widgets.Dropdown(options=options, value=0, description="from")
        self.code_b = widgets.Dropdown(options=options, value=min(1, len(options) - 1),
                                       description="to")
        self.steps = widgets.IntSlider(value=8, min=2, max=16, description="steps")
        self.method = widgets.Dropdown(options=("linear", "slerp"), value="linear",
                                       description="path")
        self.grid_images = None
        self._build_ui()
        sliders = widgets.GridBox(self.z,
                                  layout=widgets.Layout(grid_template_columns="repeat(4, 1fr)"))
        self.ui.children = (*self.ui.children[:-2], sliders, *self.ui.children[-2:])
        for slider in self.z:
            slider.observe(self._on_change, names="value")
        self.update()

    def _controls(self):
        return [self.dim_y, self.dim_x, self.extent, self.code_a, self.code_b, self.steps,
                self.method]

    def base_code(self) -> np.ndarray:
        return np.array([s.value for s in self.z])

    def draw(self, figure):
        dims = (self.dim_y.value, self.dim_x.value)
        if dims[0] == dims[1]:
            self.message.value = "<b style='color:#b00'>choose two different dimensions for the grid</b>"
            figure.subplots().axis("off")
            return
        values = np.linspace(-self.extent.value, self.extent.value, self.grid_size)
        self.grid_images, _ = traversal_grid(self.decoder, self.base_code(), dims, values,
                                             self.image_shape)
        single = decode_images(self.decoder, self.base_code()[None], self.image_shape)
        path = interpolate_codes(self.codes[self.code_a.value], self.codes[self.code_b.value],
                                 self.steps.value, self.method.value)
        strip = decode_images(self.decoder, path, self.image_shape)
        grid = figure.add_gridspec(2, 2, width_ratios=(1.4, 1), height_ratios=(1, 1))
        ax_grid = figure.add_subplot(grid[:, 0])
        ax_single = figure.add_subplot(grid[0, 1])
        ax_strip = figure.add_subplot(grid[1, 1])
        plot_image_grid(ax_grid, self.grid_images, values, dims,
                        title="traversal of two latent dimensions")
        plot_image_grid(ax_single, single, title="decoder(z) for the sliders' z")
        plot_image_grid(ax_strip, strip[None], title=f"{self.method.value} interpolation, "
                                                     f"{self.code_a.label} → {self.code_b.label}")
        self.message.value = ""

    def state(self) -> dict:
        """The latent dimensions traversed, the sliders' z and the decoded grid (the testing
        contract)."""
        return {"dims": (self.dim_y.value, self.dim_x.value), "z": self.base_code(),
                "grid_images": None if self.grid_images is None else self.grid_images.copy()}

    def render_static(self, dim_pairs=((0, 1), (2, 3))):
        """A traversal grid for each pair of dimensions and one interpolation strip."""
        pairs = [p for p in dim_pairs if max(p) < self.latent_dim]
        figure, axes = new_static_figure(len(pairs) + 1, len(pairs) + 1, panel_size=(3.6, 3.6),
                                         title="Latent-space traversals and interpolation")
        values = np.linspace(-self.extent.value, self.extent.value, self.grid_size)
        for ax, dims in zip(axes, pairs):
            images, _ = traversal_grid(self.decoder, np.zeros(self.latent_dim), dims, values,
                                       self.image_shape)
            plot_image_grid(ax, images, values, dims, title=f"z[{dims[0]}] × z[{dims[1]}]")
        path = interpolate_codes(self.codes[self.code_a.value], self.codes[self.code_b.value], 8,
                                 "linear")
        strip = decode_images(self.decoder, path, self.image_shape)
        plot_image_grid(axes[-1], strip.reshape(2, 4, *strip.shape[1:]),
                        title=f"{self.code_a.label} → {self.code_b.label}")
        return figure
