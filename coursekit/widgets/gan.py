"""GANTrainer: play or step the training of a GAN on 2-D points."""

from __future__ import annotations

import threading

import ipywidgets as widgets
import matplotlib as mpl

from coursekit.viz.gan import plot_gan_losses, plot_gan_state
from coursekit.widgets.base import BackgroundPlay, FigureWidget, new_static_figure, wide_label

# The GAN is a torch model (coursekit.models.toy_gan): imported when a GANTrainer is built, so
# that importing coursekit.widgets loads no torch.


class GANTrainer(BackgroundPlay, FigureWidget):
    """A GAN on a ring (or grid) of Gaussians: generated points over D's surface, and the losses.

    Controls (a change rebuilds the GAN from scratch): ``std`` (of each mode),
    ``layout`` (ring of 8 / grid of 9), ``generator_loss`` (non-saturating /
    saturating), ``pack`` (1, or 2 for PacGAN), ``lr``, ``seed``. Buttons:
    ``play_button`` (train in a background thread, redraw every ``redraw_every``
    iterations, press again to stop; the stop flag is a ``threading.Event``),
    ``step_button`` (``step_size`` iterations now), ``reset_button``.
    """

    figsize = (11.0, 4.6)
    resolution = 30

    def __init__(self, max_iterations: int = 3000, redraw_every: int = 100, step_size: int = 20,
                 **config):
        from coursekit.models.toy_gan import GENERATOR_LOSSES, ToyGANConfig

        super().__init__()
        base = ToyGANConfig(**config)
        self.std = widgets.Dropdown(options=[0.02, 0.05, 0.1],
                                    value=base.std if base.std in (0.02, 0.05, 0.1)
                                    else 0.02, description="mode σ")
        self.layout = widgets.Dropdown(options=[("ring of 8", "ring"), ("grid of 9", "grid")],
                                       value=base.layout, description="modes")
        self.generator_loss = widgets.Dropdown(options=GENERATOR_LOSSES, value=base.generator_loss,
                                               description="G loss")
        self.pack = widgets.Dropdown(options=[("1 (plain D)", 1), ("2 (PacGAN)", 2)],
                                     value=base.pack, description="D sees")
        self.lr = widgets.FloatLogSlider(value=base.lr, base=10, min=-4, max=-2, step=0.25,
                                         description="lr", readout_format=".1e",
                                         continuous_update=False)
        self.seed = widgets.IntSlider(value=base.seed, min=0, max=9, description="seed",
                                      continuous_update=False)
        wide_label(self.generator_loss, self.pack)
        self._base = base
        self.max_iterations = max_iterations
        self.redraw_every = redraw_every
        self.step_size = step_size
        self.play_button = widgets.ToggleButton(value=False, description="▶ play",
                                                tooltip="train / stop")
        self.step_button = widgets.Button(description=f"step ({step_size} iterations)")
        self.reset_button = widgets.Button(description="reset")
        self.progress = widgets.IntProgress(value=0, min=0, max=max_iterations,
                                            description="iteration 0")
        self._init_play()
        self._draw_lock = threading.Lock()
        self.play_button.observe(self._on_play, names="value")
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())
        self.gan = None
        self._build_ui()
        buttons = widgets.HBox([self.play_button, self.step_button, self.reset_button,
                                self.progress])
        self.ui.children = (*self.ui.children[:-2], buttons, *self.ui.children[-2:])
        self.reset()

    def _controls(self):
        return [self.std, self.layout, self.generator_loss, self.pack, self.lr, self.seed]

    # ---------------------------------------------------------------- model
    def config(self):
        """The current controls as a ``ToyGANConfig``."""
        from coursekit.models.toy_gan import ToyGANConfig

        n_modes = 8 if self.layout.value == "ring" else 9
        return ToyGANConfig(n_modes=n_modes, radius=self._base.radius, std=self.std.value,
                            layout=self.layout.value, n_train=self._base.n_train,
                            latent_dim=self._base.latent_dim, hidden=self._base.hidden,
                            lr=self.lr.value, batch_size=self._base.batch_size,
                            generator_loss=self.generator_loss.value, pack=self.pack.value,
                            seed=self.seed.value)

    def reset(self) -> None:
        """Stop any run, build a fresh GAN from the controls, redraw."""
        from coursekit.models.toy_gan import ToyGAN

        self.stop()
        self.gan = ToyGAN(self.config())
        self.update()

    def _on_change(self, change=None) -> None:
        if not self._hold:
            self.reset()

    def step(self, iterations: int | None = None) -> None:
        """Train ``iterations`` (default ``step_size``) alternating updates now, then redraw."""
        self.stop()
        self.gan.step(self.step_size if iterations is None else iterations)
        self.update()

    def play(self, iterations: int | None = None, blocking: bool = False) -> None:
        """Train up to ``iterations`` (default ``max_iterations``) more updates, redrawing every
        ``redraw_every``; in a background thread unless ``blocking``."""
        if self.playing():
            return
        total = self.max_iterations if iterations is None else iterations
        self.stop_flag.clear()
        self.progress.max = self.gan.iteration + total
        self.play_button.description = "■ stop"

        def run():
            done = 0
            while done < total and not self.stop_flag.is_set():
                chunk = min(self.redraw_every, total - done)
                self.gan.step(chunk, stop=self.stop_flag)
                done += chunk
                self.update()
            with self.hold_redraws():
                self.play_button.value = False
            self.play_button.description = "▶ play"

        self._start(run, blocking)

    # ---------------------------------------------------------------- drawing
    def layout_key(self):
        return "fixed"

    def make_axes(self, figure):
        grid = figure.add_gridspec(1, 3, width_ratios=(1.0, 0.05, 1.2))
        axes = {"points": figure.add_subplot(grid[0, 0]),
                "colorbar": figure.add_subplot(grid[0, 1]),
                "losses": figure.add_subplot(grid[0, 2])}
        mappable = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(0, 1), cmap="RdBu_r")
        figure.colorbar(mappable, cax=axes["colorbar"], label="D(x) = P(real)")
        return axes

    def draw_axes(self, axes) -> None:
        gan = self.gan
        covered = gan.modes_covered()
        plot_gan_state(axes["points"], gan, n_samples=300, resolution=self.resolution,
                       colorbar=False,
                       title=f"iteration {gan.iteration}: {covered['n_covered']}/{len(gan.modes)} modes covered")
        axes["points"].legend(loc="lower left", fontsize=8)
        if gan.history["iteration"]:
            plot_gan_losses(axes["losses"], gan.history, title="losses")
        else:
            axes["losses"].set_title("losses (press play or step)", fontsize=10)
            axes["losses"].set_xlabel("iteration")
            axes["losses"].set_ylabel("loss (nats)")
        self._covered = covered

    def redraw_panels(self, axes) -> None:
        axes["points"].clear()
        axes["losses"].clear()
        self.draw_axes(axes)

    def update(self) -> None:
        with self._draw_lock:  # a background play and a button click may both redraw
            super().update()
        self.progress.value = min(self.gan.iteration, self.progress.max)
        self.progress.description = f"iteration {self.gan.iteration}"

    def state(self) -> dict:
        """The GAN's config, iteration, modes covered, share near a mode, last D loss,
        200 generated points and whether a play is running."""
        gan = self.gan
        covered = gan.modes_covered()
        return {"config": gan.config.as_dict(), "iteration": gan.iteration,
                "modes_covered": covered["n_covered"], "near_a_mode": covered["high_quality"],
                "d_loss": gan.history["d_loss"][-1] if gan.history["d_loss"] else None,
                "samples": gan.sample(200), "playing": self.playing()}

    def render_static(self, iterations=(0, 200, 600, 1500)):
        """Generated points and D's surface after each number of ``iterations`` of one run."""
        from coursekit.models.toy_gan import ToyGAN

        gan = ToyGAN(self.config())
        figure, axes = new_static_figure(len(iterations), len(iterations), panel_size=(3.2, 3.2),
                                         title=f"GAN on 2-D points ({gan.config.generator_loss} G loss, "
                                               f"D sees {gan.config.pack} sample(s)): D(x) red = real")
        for ax, iteration in zip(axes, sorted(iterations)):
            gan.step(iteration - gan.iteration)
            plot_gan_state(ax, gan, resolution=self.resolution, colorbar=False,
                           title=f"iteration {iteration}")
        return figure


__all__ = ["GANTrainer"]
