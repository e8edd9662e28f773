"""coursekit.viz landscape, features, recurrent, latent on small torch models."""

import numpy as np
import pytest
import torch
from torch import nn

from coursekit.viz.features import (
    feature_maps,
    layer_filters,
    maps_mosaic,
    named_layers,
    normalize_maps,
)
from coursekit.viz.landscape import (
    covering_coords,
    get_weights,
    interpolate_1d,
    landscape_slice,
    loss_function,
    normalize_direction,
    pca_axis_labels,
    plane_fraction,
    project_trajectory,
    random_direction,
    set_weights,
    slice_2d,
    trajectory_directions,
)
from coursekit.viz.latent import decode_images, interpolate_codes, tile_images, traversal_grid
from coursekit.viz.recurrent import lstm_gates


def small_mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 3))


def small_data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(40, 2)).astype(np.float32), rng.integers(0, 3, size=40)


# ------------------------------------------------------------------ landscape
def test_weights_round_trip_and_filter_normalization():
    model = small_mlp()
    w = get_weights(model)
    assert w.shape == (2 * 5 + 5 + 5 * 3 + 3,)
    set_weights(model, w * 2)
    np.testing.assert_allclose(get_weights(model), w * 2, rtol=1e-6)
    d = random_direction(model, w, "filter", seed=1)
    # rows of each weight matrix get the norm of the model's row; biases stay fixed
    W0, d0 = w[:10].reshape(5, 2), d[:10].reshape(5, 2)
    np.testing.assert_allclose(np.linalg.norm(d0, axis=1), np.linalg.norm(W0, axis=1), rtol=1e-10)
    assert np.all(d[10:15] == 0)
    layer = normalize_direction(model, np.ones_like(w), w, "layer")
    assert np.linalg.norm(layer[15:30]) == pytest.approx(np.linalg.norm(w[15:30]))
    with pytest.raises(ValueError, match="weight vector must have shape"):
        set_weights(model, w[:-1])
    with pytest.raises(ValueError, match="normalization must be one of"):
        random_direction(model, w, "batch")


def test_weight_vectors_are_torchs_parameters_to_vector_and_not_shared():
    from torch.nn.utils import parameters_to_vector

    from coursekit.train import WeightSnapshots

    model = small_mlp()
    w = get_weights(model)
    np.testing.assert_array_equal(w, parameters_to_vector(model.parameters()).detach().numpy())
    np.testing.assert_array_equal(WeightSnapshots.flat(model), w.astype(np.float32))
    vector = w + 1.0
    set_weights(model, vector)
    vector[:] = 0.0  # the model keeps its own copy
    np.testing.assert_allclose(get_weights(model), w + 1.0, rtol=1e-6)


def test_landscape_slice_random_and_pca():
    model = small_mlp()
    X, y = small_data()
    loss_fn, center = loss_function(X, y), get_weights(model)
    r = landscape_slice(model, loss_fn, center, resolution=5, span=0.5, seed=2)
    assert r["Z"].shape == (5, 5) and r["trajectory"] is None and r["path_in_plane"] is None
    assert r["Z"][2, 2] == pytest.approx(loss_fn(model))  # the middle of the grid is the centre
    np.testing.assert_allclose(r["coords1"], np.linspace(-0.5, 0.5, 5))
    path = center + np.outer(np.linspace(1, 0, 4), np.random.default_rng(0).normal(size=center.size))
    p = landscape_slice(model, loss_fn, center, snapshots=path, directions="pca", resolution=5)
    assert p["path_in_plane"] == pytest.approx(1.0) and p["labels"][0].startswith("PCA direction 1")
    with pytest.raises(ValueError, match="needs snapshots"):
        landscape_slice(model, loss_fn, center, directions="pca")
    with pytest.raises(ValueError, match="directions must be one of"):
        landscape_slice(model, loss_fn, center, directions="hessian")


def test_interpolation_and_slice_measure_the_loss_at_those_weights():
    model, (X, y) = small_mlp(), small_data()
    loss_fn = loss_function(X, y)
    a, b = get_weights(model), get_weights(small_mlp(seed=1))
    losses = interpolate_1d(model, loss_fn, a, b, alphas=np.array([0.0, 0.5, 1.0]))
    set_weights(model, b)
    assert losses[2] == pytest.approx(loss_fn(model))
    set_weights(model, (a + b) / 2)
    assert losses[1] == pytest.approx(loss_fn(model))
    set_weights(model, a)
    d1, d2 = random_direction(model, a, seed=0), random_direction(model, a, seed=1)
    coords = np.array([-1.0, 0.0, 0.5])
    Z = slice_2d(model, loss_fn, a, d1, d2, coords)
    assert Z.shape == (3, 3) and Z[1, 1] == pytest.approx(loss_fn(model))
    set_weights(model, a + 0.5 * d1 - 1.0 * d2)
    assert Z[0, 2] == pytest.approx(loss_fn(model))
    np.testing.assert_array_equal(get_weights(small_mlp()), a)  # restored: same as a fresh copy


def test_trajectory_projection_recovers_known_coordinates():
    rng = np.random.default_rng(0)
    center, d1, d2 = rng.normal(size=(3, 50))
    coefficients = np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 0.0], [-2.0, 0.3]])
    snapshots = center + coefficients @ np.stack([d1, d2])
    np.testing.assert_allclose(project_trajectory(snapshots, center, d1, d2), coefficients, atol=1e-10)


def test_pca_directions_recover_a_trajectory_in_a_known_plane():
    rng = np.random.default_rng(0)
    n_weights = 200
    final = rng.normal(size=n_weights)
    basis, _ = np.linalg.qr(rng.normal(size=(n_weights, 2)))  # orthonormal u1, u2 spanning the plane
    # a curved path ending at the final weights: mostly along u1, bending along u2
    t = np.linspace(1.0, 0.0, 9)
    coefficients = np.stack([3.0 * t, 0.8 * np.sin(np.pi * t)], axis=1)
    snapshots = final + coefficients @ basis.T
    d1, d2, explained = trajectory_directions(snapshots)  # centre: the last snapshot
    # orthonormal and inside the plane of u1, u2
    np.testing.assert_allclose(np.stack([d1, d2]) @ np.stack([d1, d2]).T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(basis.T @ np.stack([d1, d2]).T, axis=0), [1.0, 1.0], atol=1e-12)
    # the whole path lies in the plane: explained variance sums to 1, and direction 1 carries most
    assert explained.sum() == pytest.approx(1.0, abs=1e-12)
    assert explained[0] > 0.9 and explained[1] > 0.01
    assert plane_fraction(snapshots, final, d1, d2) == pytest.approx(1.0, abs=1e-12)
    # the projected coordinates reconstruct the snapshots exactly, and keep the path's geometry
    projected = project_trajectory(snapshots, final, d1, d2)
    np.testing.assert_allclose(final + projected @ np.stack([d1, d2]), snapshots, atol=1e-10)
    # in the known frame (u1, u2) the coordinates are `coefficients`; the PCA frame is a rotation of it
    rotation = basis.T @ np.stack([d1, d2], axis=1)
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(projected, coefficients @ rotation, atol=1e-10)
    np.testing.assert_allclose(projected[-1], [0.0, 0.0], atol=1e-12)  # the end is the centre
    assert projected[0, 0] > 2.9 and projected[0, 1] > 0  # signs fixed: the start at positive coordinates
    # explained[k] = share of the summed squared distances to the final weights along direction k
    np.testing.assert_allclose(explained, (projected ** 2).sum(axis=0) / (coefficients ** 2).sum(), atol=1e-12)
    assert pca_axis_labels(np.array([0.931, 0.052]))[0] == "PCA direction 1 (93.1% of the path)"


def test_random_plane_holds_little_of_a_path_and_bad_input_is_named():
    rng = np.random.default_rng(1)
    n_weights = 2000
    snapshots = np.cumsum(rng.normal(size=(10, n_weights)), axis=0)  # a random walk in 2000 dimensions
    d1, d2 = rng.normal(size=(2, n_weights))
    # two random directions hold about 2 / 2000 of the path; its PCA plane most of it
    assert plane_fraction(snapshots, snapshots[-1], d1, d2) < 0.01
    p1, p2, explained = trajectory_directions(snapshots)
    assert plane_fraction(snapshots, snapshots[-1], p1, p2) == pytest.approx(explained.sum(), abs=1e-10)
    assert explained.sum() > 0.5
    with pytest.raises(ValueError, match="snapshots must have shape"):
        trajectory_directions(snapshots[:1])
    with pytest.raises(ValueError, match="center must have shape"):
        trajectory_directions(snapshots, snapshots[-1, :5])
    with pytest.raises(ValueError, match="no direction"):
        trajectory_directions(np.ones((3, 4)))


def test_covering_coords_span_the_points_and_the_origin_with_a_margin():
    points = np.array([[4.0, 1.0], [2.0, 0.5], [0.0, 0.0]])
    coords1, coords2 = covering_coords(points, resolution=5, margin=0.25)
    # ranges 4 and 1: pad 0.25 * 4 = 1 on both axes
    np.testing.assert_allclose(coords1, np.linspace(-1.0, 5.0, 5))
    np.testing.assert_allclose(coords2, np.linspace(-1.0, 2.0, 5))
    coords1, coords2 = covering_coords(np.array([[1.0, 2.0], [3.0, 4.0]]), resolution=3, margin=0.0)
    np.testing.assert_allclose(coords1, [0.0, 1.5, 3.0])  # the origin (the centre) is always inside
    np.testing.assert_allclose(coords2, [0.0, 2.0, 4.0])
    with pytest.raises(ValueError, match="points must have shape"):
        covering_coords(np.zeros((3, 3)))


# ------------------------------------------------------------------ features
class TinyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.head = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        return self.head(self.pool1(self.relu1(self.conv1(x))).flatten(1))


def test_feature_maps_come_from_hooks_and_equal_the_layer_output():
    model = TinyCNN()
    image = np.random.default_rng(0).random((1, 8, 8)).astype(np.float32)
    assert list(named_layers(model)) == ["conv1", "relu1", "pool1"]
    maps = feature_maps(model, image)
    expected = model.conv1(torch.from_numpy(image)[None])[0].detach().numpy()
    np.testing.assert_allclose(maps["conv1"], expected, rtol=1e-5)
    assert maps["pool1"].shape == (4, 4, 4) and maps["relu1"].min() >= 0
    assert not model.conv1._forward_hooks  # hooks removed
    assert layer_filters(model.conv1).shape == (4, 1, 3, 3)
    with pytest.raises(ValueError, match="not in the model"):
        feature_maps(model, image, ["conv9"])


def test_map_normalization_per_map_and_per_layer():
    maps = np.stack([np.full((2, 2), 5.0), np.array([[0.0, 1.0], [2.0, 4.0]])])
    per_map = normalize_maps(maps, "per_map")
    np.testing.assert_allclose(per_map[1], [[0, 0.25], [0.5, 1]])
    assert np.all(per_map[0] == 0)  # a constant map
    per_layer = normalize_maps(maps, "per_layer")
    np.testing.assert_allclose(per_layer[0], 1.0)
    assert per_layer[1, 1, 1] == pytest.approx(0.8)
    assert maps_mosaic(maps).shape == (2, 5)  # two tiles side by side, one pixel apart


# ------------------------------------------------------------------ recurrent
@pytest.mark.parametrize("num_layers", [1, 2])
def test_lstm_gates_replay_matches_torch_lstm(num_layers):
    torch.manual_seed(0)
    lstm = nn.LSTM(2, 6, num_layers=num_layers, batch_first=True)
    sequence = np.random.default_rng(0).normal(size=(12, 2)).astype(np.float32)
    out, _ = lstm(torch.from_numpy(sequence)[None])
    gates = lstm_gates(lstm, sequence, layer=num_layers - 1)
    np.testing.assert_allclose(gates["hidden"], out[0].detach().numpy(), rtol=1e-5, atol=1e-6)
    for name in ("input_gate", "forget_gate", "output_gate"):
        assert gates[name].shape == (12, 6) and 0 < gates[name].min() and gates[name].max() < 1
    np.testing.assert_allclose(gates["hidden"], gates["output_gate"] * np.tanh(gates["cell"]), rtol=1e-5)
    with pytest.raises(ValueError, match="sequence must have shape"):
        lstm_gates(lstm, np.zeros((5, 3)))


# ------------------------------------------------------------------ latent
def test_traversal_grid_and_interpolation():
    decoder = lambda z: np.tile(z[:, :1, None], (1, 2, 3)) + z[:, 1:2, None]  # image = z0 + z1 everywhere
    images, codes = traversal_grid(decoder, np.array([0.0, 0.0, 7.0]), dims=(0, 1), values=np.array([-1.0, 2.0]))
    assert images.shape == (2, 2, 2, 3) and codes.shape == (2, 2, 3)
    np.testing.assert_allclose(images[:, :, 0, 0], [[-2, 1], [1, 4]])
    assert np.all(codes[..., 2] == 7.0)
    path = interpolate_codes([1.0, 0.0], [0.0, 1.0], 5, "slerp")
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0)  # stays on the circle
    np.testing.assert_allclose(interpolate_codes([0, 0], [2, 4], 3)[1], [1, 2])
    torch_decoder = nn.Sequential(nn.Linear(3, 16), nn.Sigmoid())
    assert decode_images(torch_decoder, np.zeros((4, 3)), image_shape=(4, 4)).shape == (4, 4, 4)
    assert tile_images(np.zeros((2, 3, 4, 4)), pad=1).shape == (9, 14)
    with pytest.raises(ValueError, match="dims must be two different"):
        traversal_grid(decoder, np.zeros(3), dims=(1, 1))
