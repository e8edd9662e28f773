"""Data augmentation on image batches (N, C, H, W): label-preserving changes of an input.

- ``random_shift``  translate each image by its own random offset, zero-filled
- ``shift_images``  translate images by given offsets (a shifted test set), zero-filled
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
    return padded[np.arange(n)[:, None, None, None],
                  np.arange(images.shape[1])[None, :, None, None], rows[:, None, :, None],
                  cols[:, None, None, :]]


def shift_images(images, dy, dx):
    """Translate every image (N, C, H, W) by ``dy`` rows down and ``dx`` columns right
    (negative: up / left), filling with zeros; what leaves the frame is lost.
    ``dy`` and ``dx`` are ints or integer arrays (N,) of per-image offsets."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got shape {images.shape}; "
                         f"one image? use images[None]")
    n, _, h, w = images.shape
    dy = np.broadcast_to(np.asarray(dy, dtype=int), (n,))
    dx = np.broadcast_to(np.asarray(dx, dtype=int), (n,))
    if np.abs(dy).max(initial=0) >= h or np.abs(dx).max(initial=0) >= w:
        raise ValueError(f"shifts must be smaller than the image size {(h, w)}, got up to "
                         f"{int(np.abs(dy).max(initial=0))} rows and "
                         f"{int(np.abs(dx).max(initial=0))} "
                         f"columns")
    m = max(h, w)
    padded = np.pad(images, ((0, 0), (0, 0), (m, m), (m, m)))
    rows = (m - dy)[:, None] + np.arange(h)  # source row of each output row
    cols = (m - dx)[:, None] + np.arange(w)
    return padded[np.arange(n)[:, None, None, None],
                  np.arange(images.shape[1])[None, :, None, None], rows[:, None, :, None],
                  cols[:, None, None, :]]
