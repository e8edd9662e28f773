"""Fully connected layer and embedding lookup as forward/backward pairs.

Weights use torch's layout so they can be copied into ``torch.nn.Linear``
(weight shape (out_features, in_features)) and ``torch.nn.Embedding``.
"""

import numpy as np

from ._checks import as_float_array, check_ndim, check_shape


def linear_forward(x, w, b=None):
    """Affine layer ``out = x @ w.T + b``.

    x: (N, in_features), or (N, ..., in_features) -- the last axis is contracted.
    w: (out_features, in_features), torch's layout.
    b: (out_features,) or None.
    Returns ``(out, cache)`` with out (N, ..., out_features).
    """
    x = as_float_array("x", x)
    w = as_float_array("w", w)
    b = None if b is None else as_float_array("b", b)
    check_ndim("w", w, (2,), "(out_features, in_features)")
    if x.ndim < 1 or x.shape[-1] != w.shape[1]:
        hint = ""
        if x.ndim >= 1 and x.shape[-1] == w.shape[0]:
            hint = (f"; w is (out_features, in_features) as in torch: a weight of shape {w.shape} "
                    f"in the (in_features, out_features) layout (CS231n's) needs w.T")
        raise ValueError(
            f"x must have shape (N, ..., in_features) with in_features = w.shape[1] = "
            f"{w.shape[1]}; got x shape {x.shape}{hint}"
        )
    out = x @ w.T
    if b is not None:
        check_shape("b", b, (w.shape[0],))
        out = out + b
    return out, (x, w, b is not None)


def linear_backward(dout, cache):
    """Backward pass of the affine layer.

    dout: (N, ..., out_features).
    Returns ``(dx, dw, db)`` shaped like x, w and b (``db`` is None without bias).
    """
    x, w, has_bias = cache
    dx = dout @ w
    # Flatten leading axes so one matmul sums over every example and position.
    dout_2d = dout.reshape(-1, dout.shape[-1])
    dw = dout_2d.T @ x.reshape(-1, x.shape[-1])
    db = dout_2d.sum(axis=0) if has_bias else None
    return dx, dw, db


def embedding_forward(indices, w):
    """Look up rows of the embedding matrix.

    indices: integer array of any shape, e.g. (N, T), values in [0, V).
    w: (V, D) embedding matrix (``torch.nn.Embedding.weight``).
    Returns ``(out, cache)`` with out (*indices.shape, D).
    """
    indices = np.asarray(indices)
    w = as_float_array("w", w)
    check_ndim("w", w, (2,), "(num_embeddings, embedding_dim)")
    if not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"indices must be an integer array, got dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= w.shape[0]):
        raise ValueError(
            f"indices must lie in [0, {w.shape[0]}) (num_embeddings = w.shape[0]); "
            f"got values from {indices.min()} to {indices.max()}"
        )
    return w[indices], (indices, w.shape)


def embedding_backward(dout, cache):
    """Gradient of the embedding matrix: rows used several times add up.

    dout: (*indices.shape, D). Returns ``dw`` (V, D).
    """
    indices, w_shape = cache
    dw = np.zeros(w_shape, dtype=dout.dtype)
    # add.at, not dw[indices] += ..., because repeated indices must accumulate.
    np.add.at(dw, indices.reshape(-1), dout.reshape(-1, w_shape[1]))
    return dw
