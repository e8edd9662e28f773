"""A procedural image set of coloured shapes: classification images and multi-object scenes.

Nothing is downloaded: every image is drawn from a seed, with NumPy only, a whole batch at a
time (1000 images of 32x32 take a few tens of milliseconds).

- ``make_shapes``        one shape per image (default 32x32), a class label, its tight box
- ``make_shape_scenes``  several non-overlapping shapes per image (default 64x64), with the
                         class label and tight box of every object, for detection

What varies from image to image: the shape's size, position, rotation, colour and texture
(stripes of random frequency, direction and strength), the background colour and its linear
gradient, a few random strokes of clutter under the shapes, and pixel noise.

Images are float32 in [0, 1], NCHW (N, 3, H, W). Boxes are in corner format
``(x1, y1, x2, y2)`` in pixel-edge coordinates: the object covers the pixel columns
``x1 .. x2 - 1`` and rows ``y1 .. y2 - 1``, so ``x2 - x1`` is its width in pixels and the
box is tight around the drawn pixels (``masks`` gives those pixels).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from coursekit.data._validate import _check_count, _check_noise

SHAPE_CLASSES = ("circle", "square", "triangle", "cross", "star", "ring", "crescent", "hexagon")


class ShapeImages(NamedTuple):
    """One shape per image: ``images`` (N, 3, H, W) float32, ``labels`` (N,) int indices
    into ``class_names``, ``boxes`` (N, 4) float (x1, y1, x2, y2), ``masks`` (N, H, W) bool
    (the shape's pixels), ``class_names`` the tuple of names the labels index."""

    images: np.ndarray
    labels: np.ndarray
    boxes: np.ndarray
    masks: np.ndarray
    class_names: tuple


class ShapeScenes(NamedTuple):
    """Several shapes per image: ``images`` (N, 3, H, W) float32; ``boxes`` a list of N
    arrays (k_i, 4) float (x1, y1, x2, y2); ``labels`` a list of N arrays (k_i,) int indices
    into ``class_names``; ``masks`` (N, H, W) int16 instance map (0 background, j + 1 for
    the image's object j); ``class_names`` the tuple of names the labels index."""

    images: np.ndarray
    boxes: list
    labels: list
    masks: np.ndarray
    class_names: tuple


# ------------------------------------------------------------------ checks
def _check_classes(classes) -> tuple:
    if classes is None:
        return SHAPE_CLASSES
    if isinstance(classes, str):
        raise TypeError(f"classes must be a sequence of shape names, e.g. ('circle', 'square'), "
                        f"not the single string {classes!r}; wrap it in a tuple")
    names = []
    for c in classes:
        if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
            if not 0 <= c < len(SHAPE_CLASSES):
                raise ValueError(f"class index {c} out of range: use 0..{len(SHAPE_CLASSES) - 1} "
                                 f"or a name from {', '.join(SHAPE_CLASSES)}")
            c = SHAPE_CLASSES[int(c)]
        if c not in SHAPE_CLASSES:
            raise ValueError(f"unknown shape class {c!r}; choose from: {', '.join(SHAPE_CLASSES)}")
        names.append(c)
    if not names:
        raise ValueError("classes must name at least one shape class")
    if len(set(names)) != len(names):
        raise ValueError(f"classes has duplicates: {names}")
    return tuple(names)


def _check_range(name: str, value, low: float, high: float) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (low, high) of numbers, got {value!r}") from None
    if not (low <= a <= b <= high):
        raise ValueError(f"{name} must satisfy {low} <= low <= high <= {high}, got {value!r}")
    return a, b


# ---------------------------------------------------------------- drawing
def _polygon(u, v, n_sides):
    """Inside a regular polygon inscribed in the unit circle (a vertex at angle 90 deg)."""
    inside = np.ones(u.shape, dtype=bool)
    for k in range(n_sides):
        a = np.pi / 2 + np.pi / n_sides + 2 * np.pi * k / n_sides  # edge normal
        inside &= u * np.cos(a) + v * np.sin(a) <= np.cos(np.pi / n_sides)
    return inside


def _shape_mask(name: str, u, v):
    """Boolean mask of shape ``name`` in local coordinates (u, v), extent about the unit disk."""
    r2 = u * u + v * v
    if name == "circle":
        return r2 <= 1.0
    if name == "ring":
        return (r2 <= 1.0) & (r2 >= 0.55**2)
    if name == "square":
        return _polygon(u, v, 4)
    if name == "triangle":
        return _polygon(u, v, 3)
    if name == "hexagon":
        return _polygon(u, v, 6)
    if name == "cross":
        return (((np.abs(u) <= 0.3) & (np.abs(v) <= 0.95))
                | ((np.abs(v) <= 0.3) & (np.abs(u) <= 0.95)))
    if name == "crescent":
        return (r2 <= 1.0) & ((u - 0.45) ** 2 + v * v >= 0.78**2)
    if name == "star":  # five points: radius swings between 1 (tips) and 0.45 (notches)
        phi = np.arctan2(v, u) - np.pi / 2
        tri = np.abs(((phi * 5 / (2 * np.pi)) % 1.0) * 2 - 1)  # 0 at a tip, 1 at a notch
        return np.sqrt(r2) <= 1.0 - 0.55 * tri
    raise AssertionError(name)


def _luminance(rgb):
    return rgb @ np.array([0.299, 0.587, 0.114])


def _colours(rng, n):
    """Background and foreground colours (n, 3) that differ in luminance by >= 0.3."""
    bg = rng.uniform(0.0, 1.0, size=(n, 3))
    fg = rng.uniform(0.0, 1.0, size=(n, 3))
    lum_bg = _luminance(bg)
    t = rng.uniform(0.0, 1.0, size=n)
    target = np.where(lum_bg > 0.5, t * (lum_bg - 0.3), lum_bg + 0.3 + t * (0.7 - lum_bg))
    # move fg along the grey axis so its luminance lands on the target
    fg = np.clip(fg + (target - _luminance(fg))[:, None], 0.0, 1.0)
    short = np.abs(_luminance(fg) - lum_bg) < 0.3  # clipped: fall back to a grey of the target
    fg[short] = target[short, None]
    return bg, fg


def _backgrounds(rng, n, size, clutter):
    """Backgrounds (n, size, size, 3) float32 with a gradient and clutter strokes, and the
    foreground colour (n, 3) each image's shapes get."""
    bg, fg = _colours(rng, n)
    grid = ((np.arange(size) + 0.5) / size - 0.5).astype(np.float32)
    gx, gy = rng.uniform(-0.25, 0.25, size=(2, n, 1, 1)).astype(np.float32)
    shade = gx * grid[None, None, :] + gy * grid[None, :, None]  # (n, H, W)
    img = np.clip(bg.astype(np.float32)[:, None, None, :] + shade[..., None], 0.0, 1.0)
    # clutter: thin random segments (1 or 2 pixels wide), drawn as points along the segment
    steps = np.linspace(0.0, 1.0, int(1.2 * size))[None, :, None]
    rows = np.arange(n)[:, None]
    for _ in range(clutter):
        p0 = rng.uniform(0, size, size=(n, 2))
        d = rng.normal(size=(n, 2))
        d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-12
        p1 = p0 + d * rng.uniform(0.2, 0.6, size=(n, 1)) * size
        width = rng.integers(1, 3, size=n)[:, None, None]  # 1 or 2 pixels
        normal = np.stack([-d[:, 1], d[:, 0]], axis=1)[:, None, :]
        colour = 0.5 * bg + 0.5 * rng.uniform(0, 1, size=(n, 3))
        for offset in range(2):
            pts = p0[:, None, :] + steps * (p1 - p0)[:, None, :] + offset * normal
            pts = np.floor(pts).astype(np.int64)
            ok = np.all((pts >= 0) & (pts < size), axis=2) & (offset < width[..., 0])
            i = np.broadcast_to(rows, ok.shape)[ok]
            img[i, pts[..., 1][ok], pts[..., 0][ok]] = colour[i]
    return img, fg


def _draw(rng, img, fg, names, kinds, cx, cy, radius, angle, canvas_index, window):
    """Paint shapes into ``img`` (n, H, W, 3); return their masks in their windows.

    Shape j has class ``names[kinds[j]]``, centre (cx, cy), radius, rotation ``angle`` and
    is painted into image ``canvas_index[j]`` with colour ``fg[canvas_index[j]]``. Each shape
    is computed in a ``window`` x ``window`` crop (at least 2 * radius + 2 wide) whose
    top-left corner is (ox, oy). Returns ``masks`` (m, S, S) bool, ``ox``, ``oy`` (m,) int.
    """
    m, size = len(kinds), img.shape[1]
    S = min(int(window), size)
    ox = np.clip(np.floor(cx - S / 2), 0, size - S).astype(np.int64)
    oy = np.clip(np.floor(cy - S / 2), 0, size - S).astype(np.int64)
    grid = np.arange(S, dtype=np.float32) + 0.5
    dx = (ox - cx).astype(np.float32)[:, None, None] + grid[None, None, :]
    dy = (oy - cy).astype(np.float32)[:, None, None] + grid[None, :, None]
    c = np.cos(angle).astype(np.float32)[:, None, None]
    s = np.sin(angle).astype(np.float32)[:, None, None]
    inv_r = (1.0 / radius).astype(np.float32)[:, None, None]
    u = (c * dx + s * dy) * inv_r
    v = (c * dy - s * dx) * inv_r
    masks = np.zeros((m, S, S), dtype=bool)
    for k, name in enumerate(names):
        sel = kinds == k
        if sel.any():
            masks[sel] = _shape_mask(name, u[sel], v[sel])
    # texture: stripes in the shape's own frame, random frequency, direction and strength
    freq = rng.uniform(1.0, 3.0, size=m)
    direction = rng.uniform(0, np.pi, size=m)
    strength = rng.uniform(0.0, 0.35, size=m)
    j, r, q = np.nonzero(masks)
    phase = 2 * np.pi * freq[j] * (u[j, r, q] * np.cos(direction[j])
                                   + v[j, r, q] * np.sin(direction[j]))
    tint = 1.0 - strength[j] * 0.5 * (1 + np.sin(phase))  # in [0.65, 1]
    owner = canvas_index[j]
    img[owner, oy[j] + r, ox[j] + q] = fg[owner] * tint[:, None]
    return masks, ox, oy


def _boxes_from_masks(masks, ox, oy):
    """Tight boxes (m, 4) x1, y1, x2, y2 around each mask's pixels (pixel-edge coordinates);
    masks (m, S, S) sit with their top-left corner at (ox, oy)."""
    cols = masks.any(axis=1)  # (m, S)
    rows = masks.any(axis=2)
    S = masks.shape[1]
    x1 = np.argmax(cols, axis=1) + ox
    x2 = S - np.argmax(cols[:, ::-1], axis=1) + ox
    y1 = np.argmax(rows, axis=1) + oy
    y2 = S - np.argmax(rows[:, ::-1], axis=1) + oy
    return np.stack([x1, y1, x2, y2], axis=1).astype(float)


def _finish(img, noise, rng):
    if noise > 0:
        img += np.float32(noise) * rng.standard_normal(size=img.shape, dtype=np.float32)
    np.clip(img, 0.0, 1.0, out=img)
    return np.ascontiguousarray(img.transpose(0, 3, 1, 2))


# ---------------------------------------------------------------- public
def make_shapes(
    n_samples: int = 1000,
    image_size: int = 32,
    classes=None,
    seed: int = 0,
    noise: float = 0.05,
    clutter: int = 2,
    size_range=(0.22, 0.45),
) -> ShapeImages:
    """Classification images, one shape each: a :class:`ShapeImages`.

    ``classes`` (names or indices into ``SHAPE_CLASSES``; default all eight) are the
    classes drawn, in equal numbers (shuffled); labels index into ``classes``, so
    ``make_shapes(classes=('star', 'ring'))`` has labels 0 and 1. ``size_range`` is the
    shape's radius as a fraction of ``image_size``; ``clutter`` the number of random strokes
    under the shape; ``noise`` the std of Gaussian pixel noise.
    """
    n_samples = _check_count("n_samples", n_samples)
    image_size = _check_count("image_size", image_size, minimum=16)
    names = _check_classes(classes)
    noise = _check_noise(noise)
    clutter = _check_count("clutter", clutter, minimum=0)
    low, high = _check_range("size_range", size_range, 0.1, 0.5)
    rng = np.random.default_rng(seed)

    labels = np.arange(n_samples) % len(names)
    rng.shuffle(labels)
    img, fg = _backgrounds(rng, n_samples, image_size, clutter)
    radius = np.maximum(rng.uniform(low, high, size=n_samples) * image_size, 3.0)
    # keep the whole shape (extent <= radius) inside the image
    cx = rng.uniform(radius, image_size - radius)
    cy = rng.uniform(radius, image_size - radius)
    angle = rng.uniform(0, 2 * np.pi, size=n_samples)
    masks, ox, oy = _draw(rng, img, fg, names, labels, cx, cy, radius, angle,
                          np.arange(n_samples), window=image_size)
    boxes = _boxes_from_masks(masks, ox, oy)
    return ShapeImages(_finish(img, noise, rng), labels.astype(np.int64), boxes, masks, names)


def make_shape_scenes(
    n_scenes: int = 200,
    image_size: int = 64,
    classes=None,
    seed: int = 0,
    objects=(1, 4),
    size_range=(0.1, 0.2),
    noise: float = 0.05,
    clutter: int = 4,
) -> ShapeScenes:
    """Detection scenes with several non-overlapping shapes each: a :class:`ShapeScenes`.

    Each scene holds between ``objects[0]`` and ``objects[1]`` shapes (uniform), with
    classes drawn uniformly from ``classes`` (default all eight; labels index into it) and
    radii a fraction ``size_range`` of ``image_size``. Shapes do not touch (their
    circumscribed circles keep a 1-pixel gap), so every box is tight around its visible
    pixels. A scene with no room left for another shape gets fewer.
    """
    n_scenes = _check_count("n_scenes", n_scenes)
    image_size = _check_count("image_size", image_size, minimum=32)
    names = _check_classes(classes)
    noise = _check_noise(noise)
    clutter = _check_count("clutter", clutter, minimum=0)
    low, high = _check_range("size_range", size_range, 0.03, 0.4)
    try:
        k_min, k_max = objects
    except (TypeError, ValueError):
        raise TypeError(f"objects must be a pair (min, max) of counts, got {objects!r}") from None
    k_min = _check_count("objects[0] (the fewest objects)", k_min, minimum=0)
    k_max = _check_count("objects[1] (the most objects)", k_max, minimum=max(k_min, 1))
    rng = np.random.default_rng(seed)

    img, fg = _backgrounds(rng, n_scenes, image_size, clutter)
    owner, cxs, cys, rads = [], [], [], []
    for i in range(n_scenes):  # rejection sampling of non-overlapping circles (cheap)
        want = rng.integers(k_min, k_max + 1)
        placed = []
        for _ in range(20 * want):
            if len(placed) == want:
                break
            r = max(rng.uniform(low, high) * image_size, 3.0)
            x, y = rng.uniform(r, image_size - r, size=2)
            if all((x - px) ** 2 + (y - py) ** 2 >= (r + pr + 1.0) ** 2 for px, py, pr in placed):
                placed.append((x, y, r))
        for x, y, r in placed:
            owner.append(i)
            cxs.append(x)
            cys.append(y)
            rads.append(r)
    owner = np.asarray(owner, dtype=np.int64)
    kinds = rng.integers(0, len(names), size=len(owner))
    angle = rng.uniform(0, 2 * np.pi, size=len(owner))
    rads = np.asarray(rads, float)
    window = int(np.ceil(2 * max(high * image_size, 3.0))) + 2
    masks, ox, oy = _draw(rng, img, fg, names, kinds, np.asarray(cxs, float),
                          np.asarray(cys, float), rads, angle, owner, window=window)
    all_boxes = _boxes_from_masks(masks, ox, oy)
    # object number within its scene (owner is sorted): 1, 2, ... for the instance map
    first = np.searchsorted(owner, owner)
    number = np.arange(len(owner)) - first + 1
    instance = np.zeros((n_scenes, image_size, image_size), dtype=np.int16)
    j, r, q = np.nonzero(masks)
    instance[owner[j], oy[j] + r, ox[j] + q] = number[j]
    split = np.searchsorted(owner, np.arange(1, n_scenes))
    boxes = [b.reshape(-1, 4) for b in np.split(all_boxes, split)]
    labels = [k.astype(np.int64) for k in np.split(kinds, split)]
    return ShapeScenes(_finish(img, noise, rng), boxes, labels, instance, names)
