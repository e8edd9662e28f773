"""Offline data sets for the course: nothing here touches the network.

Every loader is seeded and returns NumPy arrays:

- ``make_regression_1d``      1-D polynomial regression with Gaussian noise
- ``make_classification_2d``  moons, circles, spirals, xor, blobs (2-D points)
- ``load_digits``             scikit-learn's 8x8 digits, stratified split,
                              optionally upsampled to images for CNNs
- ``load_photo``              a scikit-image sample photo as floats in [0, 1]
- ``make_sequences``          noisy sine waves and other generated sequences
- ``make_adding_problem``     the long-range "adding problem" for RNNs
- ``sliding_windows``         turn a series into (window, next value) pairs
- ``load_text_corpus``        docstrings of an installed package as a character corpus
                              (SHA-256, train/validation/test by position), with
                              ``CHAR_VOCABULARY``, ``encode_chars``, ``decode_chars``,
                              ``word_tokens`` (module ``text``)
- ``make_tagging_corpus``     generated "arrive in dalian on 1 dec" sentences with word tags
- ``make_copy_task``          recall the first symbol after ``lag`` distractors
- ``random_shift``            augmentation: shift each image (N, C, H, W) at random
- ``shift_images``            shift images (N, C, H, W) by given offsets (shifted test sets)
- ``make_shapes``             procedural 32x32 RGB shapes (8 classes) with tight boxes
- ``make_shape_scenes``       multi-object shape scenes with labels and boxes (detection)
- ``make_gaussian_mixture``   2-D mixture of Gaussians (ring or grid), the GAN toy data

New data sets go into a module of their own in this package (``coursekit/data/<topic>.py``,
validating arguments with ``coursekit.data._validate``) and are re-exported here.
"""

from __future__ import annotations

import numpy as np

from coursekit.data._validate import Split, _check_choice, _check_count, _check_noise

# Data sets with a module of their own, re-exported here.
from coursekit.data.augment import random_shift, shift_images  # noqa: F401
from coursekit.data.mixtures import MIXTURE_LAYOUTS, gaussian_mixture_modes, make_gaussian_mixture  # noqa: F401
from coursekit.data.shapes import (  # noqa: F401
    SHAPE_CLASSES,
    ShapeImages,
    ShapeScenes,
    make_shape_scenes,
    make_shapes,
)
from coursekit.data.text import (  # noqa: F401  (re-exported)
    CHAR_VOCABULARY,
    PINNED_SHA256,
    TAGS,
    TaggingCorpus,
    TextCorpus,
    decode_chars,
    encode_chars,
    load_text_corpus,
    make_copy_task,
    make_tagging_corpus,
    word_tokens,
)

DATASETS_2D = ("moons", "circles", "spirals", "xor", "blobs")
PHOTOS = ("camera", "astronaut", "coffee", "chelsea", "horse", "text", "coins", "moon")
SEQUENCES = ("sine", "sum_of_sines", "square", "sawtooth", "damped", "random_walk")


# ------------------------------------------------------------- 1-D regression
def make_regression_1d(
    n_samples: int = 30,
    degree: int = 3,
    noise: float = 0.1,
    seed: int = 0,
    x_range: tuple[float, float] = (-1.0, 1.0),
    coefficients=None,
):
    """Noisy samples of a polynomial ``y = sum_k c_k x^k + noise``.

    Returns ``(x, y, coefficients)``: ``x`` and ``y`` of shape (n_samples,),
    ``x`` sorted, and the true coefficients (lowest degree first, shape
    (degree + 1,)). If ``coefficients`` is None they are drawn from N(0, 1).
    """
    n_samples = _check_count("n_samples", n_samples)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    if coefficients is None:
        degree = _check_count("degree", degree, minimum=0)
        coefficients = rng.normal(size=degree + 1)
    coefficients = np.asarray(coefficients, dtype=float)
    if coefficients.ndim != 1 or coefficients.size == 0:
        raise ValueError(
            f"coefficients must be a non-empty 1-D sequence, got shape {coefficients.shape}"
        )
    low, high = x_range
    if not low < high:
        raise ValueError(f"x_range must be (low, high) with low < high, got {x_range}")
    x = np.sort(rng.uniform(low, high, size=n_samples))
    y = np.polynomial.polynomial.polyval(x, coefficients) + noise * rng.normal(size=n_samples)
    return x, y, coefficients


# --------------------------------------------------------- 2-D classification
def make_classification_2d(
    name: str = "moons",
    n_samples: int = 200,
    noise: float = 0.1,
    seed: int = 0,
    n_classes: int | None = None,
):
    """A 2-D classification set: ``(X, y)`` with X (n_samples, 2) float, y (n_samples,) int.

    ``name`` is one of ``DATASETS_2D``. ``n_classes`` is used by "spirals"
    (default 3) and "blobs" (default 3); the others have 2 classes. ``noise``
    is the standard deviation of Gaussian jitter, in the units of the points.
    """
    _check_choice("data set name", name, DATASETS_2D)
    n_samples = _check_count("n_samples", n_samples, minimum=2)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    if name in ("moons", "circles", "xor") and n_classes not in (None, 2):
        raise ValueError(f"{name!r} has 2 classes; got n_classes={n_classes}")
    k = 3 if n_classes is None else _check_count("n_classes", n_classes, minimum=2)
    y = np.arange(n_samples) % (2 if name in ("moons", "circles", "xor") else k)
    rng.shuffle(y)
    if name == "moons":
        t = rng.uniform(0, np.pi, n_samples)
        X = np.where(
            (y == 0)[:, None],
            np.c_[np.cos(t), np.sin(t)],
            np.c_[1 - np.cos(t), 0.5 - np.sin(t)],
        )
    elif name == "circles":
        t = rng.uniform(0, 2 * np.pi, n_samples)
        radius = np.where(y == 0, 1.0, 0.5)
        X = radius[:, None] * np.c_[np.cos(t), np.sin(t)]
    elif name == "xor":
        X = rng.uniform(-1, 1, size=(n_samples, 2))
        # push points away from the axes so the clean set is separable
        X += 0.1 * np.sign(X)
        y = (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int)
    elif name == "spirals":
        r = rng.uniform(0.05, 1.0, n_samples)
        t = 2 * np.pi * r + 2 * np.pi * y / k  # one turn per arm
        X = r[:, None] * np.c_[np.cos(t), np.sin(t)]
    else:  # blobs
        angles = 2 * np.pi * np.arange(k) / k
        centres = 1.5 * np.c_[np.cos(angles), np.sin(angles)]
        X = centres[y] + 0.4 * rng.normal(size=(n_samples, 2))
    X = X + noise * rng.normal(size=X.shape)
    return X.astype(float), y.astype(int)


# --------------------------------------------------------------------- digits
def load_digits(
    test_size: float = 0.25,
    seed: int = 0,
    image_size: int | None = None,
    classes=None,
) -> Split:
    """scikit-learn's handwritten digits (1797 images, 8x8, 10 classes), split stratified.

    Pixel values are scaled to [0, 1].

    - ``image_size=None``: rows are flat vectors, X of shape (N, 64).
    - ``image_size=s``: images for CNNs, shape (N, 1, s, s) float32 (NCHW),
      upsampled bilinearly when s > 8 (e.g. 16 or 28).

    ``classes`` keeps only those digits (e.g. ``range(5)``), labels unchanged.
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction between 0 and 1, got {test_size}")
    digits = sklearn_digits()
    images, y = digits.images / 16.0, digits.target.astype(int)
    if classes is not None:
        classes = np.asarray(list(classes))
        unknown = np.setdiff1d(classes, np.arange(10))
        if unknown.size:
            raise ValueError(f"classes must be digits 0-9, got unknown {unknown.tolist()}")
        keep = np.isin(y, classes)
        images, y = images[keep], y[keep]
    if image_size is None:
        X = images.reshape(len(images), -1)
    else:
        image_size = _check_count("image_size", image_size, minimum=8)
        if image_size != 8:
            from skimage.transform import resize

            images = resize(images, (len(images), image_size, image_size), order=1,
                            anti_aliasing=False)
        X = images[:, None].astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y
    )
    return Split(X_train, X_test, y_train, y_test)


# --------------------------------------------------------------------- photos
def load_photo(name: str = "camera", gray: bool = True, size: int | None = None) -> np.ndarray:
    """A scikit-image sample photo as float64 in [0, 1].

    Returns (H, W) when ``gray`` (colour photos converted to luminance), else
    (H, W, 3). ``size`` resizes the longer side to ``size`` pixels.
    """
    import skimage.data
    from skimage.color import rgb2gray
    from skimage.transform import resize

    _check_choice("photo", name, PHOTOS)
    image = getattr(skimage.data, name)()
    image = image.astype(float) / 255.0 if image.dtype == np.uint8 else image.astype(float)
    if image.ndim == 3 and image.shape[-1] == 4:
        image = image[..., :3]
    if gray and image.ndim == 3:
        image = rgb2gray(image)
    elif not gray and image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if size is not None:
        size = _check_count("size", size, minimum=4)
        scale = size / max(image.shape[:2])
        shape = (max(1, round(image.shape[0] * scale)), max(1, round(image.shape[1] * scale)))
        image = resize(image, shape + image.shape[2:], anti_aliasing=True)
    return np.clip(image, 0.0, 1.0)


# ------------------------------------------------------------------ sequences
def make_sequences(
    name: str = "sine",
    n_sequences: int = 100,
    length: int = 50,
    noise: float = 0.05,
    seed: int = 0,
) -> np.ndarray:
    """Generated 1-D sequences, shape (n_sequences, length).

    Each sequence has its own random frequency and phase (amplitude ~1):
    "sine", "sum_of_sines" (two frequencies), "square", "sawtooth",
    "damped" (decaying sine) and "random_walk" (cumulative Gaussian steps,
    scaled). Gaussian noise of std ``noise`` is added.
    """
    _check_choice("sequence name", name, SEQUENCES)
    n_sequences = _check_count("n_sequences", n_sequences)
    length = _check_count("length", length, minimum=2)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    t = np.arange(length)[None, :]
    freq = rng.uniform(0.02, 0.1, size=(n_sequences, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n_sequences, 1))
    angle = 2 * np.pi * freq * t + phase
    if name == "sine":
        x = np.sin(angle)
    elif name == "sum_of_sines":
        x = 0.6 * np.sin(angle) + 0.4 * np.sin(2.7 * angle)
    elif name == "square":
        x = np.sign(np.sin(angle))
    elif name == "sawtooth":
        x = 2 * ((angle / (2 * np.pi)) % 1.0) - 1
    elif name == "damped":
        decay = rng.uniform(0.01, 0.05, size=(n_sequences, 1))
        x = np.exp(-decay * t) * np.sin(angle)
    else:  # random_walk
        x = np.cumsum(rng.normal(size=(n_sequences, length)), axis=1) / np.sqrt(length)
    return x + noise * rng.normal(size=x.shape)


def make_adding_problem(n_sequences: int = 500, length: int = 30, seed: int = 0):
    """The adding problem (Hochreiter & Schmidhuber, 1997).

    Returns ``(X, y)``: X of shape (n_sequences, length, 2) whose first channel
    is uniform noise in [0, 1] and second channel marks exactly two positions
    with 1 (one in each half); y (n_sequences,) is the sum of the two marked
    values. Solving it needs memory across the whole sequence.
    """
    n_sequences = _check_count("n_sequences", n_sequences)
    length = _check_count("length", length, minimum=2)
    rng = np.random.default_rng(seed)
    values = rng.uniform(0, 1, size=(n_sequences, length))
    marks = np.zeros_like(values)
    half = length // 2
    first = rng.integers(0, half, size=n_sequences)
    second = rng.integers(half, length, size=n_sequences)
    rows = np.arange(n_sequences)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    X = np.stack([values, marks], axis=-1)
    y = values[rows, first] + values[rows, second]
    return X, y


def sliding_windows(series, window: int):
    """Next-value prediction pairs from a series.

    ``series`` of shape (T,) or (N, T) → ``(X, y)`` with X (M, window) and
    y (M,), where each row of X holds ``window`` consecutive values and y the
    value that follows; M = N * (T - window).
    """
    series = np.asarray(series, dtype=float)
    if series.ndim == 1:
        series = series[None, :]
    if series.ndim != 2:
        raise ValueError(f"series must have shape (T,) or (N, T), got {series.shape}")
    window = _check_count("window", window)
    if window >= series.shape[1]:
        raise ValueError(
            f"window must be shorter than the series: window={window}, length={series.shape[1]}"
        )
    views = np.lib.stride_tricks.sliding_window_view(series, window + 1, axis=1)
    views = views.reshape(-1, window + 1)
    return views[:, :window].copy(), views[:, window].copy()
