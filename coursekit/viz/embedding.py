"""Embedding vectors: a 2-D PCA picture and nearest neighbours of one item.

Compute: ``pca_2d``, ``nearest_neighbours``. Draw: ``plot_embedding``.
"""

from __future__ import annotations

import numpy as np

from coursekit.unsupervised import pca

__all__ = ["pca_2d", "nearest_neighbours", "plot_embedding"]


def _as_vectors(vectors) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=float)
    if vectors.ndim != 2 or vectors.shape[0] < 2:
        raise ValueError(
            f"vectors must be a 2-D array (n_items, dim) with at least 2 items, got shape {vectors.shape}")
    return vectors


def pca_2d(vectors) -> tuple[np.ndarray, np.ndarray]:
    """Project ``vectors`` (n, d) on their first two principal components.

    Returns ``(coords, explained)``: coords (n, 2), and the fraction of the
    total variance each of the two components explains, shape (2,). The sign
    of each component is fixed so that its largest-magnitude loading is
    positive (the picture does not flip between runs); the components come from
    ``coursekit.unsupervised.pca``.
    """
    vectors = _as_vectors(vectors)
    components, variances, mean = pca(vectors, min(2, *vectors.shape))
    coords = (vectors - mean) @ components.T
    if coords.shape[1] < 2:  # a 1-D input: pad so callers can always plot two axes
        coords = np.column_stack([coords, np.zeros(len(coords))])
    total = np.sum((vectors - mean) ** 2) / (len(vectors) - 1)
    explained = np.zeros(2)
    explained[: len(variances)] = variances / total if total > 0 else 0.0
    return coords, explained


def nearest_neighbours(vectors, index: int, k: int = 5, metric: str = "cosine"):
    """The ``k`` items closest to item ``index``.

    metric: "cosine" (similarity, larger is closer) or "euclidean" (distance).
    Returns ``(indices, scores)`` each of shape (k,), closest first, the item
    itself excluded.
    """
    vectors = _as_vectors(vectors)
    n = len(vectors)
    if not 0 <= index < n:
        raise ValueError(f"index must be in [0, {n}), got {index}")
    if not 1 <= k < n:
        raise ValueError(f"k must be between 1 and n_items - 1 = {n - 1}, got {k}")
    if metric == "cosine":
        norms = np.linalg.norm(vectors, axis=1)
        norms[norms == 0] = 1.0
        unit = vectors / norms[:, None]
        scores = unit @ unit[index]
        order = np.argsort(-scores, kind="stable")
    elif metric == "euclidean":
        scores = np.linalg.norm(vectors - vectors[index], axis=1)
        order = np.argsort(scores, kind="stable")
    else:
        raise ValueError(f"metric must be 'cosine' or 'euclidean', got {metric!r}")
    order = order[order != index][:k]
    return order, scores[order]


def plot_embedding(ax, coords, labels=None, highlight: int | None = None, neighbours=None,
                   colors=None, annotate: bool = True, explained=None):
    """Scatter ``coords`` (n, 2); draw ``highlight`` as a star and lines to its ``neighbours``."""
    coords = np.asarray(coords)
    ax.scatter(coords[:, 0], coords[:, 1], s=18, c=colors if colors is not None else "tab:blue",
               cmap="tab10" if colors is not None else None, alpha=0.7, linewidths=0)
    if labels is not None and annotate and len(coords) <= 60:
        for (x, y), label in zip(coords, labels):
            ax.annotate(str(label), (x, y), fontsize=7, alpha=0.8, xytext=(2, 2),
                        textcoords="offset points")
    if highlight is not None:
        cx, cy = coords[highlight]
        if neighbours is not None:
            for j in neighbours:
                ax.plot([cx, coords[j, 0]], [cy, coords[j, 1]], color="tab:orange", lw=1)
            ax.scatter(coords[neighbours, 0], coords[neighbours, 1], s=50, facecolors="none",
                       edgecolors="tab:orange", linewidths=1.5)
        ax.scatter([cx], [cy], marker="*", s=200, color="tab:red", zorder=5)
        if labels is not None:
            ax.annotate(str(labels[highlight]), (cx, cy), fontsize=9, weight="bold",
                        xytext=(4, 4), textcoords="offset points")
    if explained is not None:
        ax.set_xlabel(f"PC 1 ({100 * explained[0]:.0f} % of variance)")
        ax.set_ylabel(f"PC 2 ({100 * explained[1]:.0f} % of variance)")
    else:
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
    return ax
