"""Normalisation layers. They differ only in which axes they average over:

==============  ===============================  ===========================
layer           statistics over (for N, C, H, W)  learned scale/shift shape
==============  ===============================  ===========================
batch norm      N, H, W   (per channel)           (C,)
layer norm      C, H, W   (per example)           normalised shape, e.g. (C, H, W)
group norm      C/G, H, W (per example, group)    (C,)
instance norm   H, W      (per example, channel)  (C,) or none
==============  ===============================  ===========================

All four share :func:`_normalize` and :func:`_normalize_backward`. Variances are
biased (divide by the count), eps is added inside the square root, as in torch.
"""

import numpy as np

from ._checks import as_float_array, check_ndim, check_positive_int, check_shape


def _normalize(x, axes, eps):
    """``(x - mean) / sqrt(var + eps)`` over ``axes``; returns (xhat, inv_std, mean, var)."""
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    return (x - mean) * inv_std, inv_std, mean, var


def _normalize_backward(dxhat, xhat, inv_std, axes):
    """Gradient through :func:`_normalize`: mean and variance depend on every entry,
    which subtracts the mean gradient and its projection onto xhat."""
    return inv_std * (dxhat - dxhat.mean(axis=axes, keepdims=True)
                      - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True))


def _channel_shape(x):
    """Shape that broadcasts a (C,) vector over axis 1 of x."""
    return (1, -1) + (1,) * (x.ndim - 2)


def batchnorm_forward(x, gamma, beta, state, train=True, momentum=0.1, eps=1e-5):
    """Batch normalisation (``torch.nn.functional.batch_norm``).

    x: (N, D) or (N, C, H, W); gamma, beta: (D,) / (C,).
    state: dict holding ``running_mean`` and ``running_var`` (created as zeros / ones
        if missing) -- updated IN PLACE when ``train`` is True with
        ``running = (1 - momentum) * running + momentum * batch_stat`` (the unbiased
        batch variance, as torch); used instead of batch statistics when ``train`` is
        False. Pass ``state=None`` to always use batch statistics and track nothing.
    Returns ``(out, cache)``, out shaped like x.
    """
    x = as_float_array("x", x)
    gamma, beta = as_float_array("gamma", gamma), as_float_array("beta", beta)
    check_ndim("x", x, (2, 4), "(N, D) or (N, C, H, W)")
    check_shape("gamma", gamma, (x.shape[1],))
    check_shape("beta", beta, (x.shape[1],))
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = _channel_shape(x)
    if state is not None:
        state.setdefault("running_mean", np.zeros(x.shape[1], dtype=x.dtype))
        state.setdefault("running_var", np.ones(x.shape[1], dtype=x.dtype))
    use_batch_stats = train or state is None
    if use_batch_stats:
        count = x.size // x.shape[1]
        if count < 2 and train:
            raise ValueError(f"batch norm needs more than one value per channel in training, "
                             f"got x shape {x.shape}")
        xhat, inv_std, mean, var = _normalize(x, axes, eps)
        if train and state is not None:
            state["running_mean"] *= 1 - momentum
            state["running_mean"] += momentum * mean.reshape(-1)
            state["running_var"] *= 1 - momentum
            state["running_var"] += momentum * var.reshape(-1) * count / (count - 1)
    else:
        inv_std = 1.0 / np.sqrt(state["running_var"].reshape(shape) + eps)
        xhat = (x - state["running_mean"].reshape(shape)) * inv_std
    out = xhat * gamma.reshape(shape) + beta.reshape(shape)
    return out, (xhat, inv_std, gamma, axes, use_batch_stats)


def batchnorm_backward(dout, cache):
    """Backward pass of batch norm. Returns ``(dx, dgamma, dbeta)``.

    In training mode the batch statistics depend on x, so the gradient has the two
    correction terms of :func:`_normalize_backward`; in eval mode the layer is an
    affine map and ``dx = dout * gamma / sqrt(running_var + eps)``.
    """
    xhat, inv_std, gamma, axes, used_batch_stats = cache
    dgamma = (dout * xhat).sum(axis=axes)
    dbeta = dout.sum(axis=axes)
    dxhat = dout * gamma.reshape(_channel_shape(dout))
    if used_batch_stats:
        return _normalize_backward(dxhat, xhat, inv_std, axes), dgamma, dbeta
    return dxhat * inv_std, dgamma, dbeta


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer normalisation (``torch.nn.functional.layer_norm``): each example is
    normalised over its last ``gamma.ndim`` axes, independent of the batch.

    x: (N, ..., *S) where S = gamma.shape, e.g. x (N, D) with gamma (D,), or
    x (N, C, H, W) with gamma (C, H, W). beta: shape S.
    Returns ``(out, cache)``, out shaped like x.
    """
    x = as_float_array("x", x)
    gamma, beta = as_float_array("gamma", gamma), as_float_array("beta", beta)
    k = gamma.ndim
    if k == 0 or x.ndim < k + 1 or x.shape[-k:] != gamma.shape:
        raise ValueError(
            f"gamma must have the shape of the trailing axes of x that are normalised; "
            f"got gamma shape {gamma.shape} for x shape {x.shape}"
        )
    check_shape("beta", beta, gamma.shape)
    axes = tuple(range(x.ndim - k, x.ndim))
    xhat, inv_std, _, _ = _normalize(x, axes, eps)
    return xhat * gamma + beta, (xhat, inv_std, gamma, axes)


def layernorm_backward(dout, cache):
    """Backward pass of layer norm. Returns ``(dx, dgamma, dbeta)``."""
    xhat, inv_std, gamma, axes = cache
    batch_axes = tuple(range(dout.ndim - len(axes)))
    dgamma = (dout * xhat).sum(axis=batch_axes)
    dbeta = dout.sum(axis=batch_axes)
    return _normalize_backward(dout * gamma, xhat, inv_std, axes), dgamma, dbeta


def groupnorm_forward(x, gamma, beta, num_groups, eps=1e-5):
    """Group normalisation (``torch.nn.functional.group_norm``): channels are split into
    ``num_groups`` consecutive groups; each (example, group) is normalised on its own.

    x: (N, C, *) e.g. (N, C, H, W), C divisible by num_groups; gamma, beta: (C,) or None.
    num_groups = 1 is layer norm over (C, H, W); num_groups = C is instance norm.
    Returns ``(out, cache)``, out shaped like x.
    """
    x = as_float_array("x", x)
    if x.ndim < 2:
        raise ValueError(f"x must have shape (N, C, ...), got shape {x.shape}")
    g = check_positive_int("num_groups", num_groups)
    n, c = x.shape[:2]
    if c % g:
        raise ValueError(f"num_groups must divide the number of channels C = {c}, "
                         f"got num_groups={g}")
    if gamma is not None:
        gamma = as_float_array("gamma", gamma)
        check_shape("gamma", gamma, (c,))
    if beta is not None:
        beta = as_float_array("beta", beta)
        check_shape("beta", beta, (c,))
    grouped = x.reshape(n, g, -1)  # (N, G, C/G * H * W): one row per (example, group)
    xhat, inv_std, _, _ = _normalize(grouped, (2,), eps)
    xhat = xhat.reshape(x.shape)
    shape = _channel_shape(x)
    out = xhat if gamma is None else xhat * gamma.reshape(shape)
    if beta is not None:
        out = out + beta.reshape(shape)
    return out, (xhat, inv_std, gamma, beta is not None, g)


def groupnorm_backward(dout, cache):
    """Backward pass of group norm. Returns ``(dx, dgamma, dbeta)`` (None where the
    forward had no gamma / beta)."""
    xhat, inv_std, gamma, has_beta, g = cache
    stat_axes = (0,) + tuple(range(2, dout.ndim))
    dgamma = None if gamma is None else (dout * xhat).sum(axis=stat_axes)
    dbeta = dout.sum(axis=stat_axes) if has_beta else None
    dxhat = dout if gamma is None else dout * gamma.reshape(_channel_shape(dout))
    n = dout.shape[0]
    dx = _normalize_backward(dxhat.reshape(n, g, -1), xhat.reshape(n, g, -1), inv_std, (2,))
    return dx.reshape(dout.shape), dgamma, dbeta


def instancenorm_forward(x, gamma=None, beta=None, eps=1e-5):
    """Instance normalisation (``torch.nn.functional.instance_norm``): each channel of
    each example is normalised over its spatial positions (style transfer's norm).

    x: (N, C, H, W) (or (N, C, L)); gamma, beta: (C,) or None (torch's default has none).
    Returns ``(out, cache)``, out shaped like x.
    """
    x = as_float_array("x", x)
    check_ndim("x", x, (3, 4), "(N, C, L) or (N, C, H, W)")
    return groupnorm_forward(x, gamma, beta, x.shape[1], eps)


def instancenorm_backward(dout, cache):
    """Backward pass of instance norm. Returns ``(dx, dgamma, dbeta)``."""
    return groupnorm_backward(dout, cache)
