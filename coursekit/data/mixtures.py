"""Mixtures of Gaussians in 2-D: the toy data of generative models (GAN mode collapse)."""

from __future__ import annotations

import numpy as np

from coursekit.data._validate import _check_choice, _check_count, _check_noise

MIXTURE_LAYOUTS = ("ring", "grid")


def gaussian_mixture_modes(n_modes: int = 8, layout: str = "ring",
                           radius: float = 2.0) -> np.ndarray:
    """Centres of the mixture's components, shape (n_modes, 2).

    ``layout="ring"``: ``n_modes`` points evenly on a circle of ``radius``;
    ``"grid"``: a square grid of ``n_modes`` points (a perfect square, e.g. 9 or 25)
    spanning [-radius, radius] on both axes.
    """
    n_modes = _check_count("n_modes", n_modes, minimum=1)
    _check_choice("layout", layout, MIXTURE_LAYOUTS)
    if layout == "ring":
        angle = 2 * np.pi * np.arange(n_modes) / n_modes
        return radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    side = int(round(np.sqrt(n_modes)))
    if side * side != n_modes:
        raise ValueError("layout 'grid' needs a square number of modes (4, 9, 16, 25), "
                         f"got n_modes={n_modes}")
    ticks = np.linspace(-radius, radius, side) if side > 1 else np.zeros(1)
    xx, yy = np.meshgrid(ticks, ticks)
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


def make_gaussian_mixture(n_samples: int = 1000, n_modes: int = 8, std: float = 0.05,
                          layout: str = "ring", radius: float = 2.0, seed: int = 0):
    """Samples of an equal-weight mixture of isotropic Gaussians in 2-D.

    Returns ``(X, labels, modes)``: X (n_samples, 2) float, labels (n_samples,) the
    component of each sample, modes (n_modes, 2) the centres
    (``gaussian_mixture_modes``); ``std`` is each component's standard deviation
    in the units of the points.
    """
    n_samples = _check_count("n_samples", n_samples)
    std = _check_noise(std)
    modes = gaussian_mixture_modes(n_modes, layout, radius)
    rng = np.random.default_rng(seed)
    labels = rng.integers(len(modes), size=n_samples)
    X = modes[labels] + std * rng.standard_normal((n_samples, 2))
    return X, labels, modes
