"""BackpropStepper: the 2-2-2 network of the lectures, one forward value or gradient at a time."""

from __future__ import annotations

import ipywidgets as widgets

from coursekit.viz.backprop import DEFAULT_NETWORK, backprop_steps, plot_network
from coursekit.widgets.base import FigureWidget, new_static_figure


class BackpropStepper(FigureWidget):
    """Step through the forward pass, the backward pass and the update of the 2-2-2 network.

    Controls: ``step`` (slider over all steps), ``previous_button`` /
    ``next_button``, ``lr`` (η of the update). The current step's chain-rule
    formula and its numbers are the title and are also shown as ``formula``.
    ``network`` overrides any of the weights, inputs or targets.
    """

    figsize = (9.5, 4.6)

    def __init__(self, network: dict | None = None):
        super().__init__()
        self.network = dict(network or {})
        self.steps = backprop_steps(self.network)
        # counted from 1, as the picture's title says "step 12/31"
        self.step = widgets.IntSlider(value=1, min=1, max=len(self.steps), description="step")
        self.lr = widgets.FloatSlider(value=self.network.get("lr", DEFAULT_NETWORK["lr"]), min=0.05,
                                      max=2.0, step=0.05, description="η (lr)")
        self.previous_button = widgets.Button(description="◀ previous")
        self.next_button = widgets.Button(description="next ▶")
        self.previous_button.on_click(lambda _: self._move(-1))
        self.next_button.on_click(lambda _: self._move(+1))
        self.formula = widgets.HTMLMath()
        self._build_ui()
        self.ui.children = (widgets.HBox([self.previous_button, self.next_button]),
                            *self.ui.children[:-1], self.formula, self.ui.children[-1])
        self.update()

    def _controls(self):
        return [self.step, self.lr]

    def _move(self, delta):
        self.step.value = min(max(self.step.value + delta, self.step.min), self.step.max)

    def current(self):
        return self.steps[self.step.value - 1]

    def draw(self, figure):
        self.network["lr"] = self.lr.value
        self.steps = backprop_steps(self.network)
        ax = figure.subplots()
        plot_network(ax, self.steps, self.step.value - 1, self.network)
        step = self.current()
        self.formula.value = f"{step.formula} &nbsp; = &nbsp; {step.numbers}"

    def state(self) -> dict:
        """The current step of the backward pass: its key, phase, value, formula and numbers
        (the testing contract)."""
        step = self.current()
        return {"step": self.step.value, "key": step.key, "phase": step.phase, "value": step.value,
                "formula": step.formula, "numbers": step.numbers}

    def render_static(self, keys=("E", "dE/dw5", "dE/dw1", "w1_new")):
        """The network after each of the named steps (default: loss, an output-weight gradient,
        a hidden-weight gradient, the last update)."""
        index = {step.key: i for i, step in enumerate(self.steps)}
        unknown = [k for k in keys if k not in index]
        if unknown:
            raise ValueError(f"unknown step keys {unknown}; choose from {list(index)}")
        figure, axes = new_static_figure(len(keys), 2, panel_size=(6.0, 3.4),
                                         title="Backpropagation on the 2-2-2 network, step by step")
        for ax, key in zip(axes, keys):
            plot_network(ax, self.steps, index[key], self.network)
        return figure
