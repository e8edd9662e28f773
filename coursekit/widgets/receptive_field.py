"""ReceptiveField: pick a unit in a stack of layers and see the input pixels that feed it."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from coursekit.viz.conv import (
    PADDING_CHOICES,
    POOLING_CHOICES,
    layer_stack,
    plot_unit_footprint,
    stack_output_sizes,
    unit_footprint,
)
from coursekit.widgets.base import FigureWidget, new_static_figure, wide_label


def _stack_label(layers) -> str:
    names = []
    for layer in layers:
        k = layer["kernel_size"]
        if layer["kind"] == "pool":
            names.append("pool 2")
        else:
            extra = "".join(f" {key[0]}{layer[key]}" for key in ("stride", "dilation") if layer[key] > 1)
            names.append(f"conv {k}×{k}{extra}")
    return " → ".join(names)


class ReceptiveField(FigureWidget):
    """The input region that one unit of a stack of convolutions (and poolings) sees.

    Controls: ``n_layers`` (convolutions in the stack), ``kernel_size``, ``stride``,
    ``dilation``, ``pooling`` (2×2 max pooling after every layer, every 2nd layer or
    none), ``padding`` ("same" or "valid") and ``unit_row`` / ``unit_col`` (which unit of
    the last layer's map). The left panel shades every input pixel by the number of paths
    that lead from it to the unit (with all weights 1: the unit's gradient with respect to
    the input), the red box spans the pixels that feed it; the right panel shows the
    receptive field and the map size after every layer. ``input_size``: pixels per side.
    """

    figsize = (10.0, 4.2)

    def __init__(self, n_layers: int = 2, kernel_size: int = 3, stride: int = 1, dilation: int = 1,
                 pooling: str = "none", padding: str = "same", input_size: int = 32):
        super().__init__()
        if isinstance(input_size, bool) or int(input_size) != input_size or not 8 <= input_size <= 128:
            raise ValueError(f"input_size must be an integer from 8 to 128, got {input_size!r}")
        self.input_size = int(input_size)
        layer_stack(n_layers, kernel_size, stride, dilation, pooling,
                    padding)  # validates the arguments
        self.n_layers = widgets.IntSlider(value=n_layers, min=1, max=6, description="layers")
        self.kernel_size = widgets.Dropdown(options=(1, 3, 5, 7), value=kernel_size,
                                            description="kernel k")
        self.stride = widgets.Dropdown(options=(1, 2), value=stride, description="stride s")
        self.dilation = widgets.IntSlider(value=dilation, min=1, max=3, description="dilation d")
        self.pooling = widgets.Dropdown(options=POOLING_CHOICES, value=pooling,
                                        description="max pool 2×2")
        self.padding = widgets.Dropdown(options=PADDING_CHOICES, value=padding,
                                        description="padding")
        self.unit_row = widgets.IntSlider(value=0, min=0, max=0, description="unit row")
        self.unit_col = widgets.IntSlider(value=0, min=0, max=0, description="unit column")
        wide_label(self.pooling)
        self.footprint = None
        self._build_ui()
        self.update()

    def _controls(self):
        return [self.n_layers, self.kernel_size, self.stride, self.dilation, self.pooling,
                self.padding, self.unit_row, self.unit_col]

    def layers(self) -> list:
        return layer_stack(self.n_layers.value, self.kernel_size.value, self.stride.value,
                           self.dilation.value, self.pooling.value, self.padding.value)

    def _centre_unit(self):
        """Fit the unit sliders to the last map (after a change of the stack) and centre them."""
        try:
            side = stack_output_sizes(self.layers(), self.input_size)[-1]
        except ValueError:
            return
        with self.hold_redraws():
            for slider in (self.unit_row, self.unit_col):
                slider.max = side - 1
                slider.value = side // 2
        self._stack_key = self._current_stack_key()

    def _current_stack_key(self):
        return (self.n_layers.value, self.kernel_size.value, self.stride.value, self.dilation.value,
                self.pooling.value, self.padding.value)

    def update(self) -> None:
        # A new stack has a new last map: re-centre the unit there (also after ``set(...)``).
        if getattr(self, "_stack_key", None) != self._current_stack_key():
            self._centre_unit()
        super().update()

    # ------------------------------------------------------------------ state
    def state(self) -> dict:
        """The layer stack, the chosen unit, its receptive field and footprint, or the error
        (the testing contract)."""
        fp = self.footprint
        base = {"n_layers": self.n_layers.value, "kernel_size": self.kernel_size.value,
                "stride": self.stride.value, "dilation": self.dilation.value,
                "pooling": self.pooling.value, "padding": self.padding.value,
                "unit": (self.unit_row.value, self.unit_col.value), "message": self.message.value}
        if fp is None:
            return {**base, "error": True}
        return {**base, "error": False, "size": fp["size"], "jump": fp["jump"], "rows": fp["rows"],
                "cols": fp["cols"], "n_pixels": fp["n_pixels"],
                "output_sizes": list(fp["output_sizes"]), "counts": fp["counts"].copy()}

    # ------------------------------------------------------------------ drawing
    def layout_key(self):
        return "fixed"

    def make_axes(self, figure):
        axes = figure.subplots(1, 2, width_ratios=(1.0, 1.15))
        return dict(zip(("input", "layers"), axes))

    def draw_axes(self, axes):
        layers = self.layers()
        try:
            fp = unit_footprint(layers, self.input_size, (self.unit_row.value, self.unit_col.value))
        except ValueError as error:
            self.footprint = None
            self.message.value = f"<b style='color:#b00'>{error}</b>"
            for ax in axes.values():
                ax.text(0.5, 0.5, "no output", ha="center", va="center", transform=ax.transAxes)
                ax.set_xticks([])
                ax.set_yticks([])
            return
        self.footprint = fp
        (r0, r1), (c0, c1) = fp["rows"], fp["cols"]
        plot_unit_footprint(axes["input"], fp, title=f"input {self.input_size}×{self.input_size}: "
                            f"{r1 - r0 + 1}×{c1 - c0 + 1} pixels feed the unit")
        self._draw_layers(axes["layers"], layers, fp)
        last = fp["output_sizes"][-1]
        self.message.value = (
            f"{_stack_label(layers)}: unit ({self.unit_row.value}, {self.unit_col.value}) of the last "
            f"{last}×{last} map has a receptive field of <b>{fp['size']}×{fp['size']}</b> input pixels "
            f"(jump {fp['jump']}); it reads input rows {r0}–{r1}, columns {c0}–{c1} "
            f"({fp['n_pixels']} pixels with a path"
            + (", the rest of the field is padding)" if (r1 - r0 + 1) < fp["size"] else ")"))

    def _draw_layers(self, ax, layers, fp):
        from coursekit.viz.conv import receptive_field

        fields = [f["size"] for f in receptive_field(
            [(layer["kernel_size"], layer["stride"], layer["dilation"]) for layer in layers])]
        x = np.arange(1, len(layers) + 1)
        ax.plot(x, fields, marker="o", color="tab:red", label="receptive field (input pixels)")
        ax.plot(x, fp["output_sizes"], marker="s", color="tab:blue",
                label="map size after the layer")
        for xi, field in zip(x, fields):
            ax.annotate(str(field), (xi, field), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=9, color="tab:red")
        ax.set_xticks(x, [("P" if layer["kind"] == "pool" else "C") + str(i)
                          for i, layer in zip(x, layers)])
        ax.set_xlim(0.5, len(layers) + 0.5)
        ax.set_ylim(0, max(max(fields), self.input_size) * 1.15)
        ax.set_xlabel("layer (C = convolution, P = 2×2 pooling)")
        ax.set_ylabel("pixels per side")
        ax.set_title("receptive field and map size, layer by layer", fontsize=10)
        ax.legend(fontsize=9, loc="upper left")

    def render_static(self, stacks=None):
        """One panel per stack (default: 1–3 layers of 3×3, stride 2, dilation 2, pooling),
        each with the footprint of its centre unit."""
        stacks = stacks or [dict(n_layers=1), dict(n_layers=2), dict(n_layers=3),
                            dict(n_layers=2, stride=2), dict(n_layers=2, dilation=2),
                            dict(n_layers=2, pooling="after every layer")]
        figure, axes = new_static_figure(len(stacks), 3, panel_size=(3.4, 3.4),
                                         title="Input pixels feeding the centre unit (shade = number of paths)")
        for ax, options in zip(axes, stacks):
            options = {"kernel_size": 3, "stride": 1, "dilation": 1, "pooling": "none",
                       "padding": "same", **options}
            layers = layer_stack(**options)
            side = stack_output_sizes(layers, self.input_size)[-1]
            fp = unit_footprint(layers, self.input_size, (side // 2, side // 2))
            plot_unit_footprint(ax, fp,
                                title=f"{_stack_label(layers)}\nfield {fp['size']}×{fp['size']}")
        return figure
