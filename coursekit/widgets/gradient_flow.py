"""GradientFlow: initialization × activation × depth → what reaches each layer."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from coursekit.viz.gradient_flow import (
    ACTIVATIONS,
    INITS,
    diagnose,
    layer_statistics,
    plot_dead,
    plot_distributions,
    plot_norms,
)
from coursekit.widgets.base import FigureWidget, new_static_figure


class GradientFlow(FigureWidget):
    """Per-layer activation and gradient statistics of a deep MLP at initialization.

    Controls: ``init`` (zeros, small normal, large normal, xavier, he,
    orthogonal), ``activation``, ``depth``, ``width``. Panels: gradient and
    activation norms per layer (log scale), activation histograms, gradient
    histograms, fraction of dead ReLUs. ``message`` names what is happening
    (vanishing / exploding / healthy).
    """

    figsize = (13.0, 3.6)

    def __init__(self, init: str = "small normal", activation: str = "sigmoid", depth: int = 10,
                 width: int = 64, seed: int = 0):
        super().__init__()
        self.init = widgets.Dropdown(options=INITS, value=init, description="init")
        self.activation = widgets.Dropdown(options=ACTIVATIONS, value=activation,
                                           description="activation")
        # recomputing the whole network is the slow part: update when the slider is released
        self.depth = widgets.IntSlider(value=depth, min=2, max=50, description="depth",
                                       continuous_update=False)
        self.width = widgets.IntSlider(value=width, min=4, max=512, step=4, description="width",
                                       continuous_update=False)
        self.seed = seed
        self.stats = None
        self._build_ui()
        self.update()

    def _controls(self):
        return [self.init, self.activation, self.depth, self.width]

    def compute(self):
        return layer_statistics(self.depth.value, self.width.value, self.activation.value,
                                self.init.value, n_samples=256, seed=self.seed)

    def draw(self, figure):
        self.stats = stats = self.compute()
        axes = figure.subplots(1, 4)
        plot_norms(axes[0], stats)
        plot_distributions(axes[1], stats["activations"], "activations per layer")
        # gradients span many decades across layers: compare them on a log scale
        # (exact zeros, e.g. behind inactive ReLUs, have no logarithm: they are left out)
        plot_distributions(axes[2], [np.log10(np.abs(g[g != 0])) for g in stats["pre_grads"]],
                           r"$\log_{10}|\partial L/\partial z|$ per layer (non-zero)")
        axes[2].set_xlabel("log10 of gradient magnitude")
        plot_dead(axes[3], stats)
        self.message.value = f"<b>{diagnose(stats)}</b>"

    def state(self) -> dict:
        """The init, activation, depth and width, the weight-gradient norm per layer, the dead
        fraction and the diagnosis (the testing contract)."""
        return {"init": self.init.value, "activation": self.activation.value,
                "depth": self.depth.value, "width": self.width.value,
                "weight_grad_norm": self.stats["weight_grad_norm"].copy(),
                "dead": self.stats["dead"].copy(), "diagnosis": diagnose(self.stats)}

    def render_static(self, inits=("small normal", "large normal", "xavier", "he"),
                      activations=("sigmoid", "tanh", "relu")):
        """Gradient-norm-per-layer panels for each (activation, init) pair: a grid of small multiples."""
        figure, axes = new_static_figure(len(inits) * len(activations), len(inits),
                                         panel_size=(3.0, 2.5),
                                         title=f"Per-layer gradient and activation scale, depth {self.depth.value}, "
                                               f"width {self.width.value}")
        k = 0
        for activation in activations:
            for init in inits:
                stats = layer_statistics(self.depth.value, self.width.value, activation, init,
                                         seed=self.seed)
                plot_norms(axes[k], stats, title=f"{activation}, {init}")
                if k:
                    axes[k].get_legend().remove()
                k += 1
        return figure
