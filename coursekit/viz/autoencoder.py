"""What an autoencoder does to one image: its code, its reconstruction, and the images
nearest to it by code and by pixels (retrieval).

Compute: ``encode_decode``, ``retrieve``. Draw: ``plot_code``, ``plot_retrieval``.
Encoder and decoder are plain callables on NumPy arrays (rows (n, d) -> codes (n, m)
and back), so any model fits (a torch module wrapped in ``torch.no_grad``, PCA, ...).
"""

from __future__ import annotations

import numpy as np

from coursekit.viz.embedding import nearest_neighbours
from coursekit.viz.latent import plot_image_grid

__all__ = ["encode_decode", "plot_code", "plot_retrieval", "retrieve"]


def encode_decode(encode, decode, x):
    """Code and reconstruction of one flat input ``x`` (d,): returns ``(code (m,), reconstruction (d,))``."""
    x = np.asarray(x, dtype=float).reshape(1, -1)
    code = np.asarray(encode(x), dtype=float).reshape(1, -1)
    reconstruction = np.asarray(decode(code), dtype=float).reshape(-1)
    if reconstruction.size != x.size:
        raise ValueError(f"decode must return {x.size} values per code (the input's size), "
                         f"got {reconstruction.size}")
    return code[0], reconstruction


def retrieve(vectors, query, k: int = 5, metric: str = "euclidean", exclude: int | None = None):
    """The ``k`` rows of ``vectors`` (n, m) nearest to ``query`` (m,), closest first.

    exclude: a row index left out (the query's own image). Returns ``(indices, scores)``
    of shape (k,): distances for "euclidean", similarities for "cosine".
    """
    vectors = np.asarray(vectors, dtype=float)
    query = np.asarray(query, dtype=float).reshape(1, -1)
    if vectors.ndim != 2 or query.shape[1] != vectors.shape[1]:
        raise ValueError(f"query must have {vectors.shape[-1]} entries like the rows of vectors "
                         f"{vectors.shape}, got {query.size}")
    n = len(vectors)
    available = n - (exclude is not None)
    if not 1 <= k <= available:
        raise ValueError(f"k must be between 1 and {available}, got {k}")
    # The query becomes item n of the stacked set; its neighbours there are the answer.
    order, scores = nearest_neighbours(np.vstack([vectors, query]), n, k=min(n, k + 1),
                                       metric=metric)
    keep = order != exclude if exclude is not None else np.ones(len(order), bool)
    return order[keep][:k], scores[keep][:k]


def plot_code(ax, code, title: str = "code"):
    """Bar chart of a code vector (m,): one bar per dimension."""
    code = np.asarray(code, dtype=float)
    ax.bar(np.arange(len(code)), code, color=np.where(code >= 0, "tab:blue", "tab:red"))
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(code)))
    ax.set_xticklabels([str(i) for i in range(len(code))], fontsize=8)
    ax.set_xlabel("code dimension")
    ax.set_ylabel("value")
    ax.set_title(title)
    return ax


def plot_retrieval(ax, images, labels=None, title: str | None = None):
    """A row of retrieved images (k, H, W), their labels under them."""
    images = np.asarray(images, dtype=float)
    plot_image_grid(ax, images[None], title=title)
    if labels is not None:
        w = images.shape[2]
        ax.set_xticks(np.arange(len(images)) * (w + 1) + w / 2 - 0.5)
        ax.set_xticklabels([str(label) for label in labels], fontsize=9)
    return ax
