"""Data augmentation on image batches (N, C, H, W): label-preserving changes of an input.

- ``random_shift``  translate each image by its own random offset, zero-filled
"""

from __future__ import annotations

import numpy as np

from coursekit.data._validate import _check_count


def random_shift(images, max_shift, rng):
    """Translate each image (N, C, H, W) by its own random offset of up to
    ``max_shift`` pixels in each direction, filling with zeros (data augmentation:
    a shifted digit is the same digit, so the net learns translation invariance)."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got shape {images.shape}; "
                         f"one image? use images[None]")
    max_shift = _check_count("max_shift", max_shift, minimum=0)
    rng = np.random.default_rng(rng)
    n, _, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, n))
    rows = dy[:, None] + np.arange(h)  # (N, H) source rows per image
    cols = dx[:, None] + np.arange(w)
    return padded[np.arange(n)[:, None, None, None], np.arange(images.shape[1])[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]
