"""Pooling over windows of (N, C, H, W) maps, vectorised with strided views.

Output size per axis: ``(n + 2 padding - k) // stride + 1``; ``stride`` defaults
to ``kernel_size`` (non-overlapping windows), as in torch.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._checks import as_float_array, check_ndim, check_nonnegative_int, pair


def _pool_setup(x, kernel_size, stride, padding):
    x = as_float_array("x", x)
    check_ndim("x", x, (4,), "(N, C, H, W)")
    kernel = pair("kernel_size", kernel_size)
    stride = kernel if stride is None else pair("stride", stride)
    padding = pair("padding", padding, check_nonnegative_int)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"padding must be at most half the kernel size {kernel}, got {padding}")
    h, w = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    out_h, out_w = (h - kernel[0]) // stride[0] + 1, (w - kernel[1]) // stride[1] + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(f"kernel_size {kernel} is larger than the padded input {(h, w)} "
                         f"of x shape {x.shape}")
    return x, kernel, stride, padding, (out_h, out_w)


def _windows(xp, kernel, stride, out_size):
    """Read-only view (N, C, OH, OW, KH, KW) of the pooling windows of xp."""
    windows = sliding_window_view(xp, kernel, axis=(2, 3))  # every window, stride 1
    return windows[:, :, : stride[0] * (out_size[0] - 1) + 1: stride[0],
                   : stride[1] * (out_size[1] - 1) + 1: stride[1]]


def maxpool2d_forward(x, kernel_size, stride=None, padding=0):
    """Max pooling (``torch.nn.functional.max_pool2d``; padding counts as -inf).

    x: (N, C, H, W). Returns ``(out, cache)`` with out (N, C, OH, OW);
    ``cache["indices"]`` (N, C, OH, OW) holds the flat position ``h * W + w`` of each
    maximum in its (unpadded) input map, torch's ``return_indices`` convention, for
    :func:`max_unpool2d`.
    """
    x, kernel, stride, padding, out_size = _pool_setup(x, kernel_size, stride, padding)
    n, c, h, w = x.shape
    ph, pw = padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf) \
        if ph or pw else x
    windows = _windows(xp, kernel, stride, out_size).reshape(n, c, *out_size, -1)
    winner = windows.argmax(axis=-1)  # first maximum on ties, like torch
    out = np.take_along_axis(windows, winner[..., None], axis=-1)[..., 0]
    # Row and column of each winner in the unpadded input.
    rows = np.arange(out_size[0])[:, None] * stride[0] + winner // kernel[1] - ph
    cols = np.arange(out_size[1])[None, :] * stride[1] + winner % kernel[1] - pw
    indices = rows * w + cols
    return out, {"indices": indices, "x_shape": x.shape}


def _flat_positions(indices, map_size):
    """Indices into the flattened (N*C*H*W) input for per-map positions (N, C, OH, OW)."""
    n, c = indices.shape[:2]
    return (np.arange(n * c).reshape(n, c, 1, 1) * map_size + indices).ravel()


def maxpool2d_backward(dout, cache):
    """Gradient of max pooling: each ``dout`` entry goes to its window's maximum
    (the "max gate routes"); overlapping windows that share a maximum add up.
    Returns dx (N, C, H, W)."""
    n, c, h, w = cache["x_shape"]
    # bincount adds every value into its slot in one vectorised call.
    dx = np.bincount(_flat_positions(cache["indices"], h * w), weights=dout.ravel(),
                     minlength=n * c * h * w)
    return dx.reshape(n, c, h, w).astype(dout.dtype, copy=False)


def max_unpool2d(x, indices, output_size):
    """Partial inverse of max pooling (``torch.nn.functional.max_unpool2d``): put each
    value back at the position its maximum came from, zeros elsewhere.

    x: (N, C, OH, OW) pooled values; indices: (N, C, OH, OW) from
    ``maxpool2d_forward(...)[1]["indices"]``; output_size: (H, W).
    Returns an array (N, C, H, W).
    """
    x = as_float_array("x", x)
    indices = np.asarray(indices)
    if indices.shape != x.shape:
        raise ValueError(f"indices must have the shape of x {x.shape}, got {indices.shape}")
    h, w = output_size
    if indices.size and (indices.min() < 0 or indices.max() >= h * w):
        raise ValueError(f"indices must lie in [0, H*W) = [0, {h * w}) for output_size "
                         f"{(h, w)}; got {indices.min()}..{indices.max()}")
    n, c = x.shape[:2]
    out = np.zeros(n * c * h * w, dtype=x.dtype)
    out[_flat_positions(indices, h * w)] = x.ravel()
    return out.reshape(n, c, h, w)


def max_unpool2d_backward(dout, indices):
    """Gradient of :func:`max_unpool2d`: read ``dout`` (N, C, H, W) back at ``indices``."""
    n, c = dout.shape[:2]
    return np.take_along_axis(dout.reshape(n, c, -1), indices.reshape(n, c, -1),
                              axis=2).reshape(indices.shape)


def avgpool2d_forward(x, kernel_size, stride=None, padding=0):
    """Average pooling (``torch.nn.functional.avg_pool2d``, zero padding counted in the
    average as torch's default ``count_include_pad=True``).

    x: (N, C, H, W). Returns ``(out, cache)`` with out (N, C, OH, OW).
    """
    x, kernel, stride, padding, out_size = _pool_setup(x, kernel_size, stride, padding)
    ph, pw = padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    out = _windows(xp, kernel, stride, out_size).mean(axis=(-2, -1))
    return out, (x.shape, kernel, stride, padding)


def avgpool2d_backward(dout, cache):
    """Gradient of average pooling: each window spreads ``dout / (KH * KW)`` evenly.
    Returns dx (N, C, H, W)."""
    (n, c, h, w), kernel, stride, (ph, pw) = cache
    out_h, out_w = dout.shape[2:]
    dxp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=dout.dtype)
    share = dout / (kernel[0] * kernel[1])
    for i in range(kernel[0]):  # loop over kernel offsets, not pixels
        for j in range(kernel[1]):
            dxp[:, :, i:i + stride[0] * (out_h - 1) + 1:stride[0],
                j:j + stride[1] * (out_w - 1) + 1:stride[1]] += share
    return dxp[:, :, ph:ph + h, pw:pw + w]
