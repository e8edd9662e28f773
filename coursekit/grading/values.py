"""Plain values: what may cross from a student's process to the grader, and how they compare.

A *plain value* is ``None``, ``bool``, ``int``, ``float``, ``str``, a NumPy array
of a numeric or boolean dtype, or a list / dict (string keys) of plain values.
Nothing else crosses: an object whose ``__eq__`` or ``__array__`` lies is either
turned into honest numbers or refused.

- ``to_plain(obj)``: student side; converts results (NumPy scalars, tuples,
  torch tensors) to plain values or raises ``UnsupportedValue``.
- ``encode(value)`` / ``decode(data)``: JSON-compatible form; arrays are stored as
  base64 of their raw little-endian bytes with dtype and shape, so round trips are
  exact and files are deterministic. ``decode`` accepts only whitelisted dtypes and
  never unpickles.
- ``compare(expected, got, rtol, atol, reveal)``: the verdict, computed by the
  caller's own code (the grader's parent process, or ``check`` for public tests).
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass

import numpy as np

#: dtypes that may cross the boundary (little-endian; no objects, no strings).
ALLOWED_DTYPES = ("|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8",
                  "<f2", "<f4", "<f8")
MAX_DEPTH = 8
MAX_ITEMS = 10_000


class UnsupportedValue(TypeError):
    """A result that is not a plain value (see the module docstring)."""


def _is_torch_tensor(obj) -> bool:
    cls = type(obj)
    return cls.__module__.startswith("torch") and cls.__name__ in ("Tensor", "Parameter")


def to_plain(obj, _depth: int = 0):
    """Convert a student's result to a plain value (exact types only, no subclasses)."""
    if _depth > MAX_DEPTH:
        raise UnsupportedValue(f"result is nested deeper than {MAX_DEPTH} levels")
    cls = type(obj)
    if obj is None or cls in (bool, str):
        return obj
    if cls is int:
        return obj if abs(obj) < 2**63 else float(obj)
    if cls is float:
        return obj
    if isinstance(obj, np.generic) and cls.__module__ == "numpy":
        obj = np.array(obj)
        cls = np.ndarray
    if _is_torch_tensor(obj):
        obj = obj.detach().cpu().numpy()
        cls = type(obj)
    if cls is np.ndarray:
        if obj.dtype.kind not in "biuf":
            raise UnsupportedValue(
                f"an array of dtype {obj.dtype} cannot be graded; return numbers "
                "(a float or integer array)"
            )
        return np.array(obj, dtype=obj.dtype.newbyteorder("<"), copy=True, order="C")
    if cls in (list, tuple):
        if len(obj) > MAX_ITEMS:
            raise UnsupportedValue(f"a {cls.__name__} of {len(obj)} items is too long; "
                                   "return an array instead")
        return [to_plain(item, _depth + 1) for item in obj]
    if cls is dict:
        if any(type(key) is not str for key in obj):
            raise UnsupportedValue("a dict result must have string keys")
        return {key: to_plain(item, _depth + 1) for key, item in obj.items()}
    raise UnsupportedValue(
        f"got a {cls.__module__}.{cls.__qualname__}; expected a number, a NumPy array, "
        "a string, or a tuple/list/dict of those"
    )


def encode(value, _depth: int = 0):
    """A plain value as JSON-compatible data (call ``to_plain`` first)."""
    if _depth > MAX_DEPTH:
        raise UnsupportedValue(f"value is nested deeper than {MAX_DEPTH} levels")
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        # JSON has no NaN/inf: store them as tagged strings
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if type(value) is np.ndarray:
        array = np.array(value, dtype=value.dtype.newbyteorder("<"), order="C")  # keeps 0-d
        return {
            "__ndarray__": base64.b64encode(array.tobytes()).decode("ascii"),
            "dtype": array.dtype.str,
            "shape": list(array.shape),
        }
    if type(value) in (list, tuple):
        return [encode(item, _depth + 1) for item in value]
    if type(value) is dict:
        return {"__dict__": {str(k): encode(v, _depth + 1) for k, v in value.items()}}
    raise UnsupportedValue(f"cannot encode a {type(value).__name__}; call to_plain first")


def decode(data, _depth: int = 0):
    """Inverse of ``encode``; raises ``ValueError`` on anything not produced by it."""
    if _depth > MAX_DEPTH:
        raise ValueError("encoded value nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(item, _depth + 1) for item in data]
    if type(data) is dict:
        if set(data) == {"__float__"}:
            text = data["__float__"]
            if text not in ("nan", "inf", "-inf"):
                raise ValueError(f"bad encoded float {text!r}")
            return float(text)
        if set(data) == {"__dict__"} and type(data["__dict__"]) is dict:
            return {str(k): decode(v, _depth + 1) for k, v in data["__dict__"].items()}
        if set(data) == {"__ndarray__", "dtype", "shape"}:
            dtype = data["dtype"]
            if dtype not in ALLOWED_DTYPES:
                raise ValueError(f"dtype {dtype!r} is not allowed")
            shape = data["shape"]
            if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
                raise ValueError(f"bad array shape {shape!r}")
            raw = base64.b64decode(data["__ndarray__"], validate=True)
            array = np.frombuffer(raw, dtype=np.dtype(dtype))
            if array.size != math.prod(shape):
                raise ValueError(f"array data has {array.size} items, shape says {shape}")
            return array.reshape(shape).astype(array.dtype.newbyteorder("="))
    raise ValueError(f"cannot decode {type(data).__name__} value")


def describe(value) -> str:
    """A short description of a plain value's type and shape (never its content)."""
    if type(value) is np.ndarray:
        return f"array of shape {value.shape} ({value.dtype})"
    if type(value) is list:
        return f"sequence of {len(value)} items"
    if type(value) is dict:
        return f"dict with keys {sorted(value)}"
    return type(value).__name__


def summarize(value, limit: int = 80) -> str:
    """A short printable form of a plain value (for public-test messages)."""
    if type(value) is np.ndarray:
        with np.printoptions(precision=6, threshold=8, edgeitems=3):
            text = np.array2string(value, separator=", ")
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing one result: ``ok`` and a message for the student."""

    ok: bool
    message: str


def _is_number(value) -> bool:
    return type(value) in (bool, int, float) or (
        type(value) is np.ndarray and value.dtype.kind in "biuf")


def _as_numbers(value):
    """A numeric array from a number, an array or a (nested) list of numbers, else None."""
    if _is_number(value):
        return np.asarray(value, dtype=float)
    if type(value) is list and all(_is_number(v) or type(v) is list for v in value):
        try:
            return np.asarray(value, dtype=float)
        except ValueError:  # ragged
            return None
    return None


def compare(expected, got, rtol: float = 1e-5, atol: float = 1e-8,
            reveal: bool = True, where: str = "") -> Verdict:
    """Compare a student's plain value with the expected plain value.

    Numbers and arrays must have the same shape and agree within
    ``|got - expected| <= atol + rtol * |expected|``; NaN only matches NaN.
    Strings and ``None`` must be equal. Lists match element by element (a tuple
    crosses as a list), dicts key by key. With ``reveal=False`` (hidden tests)
    the message never contains expected values.
    """
    from coursekit.grading.messages import none_hint, tolerance_words

    prefix = f"{where}: " if where else ""
    if got is None and expected is not None:
        return Verdict(False, f"{prefix}{none_hint()}")
    if _is_number(expected):
        got_array = _as_numbers(got)
        if got_array is None:
            return Verdict(False, f"{prefix}expected a number or array, got {describe(got)}")
        want = np.asarray(expected, dtype=float)
        if got_array.shape != want.shape:
            shape_text = f"expected shape {want.shape}, " if reveal else "expected a different shape, "
            return Verdict(False, f"{prefix}shape mismatch: {shape_text}got {got_array.shape}")
        nan_got, nan_want = np.isnan(got_array), np.isnan(want)
        if (nan_got & ~nan_want).any():
            return Verdict(False, f"{prefix}NaN found in your result "
                                  f"({int((nan_got & ~nan_want).sum())} entries)")
        if np.isinf(got_array).any() and not np.isinf(want).any():
            return Verdict(False, f"{prefix}infinite value found in your result")
        close = np.isclose(got_array, want, rtol=rtol, atol=atol, equal_nan=True)
        if close.all():
            return Verdict(True, f"{prefix}ok")
        bad = int((~close).sum())
        if not reveal:
            return Verdict(False, f"{prefix}{bad} of {close.size} values are not "
                                  f"{tolerance_words(rtol, atol)} of the expected ones")
        if want.ndim == 0:
            return Verdict(False, f"{prefix}expected {want.item():.6g}, got "
                                  f"{got_array.item():.6g} (not {tolerance_words(rtol, atol)})")
        index = tuple(int(i) for i in np.argwhere(~close)[0])
        return Verdict(
            False,
            f"{prefix}{bad} of {close.size} values are not {tolerance_words(rtol, atol)} of "
            "the expected ones; "
            f"first at index {index}: expected {want[index]:.6g}, got {got_array[index]:.6g}; "
            f"largest difference {np.nanmax(np.abs(got_array - want)):.3g}",
        )
    if expected is None or type(expected) is str:
        if got == expected if type(got) in (type(None), str) else False:
            return Verdict(True, f"{prefix}ok")
        shown = f"expected {expected!r}, got " if reveal else "got "
        return Verdict(False, f"{prefix}{shown}{summarize(got) if reveal else describe(got)}")
    if type(expected) is list:
        if type(got) is not list:
            return Verdict(False, f"{prefix}expected a tuple/list of {len(expected)} items, "
                                  f"got {describe(got)}")
        if len(got) != len(expected):
            return Verdict(False, f"{prefix}expected {len(expected)} items, got {len(got)}")
        for i, (want_item, got_item) in enumerate(zip(expected, got)):
            verdict = compare(want_item, got_item, rtol, atol, reveal, f"{where}[{i}]" if where
                              else f"item {i}")
            if not verdict.ok:
                return verdict
        return Verdict(True, f"{prefix}ok")
    if type(expected) is dict:
        if type(got) is not dict:
            return Verdict(False, f"{prefix}expected a dict, got {describe(got)}")
        if set(got) != set(expected):
            keys = f"expected keys {sorted(expected)}, " if reveal else ""
            return Verdict(False, f"{prefix}{keys}got keys {sorted(got)}")
        for key in expected:
            verdict = compare(expected[key], got[key], rtol, atol, reveal,
                              f"{where}[{key!r}]" if where else f"key {key!r}")
            if not verdict.ok:
                return verdict
        return Verdict(True, f"{prefix}ok")
    raise TypeError(f"expected value of type {type(expected).__name__} is not a plain value")
