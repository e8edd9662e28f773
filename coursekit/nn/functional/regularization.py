"""Dropout and gradient clipping."""

import numpy as np

from ._checks import as_float_array, check_probability


def dropout_forward(x, p, train=True, rng=None):
    """Inverted dropout: zero each entry with probability ``p``, scale survivors by 1/(1-p).

    Scaling at training time keeps the expected activation unchanged, so at test
    time (``train=False``) the layer is the identity and needs no rescaling.
    x: any shape. p: drop probability in [0, 1).
    rng: ``numpy.random.Generator`` (or a seed); pass one for reproducible masks.
    Returns ``(out, cache)``; ``cache`` holds the scaled mask (None in eval mode).
    """
    x = as_float_array("x", x)
    p = check_probability("p", p)
    if not train or p == 0.0:
        return x, None
    rng = np.random.default_rng(rng)
    mask = (rng.random(x.shape) >= p).astype(x.dtype) / (1.0 - p)
    return x * mask, mask


def dropout_backward(dout, cache):
    """Gradient of dropout: the same scaled mask (identity in eval mode)."""
    mask = cache
    return dout if mask is None else dout * mask


def _as_dict(grads):
    if isinstance(grads, dict):
        return grads
    if isinstance(grads, (list, tuple)):
        return dict(enumerate(grads))
    raise TypeError(f"grads must be a dict (or list) of arrays, got {type(grads).__name__}")


def clip_grad_norm(grads, max_norm):
    """Rescale all gradients together so their global L2 norm is at most ``max_norm``.

    grads: dict name -> array (or a list of arrays).
    Returns ``(clipped, total_norm)``: a new dict (list) of arrays and the norm
    before clipping. Same rule as ``torch.nn.utils.clip_grad_norm_``: scale by
    ``max_norm / (total_norm + 1e-6)`` when that is below 1. The direction of the
    update is kept, only its length shrinks (unlike clipping by value).
    """
    if max_norm <= 0:
        raise ValueError(f"max_norm must be positive, got {max_norm!r}")
    as_dict = _as_dict(grads)
    total_norm = float(np.sqrt(sum(np.sum(np.square(g)) for g in as_dict.values())))
    scale = min(1.0, max_norm / (total_norm + 1e-6))
    clipped = {k: g * scale for k, g in as_dict.items()}
    return (clipped if isinstance(grads, dict) else list(clipped.values())), total_norm


def clip_grad_value(grads, clip):
    """Clip every gradient entry to ``[-clip, clip]`` (``torch.nn.utils.clip_grad_value_``).

    Returns a new dict (or list). Changes the update's direction, unlike
    :func:`clip_grad_norm`.
    """
    if clip <= 0:
        raise ValueError(f"clip must be positive, got {clip!r}")
    as_dict = _as_dict(grads)
    clipped = {k: np.clip(g, -clip, clip) for k, g in as_dict.items()}
    return clipped if isinstance(grads, dict) else list(clipped.values())
