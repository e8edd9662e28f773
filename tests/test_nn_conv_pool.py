"""Convolutions and pooling against torch (float64, random shapes)."""

import numpy as np
import pytest
import torch.nn.functional as TF
from nn_oracle import assert_close, check_against_torch

from coursekit.nn import functional as F

# (N, C, H, W, F, (KH, KW), stride, padding, dilation)
CONV2D_CASES = [
    (1, 1, 5, 5, 1, (3, 3), 1, 0, 1),
    (2, 3, 7, 8, 4, (3, 3), 1, 1, 1),
    (3, 2, 9, 7, 3, (3, 3), 2, 1, 1),
    (1, 4, 8, 11, 2, (2, 4), (2, 3), (0, 2), 1),
    (2, 2, 10, 9, 3, (3, 2), 1, 2, (2, 3)),
    (2, 3, 6, 6, 5, (1, 1), 1, 0, 1),
]


@pytest.mark.parametrize("case", CONV2D_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(case, bias):
    n, c, h, w, f, (kh, kw), stride, padding, dilation = case
    rng = np.random.default_rng(h * w + f)
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((f, c, kh, kw))
    b = rng.standard_normal(f) if bias else None

    def ours(x, weight, b=None):
        return F.conv2d_forward(x, weight, b, stride=stride, padding=padding, dilation=dilation)

    def theirs(x, weight, b=None):
        return TF.conv2d(x, weight, b, stride=stride, padding=padding, dilation=dilation)

    inputs = [x, weight, b] if bias else [x, weight]
    check_against_torch(ours, F.conv2d_backward, theirs, inputs)


@pytest.mark.parametrize("case", [(1, 1, 7, 2, 3, 1, 0, 1), (3, 2, 10, 4, 3, 2, 1, 1),
                                  (2, 3, 12, 2, 5, 3, 2, 2)])
def test_conv1d_matches_torch(case):
    n, c, length, f, k, stride, padding, dilation = case
    rng = np.random.default_rng(length)
    x, w, b = rng.standard_normal((n, c, length)), rng.standard_normal((f, c, k)), rng.standard_normal(f)
    check_against_torch(lambda x, w, b: F.conv1d_forward(x, w, b, stride, padding, dilation),
                        F.conv1d_backward,
                        lambda x, w, b: TF.conv1d(x, w, b, stride, padding, dilation), [x, w, b])


# (N, C_in, H, W, C_out, (KH, KW), stride, padding, output_padding, dilation)
TRANSPOSE_CASES = [
    (1, 1, 3, 3, 1, (3, 3), 1, 0, 0, 1),
    (2, 3, 4, 5, 2, (3, 3), 2, 1, 1, 1),
    (2, 2, 5, 3, 3, (2, 2), 2, 0, 0, 1),
    (1, 3, 4, 4, 2, (3, 2), (3, 1), (1, 0), (2, 0), (1, 2)),
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES)
def test_conv_transpose2d_matches_torch(case):
    n, c_in, h, w, c_out, (kh, kw), stride, padding, output_padding, dilation = case
    rng = np.random.default_rng(h + w)
    x = rng.standard_normal((n, c_in, h, w))
    weight = rng.standard_normal((c_in, c_out, kh, kw))
    b = rng.standard_normal(c_out)
    check_against_torch(
        lambda x, weight, b: F.conv_transpose2d_forward(x, weight, b, stride, padding,
                                                        output_padding, dilation),
        F.conv_transpose2d_backward,
        lambda x, weight, b: TF.conv_transpose2d(x, weight, b, stride, padding, output_padding,
                                                 1, dilation),
        [x, weight, b])


def test_conv2d_float32_stays_float32():
    x = np.ones((1, 2, 5, 5), dtype=np.float32)
    w = np.ones((3, 2, 3, 3), dtype=np.float32)
    out, cache = F.conv2d_forward(x, w, np.zeros(3, dtype=np.float32))
    assert out.dtype == np.float32 and out.shape == (1, 3, 3, 3)
    assert all(g.dtype == np.float32 for g in F.conv2d_backward(out, cache))


def test_conv_output_size_formula():
    assert F.conv_output_size(28, 5) == 24
    assert F.conv_output_size(7, 3, stride=2, padding=1) == 4
    assert F.conv_output_size(10, 3, dilation=2) == 6


def test_conv_output_size_is_one_keyword_only_definition():
    from coursekit.viz import conv as viz_conv

    with pytest.raises(TypeError):
        F.conv_output_size(28, 5, 2)  # 12 or 28? a positional stride/padding is refused
    with pytest.raises(TypeError):
        viz_conv.conv_output_size(28, 5, 2)
    assert F.conv_output_size(28, 5, padding=2) == viz_conv.conv_output_size(28, 5, padding=2) == 28
    assert F.conv_output_size(28, 5, stride=2) == viz_conv.conv_output_size(28, 5, stride=2) == 12
    with pytest.raises(ValueError, match="stride must be a positive integer"):
        F.conv_output_size(10, 3, stride=0)


def test_conv_shape_errors_name_argument_and_shapes():
    x = np.zeros((2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\).*\(3, 8, 8\)"):
        F.conv2d_forward(np.zeros((3, 8, 8)), np.zeros((4, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"C = x.shape\[1\] = 3.*\(4, 2, 3, 3\)"):
        F.conv2d_forward(x, np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match="stride must be a positive integer, got 0"):
        F.conv2d_forward(x, np.zeros((4, 3, 3, 3)), stride=0)
    with pytest.raises(ValueError, match="padding must be a non-negative integer"):
        F.conv2d_forward(x, np.zeros((4, 3, 3, 3)), padding=-1)
    with pytest.raises(ValueError, match=r"b must have shape \(4,\), got"):
        F.conv2d_forward(x, np.zeros((4, 3, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="does not fit"):
        F.conv2d_forward(x, np.zeros((4, 3, 9, 9)))
    with pytest.raises(ValueError, match=r"C_in = x.shape\[1\] = 3"):
        F.conv_transpose2d_forward(x, np.zeros((2, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, L\)"):
        F.conv1d_forward(x, np.zeros((4, 3, 3)))


# (N, C, H, W, kernel, stride, padding)
POOL_CASES = [
    (1, 1, 4, 4, 2, None, 0),
    (2, 3, 8, 6, 2, 2, 0),
    (2, 2, 9, 7, 3, 2, 1),
    (1, 3, 7, 9, (3, 2), (1, 2), (1, 0)),
    (3, 2, 5, 5, 3, 1, 0),
]


@pytest.mark.parametrize("case", POOL_CASES)
def test_maxpool2d_matches_torch_including_indices(case):
    n, c, h, w, kernel, stride, padding = case
    rng = np.random.default_rng(h * w)
    x = rng.standard_normal((n, c, h, w))
    check_against_torch(lambda x: F.maxpool2d_forward(x, kernel, stride, padding),
                        F.maxpool2d_backward,
                        lambda x: TF.max_pool2d(x, kernel, stride, padding), [x])
    out, cache = F.maxpool2d_forward(x, kernel, stride, padding)
    import torch
    pooled, indices = TF.max_pool2d(torch.tensor(x), kernel, stride, padding, return_indices=True)
    np.testing.assert_array_equal(cache["indices"], indices.numpy())
    unpooled = F.max_unpool2d(out, cache["indices"], (h, w))
    expected = TF.max_unpool2d(pooled, indices, kernel, stride, padding, output_size=(h, w))
    assert_close(unpooled, expected.numpy(), 1e-12, "max_unpool2d")
    dout = rng.standard_normal((n, c, h, w))
    unpool_in = torch.tensor(out, requires_grad=True)
    TF.max_unpool2d(unpool_in, indices, kernel, stride, padding, output_size=(h, w)).backward(
        torch.tensor(dout))
    assert_close(F.max_unpool2d_backward(dout, cache["indices"]), unpool_in.grad.numpy(),
                 1e-12, "max_unpool2d_backward")


@pytest.mark.parametrize("case", POOL_CASES)
def test_avgpool2d_matches_torch(case):
    n, c, h, w, kernel, stride, padding = case
    rng = np.random.default_rng(h + w)
    x = rng.standard_normal((n, c, h, w))
    check_against_torch(lambda x: F.avgpool2d_forward(x, kernel, stride, padding),
                        F.avgpool2d_backward,
                        lambda x: TF.avg_pool2d(x, kernel, stride, padding), [x])


def test_pool_errors():
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\)"):
        F.maxpool2d_forward(np.zeros((4, 4)), 2)
    with pytest.raises(ValueError, match="stride must be a positive integer, got 0"):
        F.avgpool2d_forward(np.zeros((1, 1, 4, 4)), 2, stride=0)
    with pytest.raises(ValueError, match="kernel_size .* larger than"):
        F.maxpool2d_forward(np.zeros((1, 1, 2, 2)), 3)
    with pytest.raises(ValueError, match="indices must have the shape of x"):
        F.max_unpool2d(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2, 1), dtype=int), (4, 4))
