"""ActivationExplorer: an activation function, its derivative and where gradients die."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from coursekit.viz.activations import ACTIVATIONS, FORMULAS, USES_ALPHA, plot_activation
from coursekit.widgets.base import FigureWidget, new_static_figure

#: A sensible starting value of α for each activation that has one.
DEFAULT_ALPHA = {"leaky_relu": 0.01, "prelu": 0.25, "elu": 1.0, "maxout": -0.5}


class ActivationExplorer(FigureWidget):
    """Pick an activation; see f(x), f'(x), dead (grey) and saturated (orange) regions and the formulas.

    Controls: ``activation``, ``alpha`` (leaky/PReLU slope, ELU scale, first
    maxout slope), ``x_max`` (plot range), ``threshold`` (what counts as a
    saturated gradient), ``show_derivative``.
    """

    figsize = (7.0, 3.6)

    def __init__(self, activation: str = "sigmoid", alpha: float | None = None, x_max: float = 6.0,
                 threshold: float = 0.05):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        self.activation = widgets.Dropdown(options=ACTIVATIONS, value=activation,
                                           description="activation")
        self.alpha = widgets.FloatSlider(value=DEFAULT_ALPHA.get(activation, 0.1) if alpha is None else alpha,
                                         min=-1.0, max=2.0, step=0.01, description="α")
        self.x_max = widgets.FloatSlider(value=x_max, min=1.0, max=20.0, step=0.5,
                                         description="x range ±")
        self.threshold = widgets.FloatLogSlider(value=threshold, base=10, min=-3, max=-0.5,
                                                step=0.1, description="saturated <")
        self.show_derivative = widgets.Checkbox(value=True, description="show f'(x)")
        self.formula = widgets.HTMLMath()
        self.activation.observe(self._on_activation, names="value")
        self._build_ui()
        self.ui.children = (self.formula, *self.ui.children)
        self.update()

    def _controls(self):
        return [self.activation, self.alpha, self.x_max, self.threshold, self.show_derivative]

    def _on_activation(self, change):
        # jump α to a value that makes sense for the new function, with a single redraw
        with self.hold_redraws():
            self.alpha.value = DEFAULT_ALPHA.get(change["new"], self.alpha.value)

    def x(self) -> np.ndarray:
        return np.linspace(-self.x_max.value, self.x_max.value, 801)

    def draw(self, figure):
        name = self.activation.value
        self.alpha.disabled = name not in USES_ALPHA
        ax = figure.subplots()
        plot_activation(ax, name, self.x(), self.alpha.value, self.threshold.value,
                        self.show_derivative.value)
        function, derivative = FORMULAS[name]
        self.formula.value = f"{function} &nbsp;&nbsp;&nbsp; {derivative}"

    def state(self) -> dict:
        """The activation, alpha, x range, its values and derivative on the grid, the dead/saturated
        regions and the formula (the testing contract, see ``widgets.base``)."""
        from coursekit.viz.activations import activation_curve, gradient_regions

        y, dy = activation_curve(self.activation.value, self.x(), self.alpha.value)
        return {"activation": self.activation.value, "alpha": self.alpha.value,
                "x_max": self.x_max.value, "y": y, "dy": dy,
                "regions": gradient_regions(self.x(), dy, self.threshold.value),
                "formula": self.formula.value}

    def render_static(self, activations=ACTIVATIONS, n_columns: int = 5):
        """One panel per activation (α at its default), f and f' with shaded regions."""
        figure, axes = new_static_figure(len(activations), n_columns, panel_size=(3.0, 2.6),
                                         title="Activation functions (blue), derivatives (red dashed); "
                                               "grey = dead, orange = saturated")
        for ax, name in zip(axes, activations):
            alpha = DEFAULT_ALPHA.get(name, 0.1)
            plot_activation(ax, name, np.linspace(-5, 5, 401), alpha, self.threshold.value,
                            legend=False)
            suffix = f" (α = {alpha:g})" if name in USES_ALPHA else ""
            ax.set_title(f"{name}{suffix}\n{FORMULAS[name][0]}",
                         fontsize=8)  # the website shows no widget
        return figure
