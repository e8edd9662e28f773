"""GANTrainer headless: every control rebuilds the GAN and changes the picture; step and play
train; a background play stops on its threading.Event; render_static draws one panel per snapshot."""

import threading

import numpy as np
import pytest

from coursekit.models.toy_gan import ToyGAN, ToyGANConfig, modes_covered
from coursekit.viz.gan import discriminator_surface
from coursekit.widgets import GANTrainer
from coursekit.widgets.base import FigureWidget


@pytest.fixture(autouse=True)
def small_pictures(monkeypatch):
    monkeypatch.setattr(FigureWidget, "dpi", 30)


@pytest.fixture(scope="module")
def trainer():
    return GANTrainer(max_iterations=60, redraw_every=30, step_size=10)


@pytest.mark.parametrize("control, value", [("std", 0.05), ("layout", "grid"), ("generator_loss", "saturating"),
                                            ("pack", 2), ("lr", 1e-2), ("seed", 3)])
def test_every_control_rebuilds_and_redraws(trainer, control, value):
    trainer.step()
    before_png, before_count = trainer.image.value, trainer.redraw_count
    before = trainer.state()
    getattr(trainer, control).value = value
    after = trainer.state()
    assert trainer.redraw_count == before_count + 1
    assert trainer.image.value != before_png
    assert after["iteration"] == 0 and before["iteration"] > 0
    assert after["config"] != before["config"]
    key = {"std": "std", "layout": "layout", "generator_loss": "generator_loss", "pack": "pack", "lr": "lr",
           "seed": "seed"}[control]
    assert after["config"][key] == pytest.approx(value) if control == "lr" else after["config"][key] == value


def test_step_trains_and_moves_the_points(trainer):
    trainer.reset_button.click()
    before = trainer.state()
    trainer.step_button.click()
    after = trainer.state()
    assert after["iteration"] == before["iteration"] + trainer.step_size
    assert not np.allclose(after["samples"], before["samples"])
    assert trainer.image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_play_in_background_and_stop_with_the_event():
    w = GANTrainer(max_iterations=100000, redraw_every=20, step_size=10)
    assert isinstance(w.stop_flag, threading.Event)
    w.play_button.value = True
    assert w.state()["playing"]
    w.play_button.value = False  # the stop button: sets the Event and joins the thread
    assert not w.state()["playing"] and w.stop_flag.is_set()
    stopped_at = w.state()["iteration"]
    assert stopped_at < 100000
    w.play(40, blocking=True)
    assert w.state()["iteration"] == stopped_at + 40


def test_render_static_one_panel_per_snapshot():
    figure = GANTrainer().render_static(iterations=(0, 20))
    assert len([ax for ax in figure.axes if ax.get_label() != "<colorbar>"]) == 2


def test_modes_covered_counts_the_rule():
    modes = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    samples = np.vstack([np.zeros((95, 2)), np.full((5, 2), 10.0)])  # 95 at mode 0, 5 far from every mode
    result = modes_covered(samples, modes, std=0.1)
    assert result["n_covered"] == 1 and result["covered"].tolist() == [True, False, False]
    assert result["high_quality"] == pytest.approx(0.95)
    samples[:1] = [10.0, 0.0]  # one sample of 100 = 1 %: covered (>= 1 %)
    assert modes_covered(samples, modes, std=0.1)["n_covered"] == 2
    with pytest.raises(ValueError, match="samples must have shape"):
        modes_covered(np.zeros(5), modes, std=0.1)


def test_toy_gan_validates_and_surface_is_a_probability():
    with pytest.raises(ValueError, match="generator_loss"):
        ToyGAN(generator_loss="wasserstein")
    with pytest.raises(ValueError, match="pack"):
        ToyGAN(pack=3)
    gan = ToyGAN(ToyGANConfig(pack=2))
    xx, yy, p = discriminator_surface(gan, resolution=11)
    assert xx.shape == yy.shape == p.shape == (11, 11) and ((p > 0) & (p < 1)).all()


def test_toy_gan_lives_in_models_and_viz_gan_keeps_the_old_names():
    import coursekit.models.toy_gan as toy_gan
    import coursekit.viz.gan as old

    for name in ("ToyGAN", "ToyGANConfig", "modes_covered", "GENERATOR_LOSSES"):
        assert getattr(old, name) is getattr(toy_gan, name)
    with pytest.raises(AttributeError):
        old.NoSuchName  # noqa: B018
