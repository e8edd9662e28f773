"""coursekit.unsupervised against scikit-learn (KMeans, PCA) and brute force."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

from coursekit.unsupervised import (
    kmeans,
    kmeans_assign,
    kmeans_inertia,
    kmeans_plusplus,
    kmeans_update,
    pca,
    quantize,
)


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    return centres[rng.integers(0, 3, 150)] + rng.normal(size=(150, 2)) * 0.5


def test_assign_picks_nearest_centre_and_first_on_ties():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    centres = np.array([[0.0, 0.0], [2.0, 0.0]])
    np.testing.assert_array_equal(kmeans_assign(X, centres), [0, 0, 1])  # x=1 is a tie: first centre


def test_update_is_the_mean_and_keeps_empty_centres():
    X = np.array([[0.0, 0.0], [2.0, 2.0], [10.0, 10.0]])
    centres = np.array([[1.0, 1.0], [9.0, 9.0], [-5.0, 5.0]])
    new = kmeans_update(X, np.array([0, 0, 1]), centres)
    np.testing.assert_allclose(new, [[1.0, 1.0], [10.0, 10.0], [-5.0, 5.0]])


def test_inertia_matches_brute_force(blobs):
    centres = blobs[:3]
    brute = sum(min(np.sum((x - c) ** 2) for c in centres) for x in blobs)
    assert kmeans_inertia(blobs, centres) == pytest.approx(brute, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kmeans_equals_sklearn_from_the_same_start(blobs, seed):
    init = kmeans_plusplus(blobs, 3, rng=seed)
    ours = kmeans(blobs, init=init)
    theirs = KMeans(3, init=init, n_init=1, tol=0, algorithm="lloyd").fit(blobs)
    np.testing.assert_array_equal(ours.labels, theirs.labels_)
    assert ours.inertia == pytest.approx(theirs.inertia_, rel=1e-12)
    np.testing.assert_allclose(ours.centres, theirs.cluster_centers_, atol=1e-12)


def test_kmeans_inertia_never_increases(blobs):
    result = kmeans(blobs, init=blobs[:3] * 0.1)
    values = [kmeans_inertia(blobs, centres, labels) for centres, labels in result.history]
    assert all(b <= a + 1e-12 for a, b in zip(values, values[1:]))
    assert result.inertia <= values[0]


def test_kmeans_plusplus_spreads_centres_and_is_seeded(blobs):
    a, b = kmeans_plusplus(blobs, 3, rng=5), kmeans_plusplus(blobs, 3, rng=5)
    np.testing.assert_array_equal(a, b)
    assert all(any(np.all(c == x) for x in blobs) for c in a)  # centres are data points
    # D^2 sampling puts one centre in each of three blobs far more often than 3 random rows
    truth = np.array([[0, 0], [4, 0], [0, 4.0]])
    spread = [len(set(kmeans_assign(kmeans_plusplus(blobs, 3, rng=s), truth))) == 3 for s in range(40)]
    uniform = [len(set(kmeans_assign(blobs[np.random.default_rng(s).choice(150, 3, replace=False)], truth))) == 3
               for s in range(40)]
    assert np.mean(spread) >= 0.7 and np.mean(uniform) <= 0.4


def test_kmeans_validates_arguments(blobs):
    with pytest.raises(ValueError, match="k must"):
        kmeans_plusplus(blobs, 0)
    with pytest.raises(ValueError, match="give k"):
        kmeans(blobs)
    with pytest.raises(ValueError, match="columns"):
        kmeans_assign(blobs, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="labels must have shape"):
        kmeans_update(blobs, np.zeros(3, int), blobs[:2])


def test_pca_matches_sklearn_including_signs():
    X = np.random.default_rng(1).normal(size=(80, 6)) @ np.diag([5, 3, 2, 1, 0.5, 0.1])
    components, variances, mean = pca(X, 4)
    reference = PCA(4).fit(X)
    np.testing.assert_allclose(components, reference.components_, atol=1e-10)
    np.testing.assert_allclose(variances, reference.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(mean, X.mean(axis=0))
    np.testing.assert_allclose(components @ components.T, np.eye(4), atol=1e-12)
    assert np.all(components[np.arange(4), np.abs(components).argmax(axis=1)] > 0)
    with pytest.raises(ValueError, match="n_components"):
        pca(X, 7)


def test_quantize_levels_and_limits():
    codes = np.array([[0.0, -1.0], [0.5, 0.0], [1.0, 1.0], [0.26, 0.4]])
    q = quantize(codes, 2)
    assert np.unique(q[:, 0]).size <= 4 and np.all(np.isin(np.round(q[:, 0] * 3, 10), [0, 1, 2, 3]))
    np.testing.assert_allclose(q[[0, 2]], codes[[0, 2]])  # the extremes are levels
    np.testing.assert_allclose(quantize(codes, 20), codes, atol=1e-5)
    np.testing.assert_allclose(quantize(np.array([[5.0]]), 3, low=0.0, high=1.0), [[1.0]])  # clipped
    with pytest.raises(ValueError, match="bits"):
        quantize(codes, 0)
