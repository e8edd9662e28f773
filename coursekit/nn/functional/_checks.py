"""Input validation shared by the layers: errors that say what to fix.

Every message names the argument, what was received and what was expected,
because a student's first bug is almost always a shape.
"""

import numpy as np


def as_float_array(name, x):
    """Return ``x`` as a floating NumPy array (float64 unless already float)."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return x


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
        shown = "(" + ", ".join("*" if e is None else str(e) for e in expected) + ")"
        raise ValueError(f"{name} must have shape {shown}, got shape {shape}")


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
