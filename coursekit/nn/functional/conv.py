"""Convolutions (cross-correlation, no kernel flip, as in every DL library).

Vectorised with im2col: every receptive field is gathered (through a strided
*view*, no Python loop over pixels) into a column of a matrix, so the convolution
becomes one matrix product. The backward pass scatters gradients back with a
loop over the KH * KW kernel offsets only (9 iterations for a 3x3 kernel).

Layouts are torch's: x (N, C, H, W), w (F, C, KH, KW), b (F,);
conv_transpose2d weight (C_in, C_out, KH, KW).
Output size per axis: ``(n + 2p - d (k - 1) - 1) // s + 1``.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._checks import (
    as_float_array,
    check_ndim,
    check_nonnegative_int,
    check_positive_int,
    check_shape,
    pair,
)


def conv_output_size(n, kernel_size, *, stride=1, padding=0, dilation=1):
    """Output length of a convolution along one axis: ``(n + 2p - d(k-1) - 1) // s + 1``.

    n: input length; kernel_size: k. ``stride``, ``padding`` and ``dilation`` are
    keyword-only (their order differs between libraries, so a positional call is a
    trap). The result is < 1 when the dilated kernel does not fit in the padded
    input; callers raise their own message (``coursekit.viz.conv.conv_output_size``
    raises one).
    """
    n = check_positive_int("n", n)
    kernel_size = check_positive_int("kernel_size", kernel_size)
    stride = check_positive_int("stride", stride)
    padding = check_nonnegative_int("padding", padding)
    dilation = check_positive_int("dilation", dilation)
    return (n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def _im2col(xp, kh, kw, out_h, out_w, stride, dilation):
    """Gather every receptive field of the padded input xp (N, C, Hp, Wp) into a column:
    returns cols (C * KH * KW, N * OH * OW).

    ``sliding_window_view`` gives every (dilated) window as a read-only view; slicing keeps
    every stride-th window and every dilation-th pixel in it. The view has the output
    columns (OW) innermost, which are evenly spaced in memory, so the one copy that
    ``reshape`` makes streams through long runs.
    """
    n, c = xp.shape[:2]
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    windows = sliding_window_view(xp, span, axis=(2, 3))  # (N, C, Hp-span+1, Wp-span+1, *span)
    windows = windows[:, :, : stride[0] * (out_h - 1) + 1: stride[0],
                      : stride[1] * (out_w - 1) + 1: stride[1], :: dilation[0], :: dilation[1]]
    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * out_h * out_w)


def _col2im(dcols, padded_shape, kh, kw, out_h, out_w, stride, dilation):
    """Adjoint of :func:`_im2col`: add dcols (C * KH * KW, N * OH * OW) back into an
    array of ``padded_shape`` (N, C, Hp, Wp). Loops over the KH * KW kernel offsets,
    not over pixels; overlapping windows add up."""
    n, c, hp, wp = padded_shape
    dcols = dcols.reshape(c, kh, kw, n, out_h, out_w)
    # Accumulate in (C, N, Hp, Wp) order so each added slice is laid out like dcols[:, i, j].
    dxp = np.zeros((c, n, hp, wp), dtype=dcols.dtype)
    for i in range(kh):
        h0 = i * dilation[0]
        for j in range(kw):
            w0 = j * dilation[1]
            dxp[:, :, h0:h0 + stride[0] * (out_h - 1) + 1:stride[0],
                w0:w0 + stride[1] * (out_w - 1) + 1:stride[1]] += dcols[:, i, j]
    return dxp.transpose(1, 0, 2, 3)


def _conv_params(stride, padding, dilation):
    return (pair("stride", stride), pair("padding", padding, check_nonnegative_int),
            pair("dilation", dilation))


def _pad(x, padding):
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1):
    """2-D convolution (``torch.nn.functional.conv2d``).

    x: (N, C, H, W); w: (F, C, KH, KW); b: (F,) or None.
    stride, padding, dilation: int or (int, int). Zero padding on both sides.
    Returns ``(out, cache)`` with out (N, F, OH, OW),
    ``OH = (H + 2 padding - dilation (KH - 1) - 1) // stride + 1`` (same for W).
    """
    x = as_float_array("x", x)
    w = as_float_array("w", w)
    b = None if b is None else as_float_array("b", b)
    check_ndim("x", x, (4,), "(N, C, H, W)")
    check_ndim("w", w, (4,), "(F, C, KH, KW)")
    if w.shape[1] != x.shape[1]:
        if x.shape[3] == w.shape[1]:
            raise ValueError(
                f"x must have shape (N, C, H, W) (channels first, as torch) with C = w.shape[1] = "
                f"{w.shape[1]}; got x shape {x.shape}, which looks channels-last (N, H, W, C): "
                f"use x.transpose(0, 3, 1, 2)"
            )
        raise ValueError(
            f"w must have shape (F, C, KH, KW) with C = x.shape[1] = {x.shape[1]} input "
            f"channels; got w shape {w.shape} for x shape {x.shape}"
        )
    stride, padding, dilation = _conv_params(stride, padding, dilation)
    f, c, kh, kw = w.shape
    n, _, h, wd = x.shape
    out_h = conv_output_size(h, kh, stride=stride[0], padding=padding[0], dilation=dilation[0])
    out_w = conv_output_size(wd, kw, stride=stride[1], padding=padding[1], dilation=dilation[1])
    if out_h < 1 or out_w < 1:
        raise ValueError(
            f"kernel {(kh, kw)} (dilation {dilation}) does not fit in the padded input "
            f"{(h + 2 * padding[0], wd + 2 * padding[1])} of x shape {x.shape}; "
            f"use more padding or a smaller kernel"
        )
    xp = _pad(x, padding)
    # im2col: one column per output position, one row per (channel, kernel offset);
    # then the whole convolution is a single matrix product.
    cols = _im2col(xp, kh, kw, out_h, out_w, stride, dilation)
    out = w.reshape(f, -1) @ cols  # (F, N * OH * OW)
    if b is not None:
        check_shape("b", b, (f,))
        out += b[:, None]
    out = out.reshape(f, n, out_h, out_w).transpose(1, 0, 2, 3)
    cache = (cols, w, xp.shape, stride, padding, dilation, b is not None)
    return np.ascontiguousarray(out), cache


def conv2d_backward(dout, cache):
    """Backward pass of :func:`conv2d_forward`.

    dout: (N, F, OH, OW). Returns ``(dx, dw, db)`` shaped (N, C, H, W), (F, C, KH, KW),
    (F,) (``db`` is None if there was no bias).
    """
    cols, w, padded_shape, stride, padding, dilation, has_bias = cache
    f, c, kh, kw = w.shape
    n, _, out_h, out_w = dout.shape
    dout_mat = dout.transpose(1, 0, 2, 3).reshape(f, -1)  # (F, N * OH * OW)
    dw = (dout_mat @ cols.T).reshape(w.shape)
    db = dout_mat.sum(axis=1) if has_bias else None
    dcols = w.reshape(f, -1).T @ dout_mat  # (C * KH * KW, N * OH * OW)
    dxp = _col2im(dcols, padded_shape, kh, kw, out_h, out_w, stride, dilation)
    ph, pw = padding
    dx = dxp[:, :, ph:padded_shape[2] - ph, pw:padded_shape[3] - pw]
    return dx, dw, db


def conv1d_forward(x, w, b=None, stride=1, padding=0, dilation=1):
    """1-D convolution (``torch.nn.functional.conv1d``), a conv2d with height 1.

    x: (N, C, L); w: (F, C, K); b: (F,) or None.
    Returns ``(out, cache)`` with out (N, F, OL), ``OL = (L + 2p - d (K-1) - 1) // s + 1``.
    """
    x = as_float_array("x", x)
    w = as_float_array("w", w)
    check_ndim("x", x, (3,), "(N, C, L)")
    check_ndim("w", w, (3,), "(F, C, K)")
    for name, value in (("stride", stride), ("padding", padding), ("dilation", dilation)):
        if isinstance(value, (tuple, list)):  # ints are checked by conv2d_forward
            raise ValueError(f"{name} of a 1-D convolution must be a single int, got {value!r}")
    out, cache = conv2d_forward(x[:, :, None, :], w[:, :, None, :], b,
                                stride=(1, stride), padding=(0, padding), dilation=(1, dilation))
    return out[:, :, 0, :], cache


def conv1d_backward(dout, cache):
    """Backward pass of :func:`conv1d_forward`. dout (N, F, OL) -> ``(dx, dw, db)``."""
    dx, dw, db = conv2d_backward(dout[:, :, None, :], cache)
    return dx[:, :, 0, :], dw[:, :, 0, :], db


def conv_transpose2d_forward(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1):
    """Transposed convolution (``torch.nn.functional.conv_transpose2d``), the adjoint of
    conv2d: each input pixel stamps a weighted copy of the kernel onto the output,
    ``stride`` pixels apart -- it upsamples.

    x: (N, C_in, H, W); w: (C_in, C_out, KH, KW) (torch's layout); b: (C_out,) or None.
    Returns ``(out, cache)``, out (N, C_out, OH, OW) with
    ``OH = (H - 1) stride - 2 padding + dilation (KH - 1) + output_padding + 1``.
    """
    x = as_float_array("x", x)
    w = as_float_array("w", w)
    b = None if b is None else as_float_array("b", b)
    check_ndim("x", x, (4,), "(N, C_in, H, W)")
    check_ndim("w", w, (4,), "(C_in, C_out, KH, KW)")
    if w.shape[0] != x.shape[1]:
        raise ValueError(
            f"w must have shape (C_in, C_out, KH, KW) with C_in = x.shape[1] = {x.shape[1]}; "
            f"got w shape {w.shape}"
        )
    stride, padding, dilation = _conv_params(stride, padding, dilation)
    output_padding = pair("output_padding", output_padding, check_nonnegative_int)
    for axis in range(2):
        if output_padding[axis] >= max(stride[axis], dilation[axis]):
            raise ValueError(
                f"output_padding must be smaller than stride or dilation, got "
                f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
            )
    n, c_in, h, wd = x.shape
    _, c_out, kh, kw = w.shape
    # Full (uncropped) output, plus output_padding rows/cols at the bottom/right.
    full = tuple((size - 1) * s + d * (k - 1) + 1 + op for size, s, d, k, op in
                 zip((h, wd), stride, dilation, (kh, kw), output_padding))
    out_h, out_w = full[0] - 2 * padding[0], full[1] - 2 * padding[1]
    if out_h < 1 or out_w < 1:
        raise ValueError(f"padding {padding} crops the whole output of x shape {x.shape}")
    x_mat = x.transpose(1, 0, 2, 3).reshape(c_in, -1)  # (C_in, N * H * W)
    dcols = w.reshape(c_in, -1).T @ x_mat  # (C_out * KH * KW, N * H * W)
    out_full = _col2im(dcols, (n, c_out) + full, kh, kw, h, wd, stride, dilation)
    out = out_full[:, :, padding[0]:padding[0] + out_h, padding[1]:padding[1] + out_w]
    if b is not None:
        check_shape("b", b, (c_out,))
        out = out + b[None, :, None, None]
    cache = (x_mat, w, x.shape, full, stride, padding, dilation, b is not None)
    return np.ascontiguousarray(out), cache


def conv_transpose2d_backward(dout, cache):
    """Backward pass of :func:`conv_transpose2d_forward` -- a plain conv2d of ``dout``.

    dout: (N, C_out, OH, OW). Returns ``(dx, dw, db)`` shaped (N, C_in, H, W),
    (C_in, C_out, KH, KW), (C_out,) (``db`` None without bias).
    """
    x_mat, w, x_shape, full, stride, padding, dilation, has_bias = cache
    n, c_in, h, wd = x_shape
    _, c_out, kh, kw = w.shape
    dout_full = np.zeros((n, c_out) + full, dtype=dout.dtype)
    dout_full[:, :, padding[0]:padding[0] + dout.shape[2],
              padding[1]:padding[1] + dout.shape[3]] = dout
    cols = _im2col(dout_full, kh, kw, h, wd, stride, dilation)  # (C_out*KH*KW, N*H*W)
    dx = (w.reshape(c_in, -1) @ cols).reshape(c_in, n, h, wd).transpose(1, 0, 2, 3)
    dw = (x_mat @ cols.T).reshape(w.shape)
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return np.ascontiguousarray(dx), dw, db
