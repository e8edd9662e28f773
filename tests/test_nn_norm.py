"""Normalisation layers against torch (float64)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_oracle import assert_close, check_against_torch

from coursekit.nn import functional as F

BATCH_SHAPES = [(6, 5), (2, 5), (3, 4, 5, 6), (1, 3, 4, 5), (5, 2, 1, 3)]


@pytest.mark.parametrize("shape", BATCH_SHAPES)
@pytest.mark.parametrize("train", [True, False])
def test_batchnorm_matches_torch_including_running_stats(shape, train):
    rng = np.random.default_rng(sum(shape))
    channels = shape[1]
    x = 2.0 * rng.standard_normal(shape) + 0.5
    gamma, beta = rng.standard_normal(channels), rng.standard_normal(channels)
    mean0, var0 = rng.standard_normal(channels), rng.uniform(0.5, 2.0, channels)
    torch_mean, torch_var = torch.tensor(mean0), torch.tensor(var0)
    state = {"running_mean": mean0.copy(), "running_var": var0.copy()}
    check_against_torch(
        lambda x, g, b: F.batchnorm_forward(x, g, b, state, train=train, momentum=0.2),
        F.batchnorm_backward,
        lambda x, g, b: TF.batch_norm(x, torch_mean, torch_var, g, b, training=train,
                                      momentum=0.2, eps=1e-5),
        [x, gamma, beta])
    # check_against_torch ran our forward once, torch once: running stats must agree.
    assert_close(state["running_mean"], torch_mean.numpy(), 1e-12, "running_mean")
    assert_close(state["running_var"], torch_var.numpy(), 1e-12, "running_var")


def test_batchnorm_creates_state_and_normalises():
    rng = np.random.default_rng(0)
    x = 3.0 * rng.standard_normal((50, 4)) + 7.0
    state = {}
    out, _ = F.batchnorm_forward(x, np.ones(4), np.zeros(4), state)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-4)
    np.testing.assert_allclose(state["running_mean"], 0.1 * x.mean(axis=0), rtol=1e-12)
    with pytest.raises(ValueError, match=r"gamma must have shape \(4,\), got shape \(3,\)"):
        F.batchnorm_forward(x, np.ones(3), np.zeros(4), state)
    with pytest.raises(ValueError, match="more than one value per channel"):
        F.batchnorm_forward(x[:1], np.ones(4), np.zeros(4), state)


@pytest.mark.parametrize("shape, normalized_ndim", [((4, 6), 1), ((1, 7), 1), ((2, 3, 5), 1),
                                                    ((2, 3, 4, 5), 3), ((3, 2, 3, 3), 2)])
def test_layernorm_matches_torch(shape, normalized_ndim):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape)
    normalized = shape[-normalized_ndim:]
    gamma, beta = rng.standard_normal(normalized), rng.standard_normal(normalized)
    check_against_torch(F.layernorm_forward, F.layernorm_backward,
                        lambda x, g, b: TF.layer_norm(x, normalized, g, b), [x, gamma, beta])


def test_layernorm_shape_error():
    with pytest.raises(ValueError, match=r"gamma must have the shape .* \(5,\) for x shape \(2, 4\)"):
        F.layernorm_forward(np.zeros((2, 4)), np.ones(5), np.zeros(5))


@pytest.mark.parametrize("shape, groups", [((2, 6, 4, 3), 3), ((1, 4, 5, 5), 1), ((3, 4, 2, 3), 4),
                                           ((2, 6, 7), 2)])
def test_groupnorm_matches_torch(shape, groups):
    rng = np.random.default_rng(sum(shape) + groups)
    x = rng.standard_normal(shape)
    gamma, beta = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    check_against_torch(lambda x, g, b: F.groupnorm_forward(x, g, b, groups),
                        F.groupnorm_backward,
                        lambda x, g, b: TF.group_norm(x, groups, g, b), [x, gamma, beta])


def test_groupnorm_rejects_groups_not_dividing_channels():
    with pytest.raises(ValueError, match="num_groups must divide the number of channels C = 6"):
        F.groupnorm_forward(np.zeros((2, 6, 3, 3)), None, None, 4)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 2, 3, 3), (2, 3, 7)])
@pytest.mark.parametrize("affine", [False, True])
def test_instancenorm_matches_torch(shape, affine):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape)
    if affine:
        gamma, beta = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
        check_against_torch(F.instancenorm_forward, F.instancenorm_backward,
                            lambda x, g, b: TF.instance_norm(x, weight=g, bias=b),
                            [x, gamma, beta])
    else:
        check_against_torch(F.instancenorm_forward, lambda d, c: F.instancenorm_backward(d, c)[0],
                            TF.instance_norm, [x])
