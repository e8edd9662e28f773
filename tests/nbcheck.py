"""The notebook checker: nbval, with declared tolerances for numbers that depend on the CPU.

nbval re-executes every notebook and compares each cell's outputs with the stored ones.
Results of training differ between CPUs (torch's and NumPy's kernels round differently
and chaotic training amplifies it), so a cell may declare a tolerance with a cell tag:

- ``tolerance:rel=0.05``  every number in the cell's text output may differ by 5 % relative
  (to the smaller of the stored and the new value, so the bound is symmetric);
- ``tolerance:abs=0.02``  ... by 0.02 absolute; with both tags either bound suffices.

The words around the numbers, and how many numbers there are, must still match exactly.
A cell without such a tag is compared exactly (after ``tests/sanitize.cfg``). Every
declared tolerance must be narrower than 30 %: ``rel < 0.3``, and ``abs`` below 30 % of the
largest number the cell prints. A number whose spread across CPUs is wider than that is not
a point value to print: print a multi-seed mean, a bound ("< 0.02"), or make the experiment
stable.

How: before nbval compares a tagged cell, each number of the new output that lies within
tolerance of the stored number at the same place is replaced by the stored text; nbval's own
exact comparison (and its diff on failure) does the rest. Loaded for every pytest run of the
repository by the root ``conftest.py``.
"""

from __future__ import annotations

import copy
import functools
import math
import re

import pytest

MAX_REL = 0.3
TAG = re.compile(r"^tolerance:(rel|abs)=(.+)$")
NUMBER = re.compile(r"(?<![A-Za-z_\d.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex")


class ToleranceError(ValueError):
    """A cell's tolerance tags cannot be used (unparseable, or too wide)."""


def parse_tolerance(tags) -> dict[str, float]:
    """``{"rel": r, "abs": a}`` from a cell's tags (only the kinds present); ``{}`` if none."""
    tolerance = {}
    for tag in tags or ():
        match = TAG.match(str(tag))
        if not match:
            if str(tag).startswith("tolerance"):
                raise ToleranceError(f"cell tag {tag!r} is not 'tolerance:rel=R' or "
                                     f"'tolerance:abs=A' (e.g. tolerance:rel=0.05)")
            continue
        kind, text = match.groups()
        try:
            number = float(text)
        except ValueError:
            raise ToleranceError(f"cell tag {tag!r}: {text!r} is not a number") from None
        if not (math.isfinite(number) and number > 0):
            raise ToleranceError(f"cell tag {tag!r}: the tolerance must be > 0")
        if kind == "rel" and number >= MAX_REL:
            raise ToleranceError(
                f"cell tag {tag!r}: a relative tolerance must be below {MAX_REL} (30 %). A "
                f"number that moves more across CPUs should be printed as a multi-seed mean, "
                f"a bound, or not at all")
        if kind in tolerance:
            raise ToleranceError(f"cell has two tolerance:{kind}= tags")
        tolerance[kind] = number
    return tolerance


def split_numbers(text: str) -> tuple[list[str], list[str]]:
    """``(words, numbers)``: the text between numbers and the number tokens, in order."""
    return NUMBER.split(text), NUMBER.findall(text)


def within(new: float, stored: float, tolerance: dict[str, float]) -> bool:
    """Relative to the smaller of the two magnitudes, so the bound is symmetric: a number
    moved 1.3x up or down fails under every allowed ``rel`` (< 0.3)."""
    scale = min(abs(new), abs(stored))
    bound = max(tolerance.get("abs", 0.0), tolerance.get("rel", 0.0) * scale)
    return abs(new - stored) <= bound


def align_text(new: str, stored: str, tolerance: dict[str, float]) -> str:
    """``new`` with each number that is within tolerance of its stored twin replaced by the
    stored token. Returned unchanged when the words or the count of numbers differ (nbval
    then reports the difference)."""
    new_words, new_numbers = split_numbers(new)
    stored_words, stored_numbers = split_numbers(stored)
    if new_words != stored_words or len(new_numbers) != len(stored_numbers):
        return new
    if "abs" in tolerance and stored_numbers:
        scale = max(abs(float(n)) for n in stored_numbers)
        if tolerance["abs"] >= MAX_REL * scale:
            raise ToleranceError(
                f"tolerance:abs={tolerance['abs']:g} is not narrower than 30 % of the largest "
                f"number this cell prints ({scale:g}); use tolerance:rel= or a smaller bound")
    out = [new_words[0]]
    for (new_token, stored_token), word in zip(zip(new_numbers, stored_numbers), new_words[1:]):
        keep = within(float(new_token), float(stored_token), tolerance)
        out.append(stored_token if keep else new_token)
        out.append(word)
    return "".join(out)


def _text_fields(output):
    """``(key, getter, setter)`` for each text field of one nbformat output."""
    if output.get("output_type") == "stream":
        yield ("stream", output.get("name")), output.get("text", ""), ("text", None)
    data = output.get("data") or {}
    for mime in TEXT_MIMES:
        if mime in data:
            yield ("data", mime), data[mime], ("data", mime)


def align_outputs(new_outputs, stored_outputs, tolerance: dict[str, float]):
    """A copy of ``new_outputs`` whose numbers within tolerance equal the stored ones.

    Fields are paired the way nbval pairs them: by kind (stream name or MIME type), in order.
    """
    new_outputs = copy.deepcopy(list(new_outputs))
    stored = {}
    for output in stored_outputs:
        for key, text, _ in _text_fields(output):
            stored.setdefault(key, []).append("".join(text) if isinstance(text, list) else text)
    seen = {}
    for output in new_outputs:
        for key, text, (field, mime) in list(_text_fields(output)):
            index = seen.get(key, 0)
            seen[key] = index + 1
            if index >= len(stored.get(key, ())):
                continue
            text = "".join(text) if isinstance(text, list) else text
            aligned = align_text(text, stored[key][index], tolerance)
            if field == "text":
                output["text"] = aligned
            else:
                output["data"][mime] = aligned
    return new_outputs


def _tolerant_compare(item, original, test, ref, skip_compare=None):
    try:
        tolerance = parse_tolerance(item.cell.metadata.get("tags"))
        if tolerance:
            from nbval.plugin import coalesce_streams

            test = align_outputs(coalesce_streams(copy.deepcopy(list(test))), ref, tolerance)
    except ToleranceError as error:
        item.comparison_traceback = [f"notebook checker: {error}"]
        return False
    return original(test, ref, skip_compare)


def pytest_collection_modifyitems(session, config, items):
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:  # nbval not installed: nothing to do
        return
    for item in items:
        if isinstance(item, IPyNbCell) and any(
                str(tag).startswith("tolerance") for tag in item.cell.metadata.get("tags", ())):
            item.compare_outputs = functools.partial(_tolerant_compare, item,
                                                     item.compare_outputs)


def pytest_report_header(config):
    if not (getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False)):
        return None
    from coursekit.utils import FORCED_CODE_PATHS_ENV, current_code_paths

    paths = current_code_paths()
    detail = ", ".join(f"{k}={v}" for k, v in FORCED_CODE_PATHS_ENV.items())
    return (f"notebook code paths: {paths}" + (f" ({detail})" if paths == "forced" else
            " (this machine's own kernels; make test forces others)"))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line("markers", "nbcheck: tests of the notebook checker")
