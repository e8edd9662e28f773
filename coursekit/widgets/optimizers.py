"""OptimizerRace: GD, momentum, Nesterov, AdaGrad, RMSprop, AdaDelta and Adam on one surface."""

from __future__ import annotations

from functools import lru_cache

import ipywidgets as widgets

from coursekit.viz.optimizers import OPTIMIZERS, optimizer_path, plot_loss_curves, plot_paths, race
from coursekit.viz.surfaces import SURFACES, get_surface, plot_surface_contours, surface_grid
from coursekit.widgets.base import FigureWidget, new_static_figure, wide_label

MAX_STEPS = 1000  # the steps slider's maximum


@lru_cache(maxsize=None)  # one per surface
def _contour_grid(name: str):
    """The contour grid of surface ``name`` (depends only on the surface)."""
    return surface_grid(get_surface(name), resolution=100)


@lru_cache(maxsize=512)
def _long_path(surface_name: str, optimizer: str, hyper: tuple):
    """``optimizer_path`` for ``MAX_STEPS`` steps (all 7 optimizers: about 0.1 s CPU); a
    shorter path is a prefix of it, so moving the steps slider recomputes nothing.
    ``hyper``: the (name, value) pairs of the hyperparameters."""
    return optimizer_path(get_surface(surface_name), optimizer, MAX_STEPS, **dict(hyper))


class OptimizerRace(FigureWidget):
    """Trajectories of ``coursekit.nn.optim`` optimizers on a 2-D test surface.

    Controls: ``surface``, ``optimizers`` (which to show), ``lr_gradient``
    (GD / momentum / Nesterov), ``lr_adaptive`` (AdaGrad / RMSprop / Adam),
    ``momentum``, ``beta1``, ``beta2`` (Adam), ``rho`` (decay of RMSprop's and
    AdaDelta's squared-gradient average), ``steps``.
    Changing the surface loads its recommended learning rates and step count.
    """

    figsize = (10.0, 4.4)

    def __init__(self, surface: str = "rosenbrock", optimizers=OPTIMIZERS):
        super().__init__()
        defaults = get_surface(surface)
        self.surface = widgets.Dropdown(options=tuple(SURFACES), value=surface,
                                        description="surface")
        self.optimizers = widgets.SelectMultiple(options=OPTIMIZERS, value=tuple(optimizers),
                                                 description="optimizers", rows=7)
        self.lr_gradient = widgets.FloatLogSlider(value=defaults.lr_gradient, base=10, min=-5,
                                                  max=0, step=0.05, description="lr (GD, mom.)",
                                                  readout_format=".2g")
        self.lr_adaptive = widgets.FloatLogSlider(value=defaults.lr_adaptive, base=10, min=-4,
                                                  max=0.5, step=0.05, description="lr (adaptive)",
                                                  readout_format=".2g")
        self.momentum = widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01,
                                            description="momentum")
        self.beta1 = widgets.FloatSlider(value=0.9, min=0.0, max=0.999, step=0.001,
                                         description="β1 (Adam)", readout_format=".3f")
        self.beta2 = widgets.FloatSlider(value=0.999, min=0.5, max=0.9999, step=0.0001,
                                         description="β2 (Adam)", readout_format=".4f")
        self.rho = widgets.FloatSlider(value=0.9, min=0.5, max=0.999, step=0.001,
                                       description="ρ (RMSprop, AdaDelta)", readout_format=".3f")
        self.steps = widgets.IntSlider(value=defaults.steps, min=1, max=MAX_STEPS, step=1,
                                       description="steps")
        wide_label(self.lr_gradient, self.lr_adaptive, self.beta1, self.beta2, self.rho)
        self.surface.observe(self._on_surface, names="value")
        self.results = {}
        self._build_ui()
        self.update()

    def _controls(self):
        return [self.surface, self.lr_gradient, self.lr_adaptive, self.momentum, self.beta1,
                self.beta2, self.rho, self.steps, self.optimizers]

    def _on_surface(self, change):
        defaults = get_surface(change["new"])
        with self.hold_redraws():
            self.lr_gradient.value = defaults.lr_gradient
            self.lr_adaptive.value = defaults.lr_adaptive
            self.steps.value = defaults.steps

    def hyperparameters(self) -> dict:
        return {"lr_gradient": self.lr_gradient.value, "lr_adaptive": self.lr_adaptive.value,
                "momentum": self.momentum.value, "beta1": self.beta1.value,
                "beta2": self.beta2.value, "rho": self.rho.value}

    def _grid(self, name):
        return _contour_grid(name)

    def make_axes(self, figure):
        ax_paths, ax_loss = figure.subplots(1, 2, width_ratios=(1.15, 1))
        return {"paths": ax_paths, "loss": ax_loss}

    def layout_key(self):
        return "paths and loss"  # the same two panels for every surface: lay them out once

    def draw_axes(self, axes):
        surface = get_surface(self.surface.value)
        plot_surface_contours(axes["paths"], surface, self._grid(surface.name))
        self._contours_of = surface.name
        self._draw_results(axes)

    def redraw_panels(self, axes):
        if self._contours_of != self.surface.value:
            axes["paths"].clear()
            axes["loss"].clear()
            self.draw_axes(axes)
            return
        # same surface: keep the contours, replace the paths (much cheaper than redrawing it)
        for artist in [*axes["paths"].get_lines(), *axes["paths"].texts]:
            artist.remove()
        axes["loss"].clear()
        self._draw_results(axes)

    #: the hyperparameters each optimizer's path depends on (a path is recomputed only
    #: when one of its own settings changes; moving the momentum slider leaves Adam alone)
    DEPENDS_ON = {"GD": ("lr_gradient",), "momentum": ("lr_gradient", "momentum"),
                  "Nesterov": ("lr_gradient", "momentum"), "AdaGrad": ("lr_adaptive",),
                  "RMSprop": ("lr_adaptive", "rho"), "AdaDelta": ("rho",),
                  "Adam": ("lr_adaptive", "beta1", "beta2")}

    def _path(self, surface, name):
        hyper = self.hyperparameters()
        steps = self.steps.value
        # the path depends only on its own hyperparameters (DEPENDS_ON), so the cache keeps it
        # when another optimizer's slider moves
        path, losses, diverged = _long_path(surface.name, name,
                                            tuple((h, hyper[h]) for h in self.DEPENDS_ON[name]))
        # a path computed for more steps contains the shorter one
        return path[: steps + 1], losses[: steps + 1], diverged and len(path) <= steps + 1

    def _draw_results(self, axes):
        surface = get_surface(self.surface.value)
        self.results = {name: self._path(surface, name) for name in self.optimizers.value}
        plot_paths(axes["paths"], surface, self.results, contours=False)
        plot_loss_curves(axes["loss"], surface, self.results)
        diverged = [name for name, (_, _, d) in self.results.items() if d]
        self.message.value = (f"<b>diverged:</b> {', '.join(diverged)} — lower its learning rate"
                              if diverged else f"<i>{surface.notes}</i>")

    def state(self) -> dict:
        """The surface, the hyperparameters, the steps and each optimizer's final point and loss
        (the testing contract)."""
        return {"surface": self.surface.value, **self.hyperparameters(), "steps": self.steps.value,
                "final_points": {name: path[-1].copy() for name, (path, _, _) in self.results.items()},
                "final_losses": {name: float(losses[-1]) for name, (_, losses, _) in self.results.items()}}

    def render_static(self, surfaces=tuple(SURFACES), n_columns: int = 3):
        """One panel per surface with all selected optimizers at that surface's default settings."""
        figure, axes = new_static_figure(len(surfaces), n_columns, panel_size=(4.0, 3.6),
                                         title="Optimizer paths (coursekit.nn.optim) on five surfaces")
        for index, (ax, name) in enumerate(zip(axes, surfaces)):
            surface = get_surface(name)
            hyper = {**self.hyperparameters(), "lr_gradient": surface.lr_gradient,
                     "lr_adaptive": surface.lr_adaptive}
            results = race(surface, self.optimizers.value, surface.steps, **hyper)
            plot_paths(ax, surface, results, self._grid(name), legend=index == 0)
            ax.set_title(f"{name}: {surface.steps} steps", fontsize=9)
        return figure
