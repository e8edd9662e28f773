"""Every widget headless: change each control, the state and the picture change;
render_static gives the expected number of panels."""

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from torch import nn

from coursekit.widgets import (
    ActivationExplorer,
    BackpropStepper,
    ConvExplorer,
    EmbeddingExplorer,
    FeatureMaps,
    GradientFlow,
    LatentExplorer,
    LossLandscape,
    LSTMGates,
    OptimizerRace,
    Playground,
)
from coursekit.widgets.base import RENDER_SCALE, FigureWidget, png_size


@pytest.fixture(autouse=True)
def small_pictures(monkeypatch):
    """Render the widgets' PNGs at low resolution: the tests compare pictures, not their detail."""
    monkeypatch.setattr(FigureWidget, "dpi", 30)


def panels(figure):
    """Axes of a figure that are panels (colour bars left out)."""
    return [ax for ax in figure.axes if ax.get_label() != "<colorbar>"]


def change(widget, control, value):
    """Set ``control`` to ``value``; return (state before, state after, whether the PNG changed)."""
    before_png, before_count = widget.image.value, widget.redraw_count
    getattr(widget, control).value = value
    assert widget.redraw_count == before_count + 1, f"{control} did not redraw exactly once"
    return widget.image.value != before_png


def test_base_pattern_is_displayable_and_set_redraws_once():
    w = ActivationExplorer("relu")
    assert isinstance(w.widget, widgets.VBox) and hasattr(w, "_ipython_display_")
    assert w.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    count = w.redraw_count
    w.set(activation="elu", alpha=0.5, x_max=3.0)
    assert w.redraw_count == count + 1 and w.state()["alpha"] == 0.5
    with pytest.raises(ValueError, match="no control named 'beta'"):
        w.set(beta=1)


def test_static_figures_show_themselves_as_png_in_a_notebook():
    figure = ActivationExplorer().render_static(activations=("relu", "tanh"))
    png, shown = figure._repr_png_()  # what IPython calls when the figure ends a cell
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(panels(figure)) == 2
    # rendered at twice the size it is shown at, so it stays sharp
    width, height = png_size(png)
    assert abs(width - RENDER_SCALE * shown["width"]) <= 1
    assert abs(height - RENDER_SCALE * shown["height"]) <= 1


@pytest.mark.parametrize("make", [lambda: ActivationExplorer("relu"), lambda: GradientFlow(),
                                  lambda: BackpropStepper()])
def test_widget_pictures_are_rendered_at_twice_their_css_width(make):
    w = make()
    css_width = int(w.image.layout.width.removesuffix("px"))
    assert css_width == round(w.figure.get_figwidth() * w.dpi)
    assert w.image.layout.max_width == "100%"  # never wider than the notebook
    width, height = png_size(w.image.value)
    assert abs(width - RENDER_SCALE * css_width) <= 1
    assert abs(height - RENDER_SCALE * w.figure.get_figheight() * w.dpi) <= 1


def test_activation_explorer_controls():
    w = ActivationExplorer("sigmoid")
    assert change(w, "activation", "leaky_relu")
    assert w.state()["alpha"] == 0.01 and "alpha" in w.formula.value
    assert change(w, "alpha", 0.3)
    assert w.state()["dy"].min() == pytest.approx(0.3)
    assert change(w, "x_max", 2.0) and w.state()["y"].max() == pytest.approx(2.0)
    # a constant small slope is not saturation; ELU's left tail is: f' = alpha e^x < 0.2
    assert w.state()["regions"]["saturated"] == []
    assert change(w, "activation", "elu")
    alpha = w.state()["alpha"]
    assert change(w, "threshold", 0.2)
    ((start, end),) = w.state()["regions"]["saturated"]
    assert start == -2.0 and end == pytest.approx(min(np.log(0.2 / alpha), 0.0), abs=0.01)
    assert change(w, "show_derivative", False)
    assert len(panels(w.render_static())) == 10


def test_optimizer_race_controls():
    w = OptimizerRace("quadratic", optimizers=("GD", "momentum", "Adam", "RMSprop", "AdaDelta"))
    start = w.state()
    assert change(w, "lr_gradient", 0.02)
    assert not np.allclose(w.state()["final_points"]["GD"], start["final_points"]["GD"])
    np.testing.assert_array_equal(w.state()["final_points"]["Adam"], start["final_points"]["Adam"])
    for control, value in [("lr_adaptive", 0.3), ("momentum", 0.5), ("beta1", 0.5), ("beta2", 0.9),
                           ("rho", 0.6), ("steps", 10), ("optimizers", ("GD", "Adam"))]:
        assert change(w, control, value), control
    assert set(w.state()["final_points"]) == {"GD", "Adam"}
    assert change(w, "surface", "saddle") and w.state()["lr_gradient"] == 0.05  # the surface's defaults
    w.set(surface="quadratic", lr_gradient=0.2, steps=100)
    assert "diverged" in w.message.value and "GD" in w.message.value
    assert len(panels(w.render_static(surfaces=("quadratic", "saddle")))) == 2


def test_playground_controls_training_and_divergence():
    w = Playground(dataset="moons", n_samples=80, layers=(6,), max_epochs=20, redraw_every=20)
    assert w.state()["epoch"] == 0
    png = w.image.value
    w.step()
    assert w.state()["epoch"] == 1 and w.image.value != png
    for control, value in [("dataset", "xor"), ("noise", 0.2), ("n_samples", 60), ("test_fraction", 0.5),
                           ("layers", "4, 3"), ("activations", "relu, tanh"), ("loss", "mse")]:
        assert change(w, control, value), control  # a new data set or network shows at once
        assert w.state()["epoch"] == 0  # any change rebuilds the model
    w.step(2)
    trained_png = w.image.value
    for control, value in [("optimizer", "momentum"), ("lr", 0.1), ("schedule", "exponential"), ("l2", 1e-3),
                           ("dropout", 0.2), ("batch_size", 8)]:
        change(w, control, value)  # redraws once (checked inside); rebuilt at epoch 0
        assert w.state()["epoch"] == 0
        # training settings show once training ran: compare two epochs with the previous setting's two
        w.step(2)  # (a schedule changes the lr from the second epoch on)
        assert w.image.value != trained_png, control
        trained_png = w.image.value
    config = w.state()["config"]
    assert config["layers"] == (4, 3) and config["activations"] == ("relu", "tanh") and config["batch_size"] == 8
    assert w.model.history["lr"] == pytest.approx([0.1, 0.1, 0.098])
    assert w.state()["n_parameters"] == 2 * 4 + 4 + 4 * 3 + 3 + 3 * 2 + 2
    w.layers.value = "4, x"  # a typo keeps the old model and says what to fix
    assert "layers must be widths" in w.message.value and w.state()["config"]["layers"] == (4, 3)
    w.play(blocking=True)
    assert w.state()["epoch"] == 2 + 20 and w.play_button.value is False
    w.set(optimizer="SGD", lr=10.0, loss="mse", layers="8", activations="relu")
    w.play(epochs=20, blocking=True)
    assert w.state()["diverged"] and "too large for SGD" in w.message.value
    w.reset()
    assert not w.state()["diverged"] and w.message.value == ""
    assert len(panels(w.render_static(epochs=(0, 5)))) == 3


def test_playground_shows_epoch_0_circles_round_and_the_bar_follows_the_picture():
    w = Playground(dataset="circles", n_samples=60, layers=(4,), max_epochs=5, redraw_every=1)
    for kind in ("loss", "accuracy"):
        line = w._axes[kind].get_lines()[0]
        assert len(line.get_xdata()) == 1 and line.get_marker() == "o"  # a visible point
    assert w._axes["boundary"].get_aspect() == 1.0
    w.play(3, blocking=True)
    assert w.progress.description == f"epoch {w.state()['epoch']}" == "epoch 3"
    assert w._axes["boundary"].get_title().startswith("epoch 3:")
    assert w._axes["loss"].get_lines()[0].get_marker() == "None"


def test_activation_legend_rounds_like_the_slider():
    w = ActivationExplorer("sigmoid")
    w.threshold.value = 0.0501187
    labels = [t.get_text() for t in w.figure.axes[0].get_legend().get_texts()]
    assert any("< 0.0501" in label and "0.0501187" not in label for label in labels), labels


def test_playground_background_play_can_be_stopped():
    w = Playground(dataset="circles", n_samples=60, layers=(4,), max_epochs=100000, redraw_every=50)
    w.play_button.value = True  # what clicking ▶ does: a background thread
    w.stop()
    assert w.state()["epoch"] < 100000 and w.play_button.description == "▶ play"
    w.play(epochs=3)
    w.wait(30)
    assert w.state()["epoch"] >= 3


def test_playground_with_the_students_own_arrays():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    w = Playground(X, y, layers=(4,))
    assert w.dataset.value == "your data" and w.dataset.disabled
    assert len(w.model.X_train) + len(w.model.X_test) == 40


def test_gradient_flow_controls():
    w = GradientFlow("small normal", "sigmoid", depth=6, width=16)
    assert w.state()["diagnosis"].startswith("vanishing")
    assert change(w, "init", "he") and change(w, "activation", "relu")
    assert w.state()["diagnosis"].startswith("healthy")
    assert change(w, "depth", 4) and len(w.state()["weight_grad_norm"]) == 4
    assert change(w, "width", 8)
    assert change(w, "init", "zeros") and "symmetry" in w.state()["diagnosis"]
    assert not w.depth.continuous_update and not w.width.continuous_update  # redraw on release
    assert len(panels(w.render_static(inits=("xavier", "he"), activations=("tanh",)))) == 2


def test_gradient_flow_names_dead_relus_instead_of_healthy():
    from coursekit.viz.gradient_flow import diagnose, layer_statistics

    narrow = layer_statistics(20, 8, "relu", "he", seed=0)
    assert np.nanmax(narrow["dead"]) > 0.5
    assert diagnose(narrow).startswith("dead ReLUs: ")
    assert diagnose(layer_statistics(10, 64, "relu", "he", seed=0)).startswith("healthy")


def test_backprop_stepper_controls():
    w = BackpropStepper()
    assert w.state()["key"] == "net_h1"
    assert change(w, "step", 12) and w.state()["key"] == "dE/dw5"
    assert w.figure.axes[0].get_title().startswith(f"step 12/{w.step.max} ")  # slider = title
    assert w.state()["value"] == pytest.approx(0.082167, abs=1e-6) and "0.082167" in w.formula.value
    w.next_button.click()
    assert w.state()["key"] == "dE/dw6"
    w.previous_button.click()
    w.step.value = 24
    assert w.state()["key"] == "w5_new" and w.state()["value"] == pytest.approx(0.358916, abs=1e-6)
    assert change(w, "lr", 1.0) and w.state()["value"] == pytest.approx(0.4 - 0.082167, abs=1e-6)
    assert len(panels(w.render_static())) == 4


def test_conv_explorer_controls():
    w = ConvExplorer("small grid", grid_size=5)
    assert w.state()["output"].shape == (3, 3) and w.position.max == 8
    assert change(w, "position", 4) and "out[1, 1]" in w.state()["sum"]
    assert change(w, "padding", 1) and w.state()["output"].shape == (5, 5) and w.position.max == 24
    assert "= 5" in w.formula.value
    assert change(w, "stride", 2) and w.state()["output"].shape == (3, 3)
    assert change(w, "dilation", 2) and w.state()["output"].shape == (2, 2)
    assert change(w, "preset", "box blur")
    np.testing.assert_allclose(w.state()["kernel"], np.full((3, 3), 1 / 9), rtol=1e-3)
    assert change(w, "kernel", "1 -1")
    assert change(w, "n_layers", 4)
    assert change(w, "source", "coins") and w.state()["output"].ndim == 2
    too_wide = w.image_array().shape[1] + 2 * w.padding.value + 1  # one column more than fits
    w.kernel.value = " ".join(["9"] * too_wide)
    assert "does not fit" in w.message.value and w.state()["output"] is None
    w.kernel.value = "1 2; 3"
    assert "same number of values" in w.message.value
    assert len(panels(w.render_static(presets=("identity", "sharpen")))) == 3


def tiny_cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))


def test_feature_maps_controls():
    images = np.random.default_rng(0).random((3, 1, 8, 8))
    w = FeatureMaps(tiny_cnn(), images, labels=["a", "b", "c"])
    assert w.state()["maps"].shape == (3, 8, 8)
    assert change(w, "layer", "2") and w.state()["maps"].shape == (3, 4, 4)
    assert change(w, "image_index", 2)
    assert change(w, "scale", "per_layer")
    assert len(panels(w.render_static())) == 4


def test_loss_landscape_controls():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 2)).astype(np.float32), rng.integers(0, 2, 30)
    snapshots = [torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(4):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        optimizer.step()
        snapshots.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy())
    w = LossLandscape(model, X, y, snapshots=np.array(snapshots), resolution=5)
    Z = w.state()["Z"]
    assert Z.shape == (5, 5) and Z[2, 2] == pytest.approx(w.loss_fn(model))
    assert w.directions.options == ("random", "pca")
    for control, value in [("normalization", "none"), ("span", 0.3), ("seed", 3), ("directions", "pca"),
                           ("resolution", 7)]:
        assert change(w, control, value), control
    state = w.state()
    assert state["Z"].shape == (7, 7)
    # on the PCA plane of these 5 snapshots the whole path is visible
    assert state["path_in_plane"] > 0.99
    # render_static: 1-D interpolation, the PCA plane, three normalizations of a random plane
    figure = w.render_static()
    assert len(panels(figure)) == 5
    assert any(ax.get_xlabel().startswith("PCA direction 1") for ax in panels(figure))


def test_lstm_gates_controls():
    torch.manual_seed(0)
    lstm = nn.LSTM(1, 5, num_layers=2, batch_first=True)
    w = LSTMGates(lstm, np.random.default_rng(0).normal(size=(3, 10)))
    first = w.state()["forget_gate"].copy()
    assert first.shape == (10, 5)
    assert change(w, "sequence_index", 1) and not np.allclose(w.state()["forget_gate"], first)
    assert change(w, "layer", 1)
    assert change(w, "max_units", 2)
    assert len(panels(w.render_static(sequence_indices=(0,)))) == 5


def test_latent_explorer_controls():
    torch.manual_seed(0)
    decoder = nn.Sequential(nn.Linear(4, 36), nn.Sigmoid())
    w = LatentExplorer(decoder, 4, image_shape=(6, 6), grid_size=3)
    assert w.state()["grid_images"].shape == (3, 3, 6, 6)
    for control, value in [("dim_x", 2), ("dim_y", 3), ("extent", 1.0), ("code_a", 3), ("code_b", 4),
                           ("steps", 4), ("method", "slerp")]:
        assert change(w, control, value), control
    png = w.image.value
    w.z[0].value = 2.0
    assert w.image.value != png and w.state()["z"][0] == 2.0
    w.dim_x.value = 3
    assert "two different dimensions" in w.message.value
    assert len(panels(w.render_static())) == 3


def test_embedding_explorer_controls():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(12, 5))
    vectors[7] = vectors[2] * 3 + 0.01  # item 7 points the same way as item 2
    w = EmbeddingExplorer(vectors, [f"w{i}" for i in range(12)], item=2, k=3)
    assert w.state()["neighbours"][0] == 7 and w.state()["scores"][0] > 0.99
    assert change(w, "item", 5) and change(w, "k", 5) and len(w.state()["neighbours"]) == 5
    assert change(w, "metric", "euclidean")
    assert len(panels(w.render_static(items=(0, 1)))) == 2
