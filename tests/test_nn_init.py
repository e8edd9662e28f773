"""Initialisers: torch's gains and fans, the right spread, orthogonality, seeding."""

import math

import numpy as np
import pytest
import torch

from coursekit.nn import init

SHAPES = [(256, 128), (64, 32, 3, 3)]


@pytest.mark.parametrize("nonlinearity, param", [("linear", None), ("sigmoid", None), ("tanh", None),
                                                 ("relu", None), ("leaky_relu", None),
                                                 ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert abs(init.calculate_gain(nonlinearity, param)
               - torch.nn.init.calculate_gain(nonlinearity, param)) < 1e-15


@pytest.mark.parametrize("shape", SHAPES + [(5, 7), (3, 4, 5)])
def test_fans_match_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.fan_in_and_fan_out(shape) == expected


def _expected_std(name, shape):
    fan_in, fan_out = init.fan_in_and_fan_out(shape)
    return {
        "xavier_uniform": math.sqrt(2 / (fan_in + fan_out)),
        "xavier_normal": math.sqrt(2 / (fan_in + fan_out)),
        "kaiming_uniform": math.sqrt(2 / fan_in),
        "kaiming_normal": math.sqrt(2 / fan_in),
    }[name]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ["xavier_uniform", "xavier_normal", "kaiming_uniform",
                                  "kaiming_normal"])
def test_variance_scaling_spread(name, shape):
    w = getattr(init, name)(shape, rng=0)
    assert w.shape == shape
    # The sample mean of n draws has standard error std / sqrt(n); allow 5 of them.
    assert abs(w.mean()) < 5 * _expected_std(name, shape) / math.sqrt(w.size)
    assert abs(w.std() / _expected_std(name, shape) - 1) < 0.02
    if "uniform" in name:  # bounds are sqrt(3) standard deviations
        assert np.abs(w).max() <= math.sqrt(3) * _expected_std(name, shape) + 1e-12


def test_kaiming_mode_fan_out_and_gain():
    shape = (64, 16, 3, 3)
    w = init.kaiming_normal(shape, mode="fan_out", nonlinearity="tanh", rng=1)
    assert abs(w.std() / ((5 / 3) / math.sqrt(64 * 9)) - 1) < 0.03
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_uniform(shape, mode="fan")


def test_normal_uniform_zeros():
    assert np.all(init.zeros((3, 2)) == 0)
    w = init.normal((400, 400), std=0.5, rng=2)
    assert abs(w.std() - 0.5) < 0.005
    u = init.uniform((400, 400), r=0.3, rng=3)
    assert u.min() >= -0.3 and u.max() <= 0.3 and abs(u.std() - 0.3 / math.sqrt(3)) < 0.002


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (3, 2, 2, 2)])
def test_orthogonal_rows_or_columns_orthonormal(shape):
    w = init.orthogonal(shape, gain=2.0, rng=4)
    flat = w.reshape(shape[0], -1) / 2.0
    if flat.shape[0] <= flat.shape[1]:
        np.testing.assert_allclose(flat @ flat.T, np.eye(flat.shape[0]), atol=1e-12)
    else:
        np.testing.assert_allclose(flat.T @ flat, np.eye(flat.shape[1]), atol=1e-12)


def test_seeded_rng_is_reproducible():
    a = init.xavier_uniform((4, 5), rng=np.random.default_rng(7))
    b = init.xavier_uniform((4, 5), rng=7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, init.xavier_uniform((4, 5), rng=8))


def test_fan_needs_two_dimensions():
    with pytest.raises(ValueError, match=r"at least 2 dimensions .* got \(5,\)"):
        init.xavier_normal((5,))
