"""Playground: train an MLP on 2-D points and watch the decision boundary, neurons and curves."""

from __future__ import annotations

import threading

import ipywidgets as widgets
import numpy as np
from matplotlib.contour import ContourSet

from coursekit.data import DATASETS_2D
from coursekit.nn.mlp import (
    ACTIVATIONS,
    LOSSES,
    OPTIMIZERS,
    SCHEDULES,
    PlaygroundConfig,
    PlaygroundModel,
    check_config,
    parse_activations,
    parse_layers,
)
from coursekit.viz.boundary import decision_boundary, plot_dataset, plot_decision_boundary
from coursekit.viz.playground import (
    neuron_grid,
    neuron_mosaic,
    playground_model,
    plot_confusion,
    plot_curves,
    plot_neuron_mosaic,
)
from coursekit.widgets.base import BackgroundPlay, FigureWidget, new_static_figure

BATCH_SIZES = (1, 4, 8, 16, 32, 64, 128, 100000)


class Playground(BackgroundPlay, FigureWidget):
    """An MLP on 2-D data, trained with ``coursekit.nn`` (TensorFlow-Playground style).

    Data controls: ``dataset``, ``noise``, ``n_samples``, ``test_fraction``
    (or pass your own ``X``, ``y``). Model: ``layers`` (text, e.g. "16, 16",
    any widths), ``activations`` (one name or one per layer), ``loss``.
    Training: ``optimizer``, ``lr``, ``schedule``, ``l2``, ``dropout``,
    ``batch_size``. Buttons: ``play_button`` (train in the background, redraw
    every few epochs, press again to stop), ``step_button`` (one epoch),
    ``reset_button`` (new weights). ``max_epochs`` caps a play run.

    Changing any control rebuilds the model from scratch (weights reset).
    When the loss becomes NaN or explodes, training stops and ``message`` says why.
    """

    figsize = (12.0, 5.6)
    resolution = 60  # grid of the decision-boundary picture (60 × 60 = 3600 forward passes)

    def __init__(self, X=None, y=None, config: PlaygroundConfig | None = None,
                 max_epochs: int = 300, redraw_every: int = 5, **overrides):
        super().__init__()
        config = config or PlaygroundConfig(**overrides)
        check_config(config)  # our message ("optimizer must be one of ...") before a Dropdown's TraitError
        self._user_data = None if X is None else (np.asarray(X, dtype=float), np.asarray(y))
        self.dataset = widgets.Dropdown(options=DATASETS_2D + (("your data",) if X is not None else ()),
                                        value="your data" if X is not None else config.dataset,
                                        description="data")
        self.dataset.disabled = X is not None
        self.noise = widgets.FloatSlider(value=config.noise, min=0.0, max=0.5, step=0.01,
                                         description="noise")
        self.n_samples = widgets.IntSlider(value=config.n_samples, min=20, max=2000, step=10,
                                           description="points")
        self.test_fraction = widgets.FloatSlider(value=config.test_fraction, min=0.0, max=0.9,
                                                 step=0.05, description="test split")
        self.layers = widgets.Text(value=", ".join(str(w) for w in config.layers),
                                   description="layers", placeholder="widths, e.g. 16, 16",
                                   continuous_update=False)
        self.activations = widgets.Text(value=", ".join(config.activations),
                                        description="activation", placeholder="tanh | relu, tanh",
                                        continuous_update=False)
        self.loss = widgets.Dropdown(options=LOSSES, value=config.loss, description="loss")
        self.optimizer = widgets.Dropdown(options=OPTIMIZERS, value=config.optimizer,
                                          description="optimizer")
        self.lr = widgets.FloatLogSlider(value=config.lr, base=10, min=-4, max=1, step=0.1,
                                         description="lr", readout_format=".3g")
        self.schedule = widgets.Dropdown(options=SCHEDULES, value=config.schedule,
                                         description="schedule")
        self.l2 = widgets.Dropdown(options=[0.0, 1e-4, 1e-3, 1e-2, 1e-1], value=config.l2,
                                   description="L2 λ")
        self.dropout = widgets.FloatSlider(value=config.dropout, min=0.0, max=0.8, step=0.05,
                                           description="dropout")
        self.batch_size = widgets.Dropdown(options=[(("full" if b == BATCH_SIZES[-1] else str(b)),
                                                     b)
                                                    for b in BATCH_SIZES],
                                           value=config.batch_size if config.batch_size in BATCH_SIZES else 32,
                                           description="batch")
        self.seed = config.seed
        self.max_epochs = max_epochs
        self.redraw_every = redraw_every
        self.play_button = widgets.ToggleButton(value=False, description="▶ play",
                                                tooltip="train / stop")
        self.step_button = widgets.Button(description="step (1 epoch)")
        self.reset_button = widgets.Button(description="reset")
        self.progress = widgets.IntProgress(value=0, min=0, max=max_epochs, description="epoch 0")
        self._init_play()
        self.play_button.observe(self._on_play, names="value")
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())
        self.model = None
        self._draw_lock = threading.Lock()
        self._build_ui()
        buttons = widgets.HBox([self.play_button, self.step_button, self.reset_button,
                                self.progress])
        self.ui.children = (*self.ui.children[:-2], buttons, *self.ui.children[-2:])
        self.reset()

    def _controls(self):
        return [self.dataset, self.noise, self.n_samples, self.test_fraction, self.layers,
                self.activations, self.loss, self.optimizer, self.lr, self.schedule, self.l2,
                self.dropout, self.batch_size]

    # ---------------------------------------------------------------- model
    def config(self) -> PlaygroundConfig:
        """The current controls as a ``PlaygroundConfig`` (raises ValueError on bad text)."""
        layers = parse_layers(self.layers.value)
        return PlaygroundConfig(
            dataset=self.dataset.value if self._user_data is None else "moons",
            n_samples=self.n_samples.value, noise=self.noise.value,
            test_fraction=self.test_fraction.value, seed=self.seed, layers=layers,
            activations=parse_activations(self.activations.value, len(layers)),
            loss=self.loss.value, optimizer=self.optimizer.value, lr=self.lr.value,
            schedule=self.schedule.value, l2=self.l2.value, dropout=self.dropout.value,
            batch_size=self.batch_size.value)

    def reset(self) -> None:
        """Stop any run, build a fresh model from the controls, redraw."""
        self.stop()
        try:
            config = self.config()
            X, y = self._user_data if self._user_data is not None else (None, None)
            self.model = playground_model(config, X, y)
            self.message.value = ""
        except ValueError as error:  # bad text in a box: keep the old model, say what to fix
            self.message.value = f"<b style='color:#b00'>{error}</b>"
            if self.model is None:
                raise
        self._refresh()

    def _on_change(self, change=None) -> None:
        if not self._hold:
            self.reset()

    def _refresh(self) -> None:
        epoch = self.model.epoch
        if self.model.diverged:
            self.message.value = f"<b style='color:#b00'>{self.model.message}</b>"
        with self._draw_lock:  # a background play and a button click may both redraw
            FigureWidget.update(self)  # the base class's redraw (our update() rebuilds the model)
        # after the picture, so the bar never runs ahead of the epoch in the picture's title
        self.progress.value = min(epoch, self.progress.max)
        self.progress.description = f"epoch {epoch}"

    def step(self, epochs: int = 1) -> None:
        """Train ``epochs`` epochs now (blocking) and redraw once."""
        self.stop()  # never two loops on one model
        self.model.train(epochs)
        self._refresh()

    # ---------------------------------------------------------------- play / stop
    def play(self, epochs: int | None = None, blocking: bool = False) -> None:
        """Train up to ``epochs`` (default ``max_epochs``) epochs, redrawing every
        ``redraw_every`` epochs. In a notebook it runs in a background thread so
        the stop button (play pressed again) stays responsive."""
        epochs = self.max_epochs if epochs is None else epochs
        if self.playing():
            return  # already playing
        self.stop_flag.clear()
        self.progress.max = self.model.epoch + epochs
        self.play_button.description = "■ stop"

        def run():
            def every_epoch(model):
                if model.epoch % self.redraw_every == 0:
                    self._refresh()

            self.model.train(epochs, stop=self.stop_flag, callback=every_epoch)
            self._refresh()
            with self.hold_redraws():
                self.play_button.value = False
            self.play_button.description = "▶ play"

        self._start(run, blocking)

    # ---------------------------------------------------------------- drawing
    # FigureWidget.update lays the figure out (constrained layout) on the first draw and when
    # layout_key changes (data or layer sizes), then freezes it; later redraws only refresh the
    # artists of the existing panels (redraw_panels), which keeps a redraw well under 0.3 s.
    def make_axes(self, figure):
        grid = figure.add_gridspec(2, 4, width_ratios=(1.5, 0.8, 1, 1))
        return {"boundary": figure.add_subplot(grid[:, 0]),
                "neurons": figure.add_subplot(grid[:, 1]), "loss": figure.add_subplot(grid[0, 2]),
                "accuracy": figure.add_subplot(grid[1, 2]),
                "confusion": figure.add_subplot(grid[:, 3])}

    def draw_axes(self, axes):
        """Full draw into new panels."""
        model = self.model
        self.draw_boundary(axes["boundary"], model)
        for collection in axes["boundary"].collections:
            if not isinstance(collection, ContourSet):
                collection.set_zorder(3)  # points stay above the regions redrawn later
        extent, maps = neuron_grid(model, resolution=24)
        plot_neuron_mosaic(axes["neurons"], maps, extent)
        plot_curves(axes["loss"], model.history, "loss")
        plot_curves(axes["accuracy"], model.history, "accuracy")
        for kind in ("loss", "accuracy"):
            # the layout is frozen after this draw: keep the y labels clear of wider tick labels to come
            axes[kind].yaxis.set_label_coords(-0.3, 0.5)
        plot_confusion(axes["confusion"], self._confusion())

    def _confusion(self):
        return self.model.confusion_matrix("test" if len(self.model.X_test) else "train")

    def layout_key(self):
        m = self.model
        return (m.n_classes, m.widths, len(m.X_train), len(m.X_test), self.dataset.value,
                self.noise.value, self.n_samples.value)

    def redraw_panels(self, axes):
        """Refresh the data of the existing artists (no new axes, no new tick labels)."""
        model = self.model
        ax = axes["boundary"]
        for collection in list(ax.collections):
            if isinstance(collection, ContourSet):
                collection.remove()
        self._boundary_regions(ax, model)
        mosaic = axes["neurons"].get_images()
        if mosaic:
            extent, maps = neuron_grid(model, resolution=24)
            mosaic[0].set_data(neuron_mosaic(maps)[0])
        for kind in ("loss", "accuracy"):
            ax = axes[kind]
            for line, split in zip(ax.get_lines(), ("train", "test")):
                line.set_data(model.history["epoch"], model.history[f"{split}_{kind}"])
                line.set_marker("o" if len(model.history["epoch"]) == 1 else "None")
            ax.relim()
            ax.autoscale_view()
        counts = self._confusion()
        ax = axes["confusion"]
        ax.get_images()[0].set_data(counts)
        ax.get_images()[0].set_clim(0, max(counts.max(), 1))
        for text, value in zip(ax.texts, counts.ravel()):
            text.set_text(str(value))
            text.set_color("white" if value > counts.max() / 2 else "black")

    def update(self) -> None:
        """A control changed: rebuild the model from the controls (weights reset) and redraw."""
        self.reset()

    def _boundary_regions(self, ax, model, title=None):
        X = np.vstack([model.X_train, model.X_test])
        if model.n_classes == 2:
            predict = lambda points: model.predict_proba(points)[:, 1]  # smooth map + 0.5 contour
        else:
            predict = model.predict
        xx, yy, zz = decision_boundary(predict, X, resolution=self.resolution)
        plot_decision_boundary(ax, xx, yy, zz, n_classes=model.n_classes)
        history = model.history
        ax.set_title(title or (f"epoch {model.epoch}: train loss {history['train_loss'][-1]:.3g}, "
                               f"test acc {history['test_accuracy'][-1]:.2f}"), fontsize=10)

    def draw_boundary(self, ax, model: PlaygroundModel, title: str | None = None):
        """Class regions of ``model``, training points coloured by class, test points as rings."""
        self._boundary_regions(ax, model, title)
        ax.set_aspect("equal", adjustable="box")  # circles stay circles
        plot_dataset(ax, model.X_train, model.y_train)
        if len(model.X_test):
            ax.scatter(model.X_test[:, 0], model.X_test[:, 1], s=14, facecolors="none",
                       edgecolors="k", linewidths=0.6, label="test")

    def state(self) -> dict:
        """The model's config, epoch, divergence and message, last train loss and test
        accuracy, and the number of parameters."""
        m = self.model
        return {"config": m.config.as_dict(), "epoch": m.epoch, "diverged": m.diverged,
                "message": m.message, "train_loss": m.history["train_loss"][-1],
                "test_accuracy": m.history["test_accuracy"][-1],
                "n_parameters": int(sum(p.size for p in m.params.values()))}

    def render_static(self, epochs=(0, 10, 50, 200)):
        """The decision boundary after each number of ``epochs`` of one run (current settings)."""
        X, y = self._user_data if self._user_data is not None else (None, None)
        model = playground_model(self.config(), X, y)
        figure, axes = new_static_figure(len(epochs) + 1, len(epochs) + 1, panel_size=(3.0, 3.0),
                                         title=f"Playground: {', '.join(map(str, model.widths))} hidden units, "
                                               f"{model.config.optimizer} lr={model.config.lr:g}")
        done = 0
        for ax, epoch in zip(axes, sorted(epochs)):
            model.train(epoch - done)
            done = epoch
            self.draw_boundary(ax, model, title=f"epoch {model.epoch}, test acc "
                                                f"{model.history['test_accuracy'][-1]:.2f}")
        plot_curves(axes[-1], model.history, "loss")
        return figure


__all__ = ["Playground", "ACTIVATIONS"]
