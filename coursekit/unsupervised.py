"""Unsupervised learning from scratch in NumPy: k-means (Lloyd's two steps, k-means++),
PCA by SVD and uniform quantization of codes.

These are estimators, not layers: they have no forward/backward pair, so they do not
belong in ``coursekit.nn``; they compute no picture, so they do not belong in
``coursekit.viz`` (which may draw their results). Chapter 07 and its exercises use them;
scikit-learn (``KMeans``, ``PCA``) is the oracle in ``tests/test_unsupervised.py``.

Shapes: X (n, d) data rows; centres (k, d); labels (n,) integers in [0, k).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["KMeansResult", "kmeans", "kmeans_assign", "kmeans_inertia", "kmeans_plusplus",
           "kmeans_update", "pca", "quantize"]


def _as_data(name, X, min_rows=1):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] < min_rows:
        raise ValueError(f"{name} must be a 2-D array (n, d) with at least {min_rows} rows, "
                         f"got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


def _squared_distances(X, centres):
    """(n, k) squared Euclidean distances, computed exactly as sum((x - c)**2)."""
    return ((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)


def kmeans_assign(X, centres) -> np.ndarray:
    """Assignment step: the index of the nearest centre of each row, shape (n,).

    Ties go to the lowest centre index (``argmin``'s first minimum).
    """
    X = _as_data("X", X)
    centres = _as_data("centres", centres)
    if centres.shape[1] != X.shape[1]:
        raise ValueError(f"centres must have {X.shape[1]} columns like X, got shape {centres.shape}")
    return _squared_distances(X, centres).argmin(axis=1)


def kmeans_update(X, labels, centres) -> np.ndarray:
    """Update step: each centre moves to the mean of its rows, shape (k, d).

    A centre that owns no row stays where it was (``centres`` are the current ones).
    """
    X = _as_data("X", X)
    centres = _as_data("centres", centres)
    labels = np.asarray(labels)
    if labels.shape != (len(X),):
        raise ValueError(f"labels must have shape ({len(X)},), got {labels.shape}")
    k = len(centres)
    counts = np.bincount(labels, minlength=k)[:k]
    sums = np.zeros_like(centres)
    np.add.at(sums, labels, X)
    new = centres.copy()
    owned = counts > 0
    new[owned] = sums[owned] / counts[owned, None]
    return new


def kmeans_inertia(X, centres, labels=None) -> float:
    """The k-means objective: the sum over rows of the squared distance to their centre
    (scikit-learn's ``inertia_``). ``labels`` default to the nearest centres."""
    X = _as_data("X", X)
    centres = _as_data("centres", centres)
    if labels is None:
        labels = kmeans_assign(X, centres)
    return float(((X - centres[labels]) ** 2).sum())


def kmeans_plusplus(X, k: int, rng=None) -> np.ndarray:
    """k-means++ initial centres (Arthur & Vassilvitskii, 2007), shape (k, d).

    The first centre is a uniformly random row; each next one is a row drawn with
    probability proportional to its squared distance to the nearest centre chosen so
    far (D² sampling), so the centres start spread out. rng: a Generator or a seed.
    """
    X = _as_data("X", X)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(X):
        raise ValueError(f"k must be an integer between 1 and n = {len(X)}, got {k!r}")
    rng = np.random.default_rng(rng)
    centres = [X[rng.integers(len(X))]]
    nearest = ((X - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = nearest.sum()
        if total == 0:  # every row already sits on a centre
            index = rng.integers(len(X))
        else:
            index = rng.choice(len(X), p=nearest / total)
        centres.append(X[index])
        nearest = np.minimum(nearest, ((X - X[index]) ** 2).sum(axis=1))
    return np.array(centres)


@dataclass
class KMeansResult:
    """centres (k, d), labels (n,), inertia, n_iter (update steps done), and per
    iteration the centres before the assignment step and the labels it gave
    (``history``: list of (centres, labels), for drawing the steps)."""

    centres: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    history: list = field(default_factory=list)


def kmeans(X, k: int | None = None, init=None, max_iter: int = 100, rng=None) -> KMeansResult:
    """Lloyd's algorithm: alternate the assignment and update steps until the
    assignments no longer change (or ``max_iter`` update steps).

    init: initial centres (k, d); default k-means++ with ``rng``. Each step can only
    lower the objective, so it converges, but to a local minimum that depends on init.
    """
    X = _as_data("X", X)
    if init is None:
        if k is None:
            raise ValueError("give k (the number of clusters) or init (initial centres (k, d))")
        centres = kmeans_plusplus(X, k, rng)
    else:
        centres = _as_data("init", init)
        if k is not None and len(centres) != k:
            raise ValueError(f"init has {len(centres)} centres but k = {k}")
        if centres.shape[1] != X.shape[1]:
            raise ValueError(f"init must have {X.shape[1]} columns like X, got shape {centres.shape}")
    history = []
    labels = None
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        new_labels = kmeans_assign(X, centres)
        history.append((centres.copy(), new_labels))
        if labels is not None and np.array_equal(new_labels, labels):
            n_iter -= 1
            break
        labels = new_labels
        centres = kmeans_update(X, labels, centres)
    labels = kmeans_assign(X, centres)
    return KMeansResult(centres, labels, kmeans_inertia(X, centres, labels), n_iter, history)


def pca(X, n_components: int):
    """Principal components by SVD of the centred data.

    Returns ``(components, explained_variance, mean)``: components (n_components, d)
    orthonormal rows, the variance along each (eigenvalues of the covariance with
    1/(n-1), as scikit-learn), and the mean (d,). Codes are ``(X - mean) @ components.T``.
    Singular vectors are defined only up to sign: each component is flipped so that its
    largest-magnitude entry is positive (scikit-learn's convention), so results repeat.
    """
    X = _as_data("X", X, min_rows=2)
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) \
            or not 1 <= n_components <= min(X.shape):
        raise ValueError(f"n_components must be an integer between 1 and min(n, d) = "
                         f"{min(X.shape)}, got {n_components!r}")
    mean = X.mean(axis=0)
    _, singular, vt = np.linalg.svd(X - mean, full_matrices=False)
    components = vt[:n_components]
    signs = np.sign(components[np.arange(n_components), np.abs(components).argmax(axis=1)])
    return components * signs[:, None], singular[:n_components] ** 2 / (len(X) - 1), mean


def quantize(codes, bits: int, low=None, high=None) -> np.ndarray:
    """Round each column of ``codes`` (n, m) to one of 2**bits evenly spaced levels
    between ``low`` and ``high`` (default: that column's min and max), the value a
    decoder receives after b-bit compression. Same shape as ``codes``."""
    codes = _as_data("codes", codes)
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 24:
        raise ValueError(f"bits must be an integer between 1 and 24, got {bits!r}")
    low = codes.min(axis=0) if low is None else np.broadcast_to(np.asarray(low, float), codes.shape[1:])
    high = codes.max(axis=0) if high is None else np.broadcast_to(np.asarray(high, float), codes.shape[1:])
    span = np.where(high > low, high - low, 1.0)
    levels = 2 ** bits - 1
    steps = np.round((np.clip(codes, low, high) - low) / span * levels)
    return low + steps / levels * span
