"""Held-out data nobody can load: fresh variants of public images, drawn with the secret.

The course's data sets are public (``coursekit.data``), so an accuracy question graded
on, say, ``load_digits(...).X_test`` can be gamed by training on it. In ``tests.py``
draw the held-out set from the instructor secret instead::

    from coursekit.grading import secret_rng
    from coursekit.grading.heldout import perturb_images

    rng = secret_rng("heldout")
    X_heldout = perturb_images(digits.X_test, rng, image_shape=(8, 8), max_shift=1,
                               noise=0.05)
    y_heldout = digits.y_test

Each image is shifted by a random whole number of pixels (at most ``max_shift`` in
each direction, zeros shifted in), and Gaussian noise of standard deviation
``noise`` is added, then values are clipped to ``clip``. Say so in the question
text: the student's model must handle small shifts and noise, which is what
regularization and augmentation are for.
"""

from __future__ import annotations

import numpy as np


def _shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``image`` (..., H, W) moved by (dy, dx) pixels, zeros shifted in."""
    out = np.zeros_like(image)
    h, w = image.shape[-2:]
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[..., yd, xd] = image[..., ys, xs]
    return out


def perturb_images(X, rng: np.random.Generator, image_shape: tuple[int, int] | None = None,
                   max_shift: int = 1, noise: float = 0.05,
                   clip: tuple[float, float] | None = (0.0, 1.0)) -> np.ndarray:
    """Shifted and noised copies of the images in ``X`` (same shape and dtype).

    ``X``: images of shape (N, ..., H, W), or flat rows (N, H*W) with ``image_shape``
    given. ``rng``: a generator, normally ``secret_rng("heldout")``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a np.random.Generator (e.g. secret_rng('heldout')), "
                        f"got {type(rng).__name__}")
    X = np.asarray(X)
    if X.dtype.kind != "f":
        X = X.astype(float)
    if image_shape is not None:
        h, w = (int(v) for v in image_shape)
        if X.ndim != 2 or X.shape[1] != h * w:
            raise ValueError(f"with image_shape={image_shape}, X must have shape (N, {h * w}), "
                             f"got {X.shape}")
        images = X.reshape(len(X), h, w)
    else:
        if X.ndim < 3:
            raise ValueError(f"X must hold images (N, ..., H, W), got shape {X.shape}; for "
                             "flat rows pass image_shape=(H, W)")
        images = X
    max_shift = int(max_shift)
    if max_shift < 0 or max_shift >= min(images.shape[-2:]):
        raise ValueError(f"max_shift must be between 0 and the image size - 1, got {max_shift}")
    if not noise >= 0:
        raise ValueError(f"noise must be a standard deviation >= 0, got {noise}")
    shifts = rng.integers(-max_shift, max_shift + 1, size=(len(images), 2))
    out = np.stack([_shift(image, int(dy), int(dx)) for image, (dy, dx) in zip(images, shifts)])
    if noise > 0:
        out = out + rng.normal(0.0, noise, size=out.shape)
    if clip is not None:
        out = np.clip(out, *clip)
    return out.reshape(X.shape).astype(X.dtype)
