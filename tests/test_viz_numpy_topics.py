"""coursekit.viz playground, backprop, gradient_flow, conv, embedding: numbers checked."""

import numpy as np
import pytest
import torch

from coursekit.gradcheck import numerical_gradient, rel_error
from coursekit.nn.mlp import PlaygroundModel, parse_activations, parse_layers
from coursekit.viz.backprop import backprop_steps
from coursekit.viz.conv import (
    conv_output_size,
    convolve,
    output_size_formula,
    parse_kernel,
    receptive_field,
    window_products,
)
from coursekit.viz.embedding import nearest_neighbours, pca_2d
from coursekit.viz.gradient_flow import dead_fraction, layer_statistics
from coursekit.viz.playground import neuron_grid, neuron_mosaic, playground_model


# ------------------------------------------------------------------ playground
def test_playground_learns_moons_and_reports_curves():
    model = playground_model(dataset="moons", n_samples=200, noise=0.1, layers=(8, 8), lr=0.03, seed=0)
    assert model.train(60) == 60
    h = model.history
    assert len(h["train_loss"]) == 61 and h["epoch"][-1] == 60
    assert h["train_loss"][-1] < 0.5 * h["train_loss"][0]
    assert h["test_accuracy"][-1] >= 0.9
    counts = model.confusion_matrix("test")
    assert counts.sum() == len(model.y_test) == 60
    assert np.trace(counts) / counts.sum() == pytest.approx(h["test_accuracy"][-1])


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_playground_gradients_match_numerical(loss):
    model = playground_model(dataset="blobs", n_samples=30, layers=(5, 4),
                             activations=("tanh", "sigmoid"), loss=loss, l2=0.01, seed=3)
    X, y = model.X_train[:10], model.y_train[:10]
    _, grads = model._gradients(X, y)
    for name in ("W0", "b1", "W2"):
        def objective(_):
            data_loss, _ = model._data_loss(model._forward(X)[0], y)
            penalty = 0.5 * 0.01 * sum(np.sum(model.params[k] ** 2) for k in model.params if k[0] == "W")
            return data_loss + penalty
        numeric = numerical_gradient(objective, model.params[name])
        assert rel_error(grads[name], numeric) < 1e-6, name


def test_playground_divergence_message_names_the_cause():
    model = playground_model(dataset="moons", optimizer="SGD", lr=10.0, loss="mse", activations=("relu",))
    model.train(30)
    assert model.diverged
    assert "learning rate 10 is too large for SGD" in model.message and "lr ≤ 1" in model.message
    assert model.train(5) == 0  # a diverged model stays stopped until reset
    calm = playground_model(dataset="moons", optimizer="Adam", lr=0.01)
    calm.train(10)
    assert not calm.diverged and calm.message == ""


def test_playground_own_data_multiclass_and_neuron_maps():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2)) + np.repeat(np.array([[3, 0], [0, 3], [-3, -3]]), 30, axis=0)
    y = np.repeat(np.arange(3), 30)
    model = PlaygroundModel(None, X, y, layers=(6,), test_fraction=0.2, lr=0.05)
    model.train(40)
    assert model.n_classes == 3 and model.history["test_accuracy"][-1] > 0.9
    extent, maps = neuron_grid(model, resolution=12)
    assert len(maps) == 1 and maps[0].shape == (6, 12, 12)
    mosaic, starts = neuron_mosaic(maps)
    assert mosaic.shape == (2 * 12 + 2, 4 * 12 + 3 * 2) and starts == [0]


def test_playground_input_errors():
    assert parse_layers("16, 8,4") == (16, 8, 4) and parse_layers("") == ()
    assert parse_activations("relu", 3) == ("relu",) * 3
    with pytest.raises(ValueError, match="layers must be widths"):
        parse_layers("8, x")
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        parse_activations("swish", 1)
    with pytest.raises(ValueError, match="one per layer"):
        parse_activations("relu, tanh", 3)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        playground_model(optimizer="LBFGS")
    with pytest.raises(ValueError, match="X must have shape"):
        PlaygroundModel(None, np.zeros((5, 3)), np.zeros(5, dtype=int))
    with pytest.raises(TypeError, match="needs the data"):  # nn loads no data sets
        PlaygroundModel(dataset="moons")


def test_playground_model_lives_in_nn_and_viz_keeps_the_old_names():
    import coursekit.viz.playground as old

    assert old.PlaygroundModel is PlaygroundModel and old.parse_layers is parse_layers
    model = playground_model(dataset="moons", n_samples=40, seed=1)
    assert isinstance(model, PlaygroundModel) and model.config.dataset == "moons"


# ------------------------------------------------------------------ backprop
def test_backprop_steps_reproduce_the_syllabus_numbers():
    values = {step.key: step.value for step in backprop_steps()}
    expected = {"h1": 0.593270, "h2": 0.596884, "o1": 0.751365, "o2": 0.772928, "E": 0.298371,
                "dE/dw5": 0.082167, "w5_new": 0.358916, "dE/dw1": 0.000439, "w1_new": 0.149781}
    for key, value in expected.items():
        assert values[key] == pytest.approx(value, abs=5e-7), key
    phases = [step.phase for step in backprop_steps()]
    assert phases.index("backward") == 9 and phases[-1] == "update" and len(phases) == 31


def test_backprop_gradients_equal_torch_autograd():
    w = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in
         dict(w1=0.15, w2=0.2, w3=0.25, w4=0.3, w5=0.4, w6=0.45, w7=0.5, w8=0.55).items()}
    h1 = torch.sigmoid(w["w1"] * 0.05 + w["w2"] * 0.1 + 0.35)
    h2 = torch.sigmoid(w["w3"] * 0.05 + w["w4"] * 0.1 + 0.35)
    o1 = torch.sigmoid(w["w5"] * h1 + w["w6"] * h2 + 0.6)
    o2 = torch.sigmoid(w["w7"] * h1 + w["w8"] * h2 + 0.6)
    (0.5 * (0.01 - o1) ** 2 + 0.5 * (0.99 - o2) ** 2).backward()
    values = {step.key: step.value for step in backprop_steps({"lr": 0.1})}
    for name, tensor in w.items():
        assert values[f"dE/d{name}"] == pytest.approx(tensor.grad.item(), rel=1e-10)
        assert values[f"{name}_new"] == pytest.approx(tensor.item() - 0.1 * tensor.grad.item(), rel=1e-10)
    with pytest.raises(ValueError, match="unknown network keys"):
        backprop_steps({"w9": 1.0})


# ------------------------------------------------------------------ gradient flow
def test_sigmoid_small_init_gradients_vanish_towards_the_input():
    stats = layer_statistics(depth=8, width=32, activation="sigmoid", init="small normal", seed=0)
    g = stats["weight_grad_norm"]
    assert np.all(np.diff(g) > 0)  # every layer closer to the input gets less
    assert g[0] / g[-1] < 1e-10
    he = layer_statistics(depth=8, width=32, activation="relu", init="he", seed=0)["weight_grad_norm"]
    assert 0.1 < he[0] / he[-1] < 10  # He init keeps ReLU gradients at one scale


def test_zero_init_gives_zero_gradients_below_the_top_and_all_units_dead():
    stats = layer_statistics(depth=4, width=8, activation="relu", init="zeros")
    assert np.all(stats["weight_grad_norm"] == 0) and np.all(stats["dead"] == 1.0)


def test_dead_fraction_matches_a_hand_count():
    pre = np.array([[-1.0, 2.0, 0.0, -3.0], [-0.5, -1.0, 0.0, 1.0], [-2.0, 0.5, -1.0, -1.0]])
    # column 0 is <= 0 everywhere, column 2 too (zeros count as dead), columns 1 and 3 fire once
    assert dead_fraction(pre) == 0.5
    with pytest.raises(ValueError, match="pre_activations"):
        dead_fraction(np.zeros(3))


# ------------------------------------------------------------------ conv
def test_convolve_equals_torch_conv2d_and_window_sum():
    rng = np.random.default_rng(0)
    image, kernel = rng.normal(size=(9, 8)), rng.normal(size=(3, 3))
    for stride, padding, dilation in [(1, 0, 1), (2, 1, 1), (1, 2, 2), (3, 1, 2)]:
        out = convolve(image, kernel, stride, padding, dilation)
        expected = torch.nn.functional.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel)[None, None],
                                              stride=stride, padding=padding, dilation=dilation)[0, 0].numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
        sizes = {"padding": padding, "stride": stride, "dilation": dilation}
        assert out.shape == (conv_output_size(9, 3, **sizes), conv_output_size(8, 3, **sizes))
        step = window_products(image, kernel, out.shape[0] - 1, 1, stride, padding, dilation)
        assert step["total"] == pytest.approx(out[-1, 1])
        np.testing.assert_allclose(step["products"], step["values"] * kernel)


def test_output_size_formula_and_receptive_field():
    assert conv_output_size(32, 5, padding=2, stride=1) == 32
    assert conv_output_size(7, 3, padding=0, stride=2) == 3
    assert output_size_formula(7, 3, 1, 2) == "⌊(n + 2p − k) / s⌋ + 1 = ⌊(7 + 2·1 − 3) / 2⌋ + 1 = 4"
    assert "effective kernel 5" in output_size_formula(9, 3, 0, 1, 2)
    with pytest.raises(ValueError, match="does not fit"):
        conv_output_size(3, 5)
    assert [f["size"] for f in receptive_field([(3, 1)] * 3)] == [3, 5, 7]
    assert receptive_field([(3, 1), (2, 2), (3, 1)])[-1] == {"size": 8, "jump": 2}
    assert receptive_field([(3, 1, 2)])[0]["size"] == 5


def test_parse_kernel():
    np.testing.assert_allclose(parse_kernel("1 0 -1; 2, 0, -2\n1/2 0 -1"), [[1, 0, -1], [2, 0, -2], [0.5, 0, -1]])
    with pytest.raises(ValueError, match="'x' is not a number"):
        parse_kernel("1 x")
    with pytest.raises(ValueError, match="same number of values"):
        parse_kernel("1 2; 3")


# ------------------------------------------------------------------ embedding
def test_pca_matches_sklearn_and_neighbours_by_hand():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40, 6)) * np.array([5, 3, 1, 0.5, 0.2, 0.1])
    coords, explained = pca_2d(vectors)
    reference = PCA(2).fit(vectors)
    np.testing.assert_allclose(explained, reference.explained_variance_ratio_, rtol=1e-10)
    np.testing.assert_allclose(np.abs(coords), np.abs(reference.transform(vectors)), rtol=1e-8, atol=1e-10)
    items = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0], [2.0, 0.1]])
    index, scores = nearest_neighbours(items, 0, k=2)
    assert list(index) == [4, 1] and scores[0] == pytest.approx(2 / np.hypot(2, 0.1))
    index, distances = nearest_neighbours(items, 0, k=1, metric="euclidean")
    assert list(index) == [1] and distances[0] == pytest.approx(np.hypot(0.1, 0.1))
    with pytest.raises(ValueError, match="k must be between"):
        nearest_neighbours(items, 0, k=5)
