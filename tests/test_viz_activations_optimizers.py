"""coursekit.viz.activations, surfaces, optimizers: numbers checked against torch and by hand."""

import numpy as np
import pytest
import torch

from coursekit.viz.activations import ACTIVATIONS, activation_curve, gradient_regions
from coursekit.viz.optimizers import OPTIMIZERS, optimizer_path, race
from coursekit.viz.surfaces import SURFACES, get_surface

X = np.linspace(-4, 4, 161)

TORCH_ACTIVATIONS = {
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
    "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.2),
    "prelu": lambda t: torch.nn.functional.prelu(t, torch.tensor([0.2], dtype=t.dtype)),
    "elu": lambda t: torch.nn.functional.elu(t, 0.2), "softplus": torch.nn.functional.softplus,
    "gelu": torch.nn.functional.gelu,
}


@pytest.mark.parametrize("name", sorted(TORCH_ACTIVATIONS))
def test_activation_curve_matches_torch_autograd(name):
    x = X[X != 0]  # the kink of ReLU-type functions has no unique derivative
    y, dy = activation_curve(name, x, alpha=0.2)
    t = torch.tensor(x, requires_grad=True)
    out = TORCH_ACTIVATIONS[name](t)
    out.sum().backward()
    np.testing.assert_allclose(y, out.detach().numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dy, t.grad.numpy(), rtol=1e-5, atol=1e-8)


def test_maxout_is_max_of_pieces_with_the_winning_slope():
    y, dy = activation_curve("maxout", np.array([-3.0, 0.5, 3.0]), alpha=-0.5)
    # pieces (-0.5x - 0.5), (0.25x), (1.5x - 1)
    np.testing.assert_allclose(y, [1.0, 0.125, 3.5])
    np.testing.assert_allclose(dy, [-0.5, 0.25, 1.5])


def test_sign_has_no_gradient_anywhere():
    y, dy = activation_curve("sign", X)
    assert set(np.unique(y)) <= {-1.0, 0.0, 1.0}
    assert gradient_regions(X, dy)["dead"] == [(X[0], X[-1])]


def test_regions_relu_dead_left_and_sigmoid_saturated_beyond_three():
    _, dy = activation_curve("relu", X)
    regions = gradient_regions(X, dy, threshold=0.05)
    assert regions["dead"] == [(-4.0, 0.0)] and regions["saturated"] == []
    _, dy = activation_curve("sigmoid", X)
    regions = gradient_regions(X, dy, threshold=0.05)
    # s(1 - s) = 0.05 with s = sigma(x)  <=>  |x| = 2 artanh(sqrt(1 - 4 * 0.05)) = 2.887
    edge = 2 * np.arctanh(np.sqrt(1 - 4 * 0.05))
    (a1, b1), (a2, b2) = regions["saturated"]
    assert a1 == -4.0 and b2 == 4.0
    assert abs(b1 + edge) < 0.06 and abs(a2 - edge) < 0.06
    assert regions["dead"] == []


def test_small_constant_slope_and_zero_crossings_are_not_saturation():
    _, dy = activation_curve("leaky_relu", X, alpha=0.01)
    assert gradient_regions(X, dy, threshold=0.05) == {"dead": [], "saturated": []}
    _, dy = activation_curve("gelu", X)
    regions = gradient_regions(X, dy, threshold=0.05)
    # only the left tail, where GELU flattens towards 0; not the zero crossing at x ~ -0.75
    assert len(regions["saturated"]) == 1 and regions["saturated"][0][0] == -4.0
    assert regions["saturated"][0][1] < -1.5


def test_activation_errors_name_the_argument():
    with pytest.raises(ValueError, match="activation must be one of"):
        activation_curve("swish", X)
    with pytest.raises(ValueError, match="threshold"):
        gradient_regions(X, X, threshold=0)
    assert len(ACTIVATIONS) == 10


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_surface_gradients_match_central_differences(name):
    surface = get_surface(name)
    rng = np.random.default_rng(1)
    for x, y in rng.uniform(-1.5, 1.5, size=(5, 2)):
        h = 1e-6
        gx, gy = surface.grad(x, y)
        assert gx == pytest.approx((surface.f(x + h, y) - surface.f(x - h, y)) / (2 * h), rel=1e-5, abs=1e-6)
        assert gy == pytest.approx((surface.f(x, y + h) - surface.f(x, y - h)) / (2 * h), rel=1e-5, abs=1e-6)
    for mx, my in surface.minima:
        assert surface.f(mx, my) == pytest.approx(surface.f_min, abs=1e-5)
        assert np.hypot(*surface.grad(mx, my)) < 1e-3


def _torch_optimizer(name, params):
    o = torch.optim
    return {"GD": lambda: o.SGD(params, lr=1e-3), "momentum": lambda: o.SGD(params, lr=1e-3, momentum=0.9),
            "Nesterov": lambda: o.SGD(params, lr=1e-3, momentum=0.9, nesterov=True),
            "AdaGrad": lambda: o.Adagrad(params, lr=0.05),
            "RMSprop": lambda: o.RMSprop(params, lr=0.05, alpha=0.9),
            "AdaDelta": lambda: o.Adadelta(params, rho=0.9),
            "Adam": lambda: o.Adam(params, lr=0.05, betas=(0.8, 0.99))}[name]()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_paths_are_the_steps_of_torch_optim_on_rosenbrock(name):
    path, losses, diverged = optimizer_path("rosenbrock", name, steps=40, lr_gradient=1e-3, lr_adaptive=0.05,
                                            momentum=0.9, beta1=0.8, beta2=0.99, rho=0.9)
    point = torch.tensor(get_surface("rosenbrock").start, dtype=torch.float64, requires_grad=True)
    optimizer = _torch_optimizer(name, [point])
    expected = [point.detach().clone().numpy()]
    for _ in range(40):
        optimizer.zero_grad()
        x, y = point[0], point[1]
        ((1 - x) ** 2 + 100 * (y - x ** 2) ** 2).backward()
        optimizer.step()
        expected.append(point.detach().clone().numpy())
    assert not diverged and path.shape == (41, 2)
    np.testing.assert_allclose(path, np.array(expected), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(losses, get_surface("rosenbrock").f(path[:, 0], path[:, 1]))


def test_too_large_learning_rate_diverges_and_stops_early():
    path, losses, diverged = optimizer_path("quadratic", "GD", steps=200, lr_gradient=0.2)  # 0.2 * 20 > 2
    assert diverged and len(path) < 201
    assert np.all(np.isfinite(path))
    stable, _, ok = optimizer_path("quadratic", "GD", steps=200, lr_gradient=0.05)
    assert not ok and np.abs(stable[-1]).max() < 1e-4


def test_race_and_bad_arguments():
    results = race("saddle", ("GD", "Adam"), steps=10)
    assert set(results) == {"GD", "Adam"} and results["GD"][0].shape == (11, 2)
    with pytest.raises(ValueError, match="surface must be one of"):
        get_surface("bowl")
    with pytest.raises(ValueError, match="optimizer must be one of"):
        optimizer_path("saddle", "LBFGS")
    with pytest.raises(ValueError, match="lr_gradient must be > 0"):
        optimizer_path("saddle", "GD", lr_gradient=0)
