"""coursekit.nn.functional dense layers and activations against torch (float64)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_oracle import check_against_torch

from coursekit.nn import functional as F

SHAPES = [(1, 5), (4, 7), (2, 3, 5), (3, 2, 4, 3)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "name, kwargs, torch_fn",
    [
        ("relu", {}, TF.relu),
        ("leaky_relu", {"negative_slope": 0.2}, lambda x: TF.leaky_relu(x, 0.2)),
        ("elu", {"alpha": 1.3}, lambda x: TF.elu(x, 1.3)),
        ("gelu", {}, TF.gelu),
        ("gelu", {"approximate": "tanh"}, lambda x: TF.gelu(x, approximate="tanh")),
        ("sigmoid", {}, torch.sigmoid),
        ("tanh", {}, torch.tanh),
        ("softplus", {}, TF.softplus),
        ("softplus", {"beta": 2.0, "threshold": 5.0}, lambda x: TF.softplus(x, 2.0, 5.0)),
    ],
)
def test_activation_matches_torch(name, kwargs, torch_fn, shape):
    rng = np.random.default_rng(sum(shape))
    x = 3 * rng.standard_normal(shape)
    forward = getattr(F, f"{name}_forward")
    backward = getattr(F, f"{name}_backward")
    check_against_torch(lambda x: forward(x, **kwargs), backward, torch_fn, [x])


def test_sigmoid_and_softplus_do_not_overflow():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s, _ = F.sigmoid_forward(x)
        sp, _ = F.softplus_forward(x)
    np.testing.assert_allclose(s, torch.sigmoid(torch.tensor(x)).numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(sp, TF.softplus(torch.tensor(x)).numpy(), rtol=1e-12)


def test_sign_forward_only():
    out, cache = F.sign_forward(np.array([-2.0, 0.0, 3.5]))
    np.testing.assert_array_equal(out, [-1.0, 0.0, 1.0])
    assert cache is None and not hasattr(F, "sign_backward")


@pytest.mark.parametrize("shape, per_channel", [((4, 3), True), ((2, 3, 4, 5), True), ((5, 6), False)])
def test_prelu_matches_torch(shape, per_channel):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    alpha = rng.uniform(0.0, 0.5, size=shape[1] if per_channel else 1)
    check_against_torch(F.prelu_forward, F.prelu_backward, TF.prelu, [x, alpha])


@pytest.mark.parametrize("shape, pieces", [((3, 6), 2), ((1, 12), 3), ((2, 8, 3, 2), 4)])
def test_maxout_matches_torch(shape, pieces):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)

    def torch_maxout(t):
        grouped = t.reshape(shape[0], shape[1] // pieces, pieces, *shape[2:])
        return grouped.max(dim=2).values

    check_against_torch(lambda x: F.maxout_forward(x, pieces), F.maxout_backward, torch_maxout, [x])


def test_maxout_rejects_indivisible_features():
    with pytest.raises(ValueError, match="num_pieces"):
        F.maxout_forward(np.zeros((2, 5)), 2)


@pytest.mark.parametrize("x_shape, out_features, bias", [((1, 3), 2, True), ((5, 4), 7, True),
                                                         ((2, 3, 6), 4, True), ((4, 5), 3, False)])
def test_linear_matches_torch(x_shape, out_features, bias):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((out_features, x_shape[-1]))
    b = rng.standard_normal(out_features) if bias else None
    if bias:
        check_against_torch(F.linear_forward, F.linear_backward, TF.linear, [x, w, b])
    else:
        check_against_torch(lambda x, w: F.linear_forward(x, w, None),
                            lambda d, c: F.linear_backward(d, c)[:2], TF.linear, [x, w])
        assert F.linear_backward(np.ones((4, 3)), F.linear_forward(x, w)[1])[2] is None


def test_linear_shape_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"x must have shape \(N, \.\.\., in_features\).*\(4, 5\)"):
        F.linear_forward(np.zeros((4, 5)), np.zeros((3, 6)), np.zeros(3))
    with pytest.raises(ValueError, match=r"b must have shape \(3,\), got"):
        F.linear_forward(np.zeros((4, 6)), np.zeros((3, 6)), np.zeros(4))
    with pytest.raises(ValueError, match="w must have shape"):
        F.linear_forward(np.zeros((4, 6)), np.zeros(6), None)


@pytest.mark.parametrize("index_shape", [(5,), (3, 4)])
def test_embedding_matches_torch_with_repeated_indices(index_shape):
    rng = np.random.default_rng(4)
    w = rng.standard_normal((6, 3))
    indices = rng.integers(0, 6, size=index_shape)
    indices.flat[0] = indices.flat[-1]  # a repeated index must accumulate gradient
    check_against_torch(F.embedding_forward, F.embedding_backward,
                        lambda i, w: TF.embedding(i, w), [indices, w], grad_indices=[1])


def test_embedding_rejects_out_of_range_indices():
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 6\)"):
        F.embedding_forward(np.array([0, 6]), np.zeros((6, 2)))


def test_dropout_inverted_scaling_and_mask_reuse():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((200, 50))
    out, mask = F.dropout_forward(x, 0.3, train=True, rng=np.random.default_rng(0))
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out[kept], x[kept] / 0.7, rtol=1e-14)
    dout = rng.standard_normal(x.shape)
    np.testing.assert_allclose(F.dropout_backward(dout, mask), dout * kept / 0.7, rtol=1e-14)
    # Same seed, same mask; eval mode is the identity.
    again, _ = F.dropout_forward(x, 0.3, train=True, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(out, again)
    identity, cache = F.dropout_forward(x, 0.3, train=False)
    np.testing.assert_array_equal(identity, x)
    np.testing.assert_array_equal(F.dropout_backward(dout, cache), dout)
    # Inverted dropout keeps the expected activation: mean over many masks ~ x.
    ones = np.ones((400, 400))
    assert abs(F.dropout_forward(ones, 0.5, rng=1)[0].mean() - 1.0) < 0.01
    with pytest.raises(ValueError, match="p must satisfy"):
        F.dropout_forward(x, 1.0)


def test_clip_grad_norm_and_value_match_torch():
    rng = np.random.default_rng(6)
    grads = {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    params = [torch.zeros(3, 4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)]
    for max_norm in (0.5, 100.0):
        for p, g in zip(params, grads.values()):
            p.grad = torch.tensor(g)
        total = torch.nn.utils.clip_grad_norm_(params, max_norm)
        clipped, norm = F.clip_grad_norm(grads, max_norm)
        assert abs(norm - total.item()) < 1e-12 * total.item()
        for p, g in zip(params, clipped.values()):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12)
    for p, g in zip(params, grads.values()):
        p.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_value_(params, 0.3)
    clipped = F.clip_grad_value([grads["w"], grads["b"]], 0.3)
    for p, g in zip(params, clipped):
        np.testing.assert_array_equal(g, p.grad.numpy())
    with pytest.raises(ValueError, match="max_norm must be positive"):
        F.clip_grad_norm(grads, 0)
