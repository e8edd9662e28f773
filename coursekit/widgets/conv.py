"""ConvExplorer: a kernel sliding over a photo or a small grid, with the arithmetic shown."""

from __future__ import annotations

from functools import lru_cache

import ipywidgets as widgets
import numpy as np

from coursekit.data import load_photo
from coursekit.viz.conv import (
    KERNEL_PRESETS,
    conv_output_size,
    convolve,
    output_size_formula,
    parse_kernel,
    plot_grid_values,
    plot_image,
    plot_receptive_field,
    plot_sliding_step,
    step_equation,
)
from coursekit.widgets.base import FigureWidget, new_static_figure


@lru_cache(maxsize=16)
def _gray_photo(name: str, size) -> np.ndarray:
    """``load_photo(name, gray=True, size=size)``, loaded once per session (read-only)."""
    photo = load_photo(name, gray=True, size=size)
    photo.flags.writeable = False  # shared between widgets
    return photo


SOURCES = ("small grid", "camera", "coins", "text", "chelsea", "astronaut")


def _kernel_text(kernel) -> str:
    return "; ".join(" ".join(f"{v:.4g}" for v in row) for row in np.asarray(kernel))


class ConvExplorer(FigureWidget):
    """2-D convolution (``coursekit.nn.functional.conv2d_forward``) made visible.

    Controls: ``source`` (a small integer grid, where the products are written
    out, or a scikit-image photo), ``preset`` (kernel presets) and ``kernel``
    (typed values, e.g. "1 0 -1; 2 0 -2; 1 0 -1"), ``padding``, ``stride``,
    ``dilation``, ``position`` (which output pixel is being computed; ``play``
    animates it), ``n_layers`` (stack this convolution to see the receptive
    field grow). ``formula`` shows the output-size formula with the numbers.
    """

    figsize = (12.0, 3.6)

    def __init__(self, source: str = "small grid", preset: str = "vertical edges (Sobel x)",
                 grid_size: int = 6, photo_size: int = 128, seed: int = 0):
        super().__init__()
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
        rng = np.random.default_rng(seed)
        self.grid = rng.integers(0, 10, size=(grid_size, grid_size)).astype(float)
        self.photo_size = photo_size
        self.source = widgets.Dropdown(options=SOURCES, value=source, description="input")
        self.preset = widgets.Dropdown(options=tuple(KERNEL_PRESETS), value=preset,
                                       description="preset")
        self.kernel = widgets.Text(value=_kernel_text(KERNEL_PRESETS[preset]), description="kernel",
                                   continuous_update=False, layout=widgets.Layout(width="380px"))
        self.padding = widgets.IntSlider(value=0, min=0, max=4, description="padding p")
        self.stride = widgets.IntSlider(value=1, min=1, max=4, description="stride s")
        self.dilation = widgets.IntSlider(value=1, min=1, max=3, description="dilation d")
        self.position = widgets.IntSlider(value=0, min=0, max=0, description="output pixel")
        self.play = widgets.Play(value=0, min=0, max=0, interval=700, description="animate")
        widgets.jslink((self.play, "value"), (self.position, "value"))
        self.n_layers = widgets.IntSlider(value=2, min=1, max=6, description="stacked layers")
        self.formula = widgets.HTML()
        self.preset.observe(self._on_preset, names="value")
        self._build_ui()
        self.ui.children = (*self.ui.children[:-2], widgets.HBox([self.play, self.formula]),
                            *self.ui.children[-2:])
        self.update()

    def _controls(self):
        return [self.source, self.preset, self.kernel, self.padding, self.stride, self.dilation,
                self.position, self.n_layers]

    def _on_preset(self, change):
        with self.hold_redraws():
            self.kernel.value = _kernel_text(KERNEL_PRESETS[change["new"]])

    # ---------------------------------------------------------------- state
    def image_array(self) -> np.ndarray:
        name = self.source.value
        if name == "small grid":
            return self.grid
        return _gray_photo(name, self.photo_size)

    def kernel_array(self) -> np.ndarray:
        return parse_kernel(self.kernel.value)

    def output(self) -> np.ndarray:
        return convolve(self.image_array(), self.kernel_array(), self.stride.value,
                        self.padding.value, self.dilation.value)

    def state(self) -> dict:
        """The source, kernel, padding, stride, dilation, window position, the output, the size
        formula and the current sum (the testing contract)."""
        return {"source": self.source.value, "kernel": self.kernel_array(),
                "padding": self.padding.value, "stride": self.stride.value,
                "dilation": self.dilation.value, "position": self.position.value,
                "output": self._output, "formula": self.formula.value, "sum": self.message.value}

    # ---------------------------------------------------------------- drawing
    def layout_key(self):
        return self.source.value == "small grid"

    def make_axes(self, figure):
        axes = figure.subplots(1, 4, width_ratios=(1.2, 1.0, 0.7, 0.9))
        return dict(zip(("input", "output", "kernel", "field"), axes))

    def draw_axes(self, axes):
        image = self.image_array()
        try:
            kernel = self.kernel_array()
            size = [conv_output_size(n, k, padding=self.padding.value, stride=self.stride.value,
                                     dilation=self.dilation.value)
                    for n, k in zip(image.shape, kernel.shape)]
        except ValueError as error:
            self.message.value = f"<b style='color:#b00'>{error}</b>"
            self._output = None
            for ax in axes.values():
                ax.axis("off")
            return
        self._output = output = self.output()
        n_positions = size[0] * size[1]
        with self.hold_redraws():
            self.position.max = self.play.max = n_positions - 1
        p, s, d = self.padding.value, self.stride.value, self.dilation.value
        self.formula.value = ("output size: " + output_size_formula(image.shape[0], kernel.shape[0], p, s, d)
                              + (f" (rows) × {size[1]} (columns)" if size[0] != size[1] else ""))
        row, col = divmod(self.position.value, size[1])
        if self.source.value == "small grid":
            plot_sliding_step(axes["input"], axes["output"], image, kernel, row, col, s, p, d)
            self.message.value = f"<code>{step_equation(image, kernel, row, col, s, p, d)}</code>"
        else:
            plot_image(axes["input"], np.pad(image, p),
                       title=f"input {image.shape[0]}×{image.shape[1]}"
                       + (f" + padding {p}" if p else ""))
            k_eff = d * (kernel.shape[0] - 1) + 1
            from matplotlib.patches import Rectangle

            axes["input"].add_patch(Rectangle((col * s - 0.5, row * s - 0.5), k_eff, k_eff,
                                              fill=False, edgecolor="tab:red", lw=1.5))
            plot_image(axes["output"], output, title=f"output {output.shape[0]}×{output.shape[1]}",
                       symmetric=abs(kernel.sum()) < 1e-9)  # zero-sum kernels (edges) give signed maps
            self.message.value = f"output pixel ({row}, {col}) = {output[row, col]:.4g}"
        plot_grid_values(axes["kernel"], kernel, title=f"kernel {kernel.shape[0]}×{kernel.shape[1]}"
                         + (f", dilation {d}" if d > 1 else ""), cmap="RdBu_r", fmt="{:.3g}",
                         vmin=-np.abs(kernel).max() - 1e-9, vmax=np.abs(kernel).max() + 1e-9,
                         fontsize=8)
        layers = [(kernel.shape[0], s, d)] * self.n_layers.value
        plot_receptive_field(axes["field"], layers)

    def render_static(self, presets=tuple(KERNEL_PRESETS), source: str = "camera"):
        """The photo and its convolution with each kernel preset (one panel each)."""
        photo = _gray_photo(source, self.photo_size)
        figure, axes = new_static_figure(len(presets) + 1, 3, panel_size=(2.6, 2.6),
                                         title=f"3×3 kernels on the '{source}' photo (padding 1, stride 1)")
        plot_image(axes[0], photo, title="input")
        for ax, name in zip(axes[1:], presets):
            out = convolve(photo, KERNEL_PRESETS[name], padding=1)
            plot_image(ax, out, title=name, symmetric=abs(np.sum(KERNEL_PRESETS[name])) < 1e-9)
        return figure
