"""Input validation shared by the layers: errors that say what to fix.

Every message names the argument, what was received and what was expected,
because a student's first bug is almost always a shape.
"""

import numpy as np


def as_float_array(name, x):
    """Return ``x`` as a floating NumPy array (float64 unless already float).

    Lists and integer arrays are converted; anything that is not an array of numbers
    (ragged lists, strings, None) raises a TypeError that names the argument.
    """
    try:
        x = np.asarray(x)
    except ValueError as error:  # a ragged nested list
        raise TypeError(f"{name} must be an array of numbers (a NumPy array or nested lists of "
                        f"equal length); could not make an array of it: {error}") from None
    if np.issubdtype(x.dtype, np.floating):
        return x
    if (x.dtype == bool or not np.issubdtype(x.dtype, np.number)
            or np.issubdtype(x.dtype, np.complexfloating)):
        raise TypeError(f"{name} must be an array of real numbers, got {type(x).__name__} of dtype "
                        f"{x.dtype}" + (f" ({x.item()!r})" if x.ndim == 0 else "")
                        + "; pass e.g. np.asarray(..., dtype=float)")
    return x.astype(np.float64)


def format_shape(shape):
    """A shape as Python writes a tuple: ``(5,)`` for one entry, ``*`` for None (any size)."""
    parts = ["*" if e is None else str(e) for e in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def check_ndim(name, x, ndims, layout):
    """Raise ValueError unless ``x.ndim`` is in ``ndims``; ``layout`` describes the shape."""
    if np.ndim(x) not in ndims:
        raise ValueError(
            f"{name} must have shape {layout} ({' or '.join(map(str, ndims))}-D), "
            f"got shape {np.shape(x)}"
        )


def check_shape(name, x, expected):
    """Raise ValueError unless ``x.shape == expected`` (``None`` entries match anything)."""
    shape = np.shape(x)
    if len(shape) != len(expected) or any(
        e is not None and s != e for s, e in zip(shape, expected)
    ):
        raise ValueError(f"{name} must have shape {format_shape(expected)}, got shape {shape}")


def check_positive_int(name, value):
    """Raise ValueError unless ``value`` is an integer >= 1 (strides, kernel sizes)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_nonnegative_int(name, value):
    """Raise ValueError unless ``value`` is an integer >= 0 (padding)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def pair(name, value, check=check_positive_int):
    """Turn ``3`` or ``(3, 3)`` into a checked pair ``(3, 3)``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return check(name, value[0]), check(name, value[1])
    value = check(name, value)
    return value, value


def check_probability(name, p):
    """Raise ValueError unless ``0 <= p < 1``."""
    if not 0.0 <= float(p) < 1.0:
        raise ValueError(f"{name} must satisfy 0 <= {name} < 1, got {p!r}")
    return float(p)
