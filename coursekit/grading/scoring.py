"""Scoring one test: a student's outcome against the expected value kept by the grader.

A test record (as stored in the grading bundle and, for public tests, in the
package data ``check`` uses) is a dict::

    {"key": "hidden/0", "visibility": "hidden",
     "kind": "call" | "value" | "accuracy" | "raises",
     "target": "fit_least_squares", "label": "fit_least_squares(...)",
     "warnings": None | "error",
     "args": <encoded>, "kwargs": <encoded>, "rtol": 1e-5, "atol": 1e-8,
     "points": 1.0, "thresholds": [[0.8, 0.5], [0.85, 1.0]] | null,
     "expected": <encoded>}

An outcome is ``{"value": <plain value>}`` (plus ``"warning"``, ``"wtype"`` when a
test with ``warnings="error"`` warned), ``{"error": "message", "etype": ...}`` or
``None``. Two keys only the grader's own process sets (never the child): ``"notice":
True`` (the error text is the grader's, e.g. "not answered yet: ..." or a timeout that
names the function, and is shown for hidden tests too) and ``"where_text"`` (where the
student's code raised, ``in the answer cell of q4, `def f`, line 3``). For ``raises`` tests the expected value is the list of accepted exception
names and the value says what the call did (see ``runner.run_test``).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

import numpy as np

from coursekit.grading.messages import unanswered
from coursekit.grading.values import compare, decode, describe


@dataclass(frozen=True)
class Score:
    """Points earned by one test, its status (passed / partial / failed / error) and why."""

    key: str
    label: str
    visibility: str
    points: float
    max_points: float
    status: str
    message: str


def _accuracy_credit(test: dict, labels: np.ndarray, predictions) -> tuple[float, str]:
    if type(predictions) is list:
        try:
            predictions = np.asarray(predictions, dtype=float)
        except (TypeError, ValueError):
            return 0.0, f"predictions must be an array of labels, got {describe(predictions)}"
    if type(predictions) is not np.ndarray:
        return 0.0, f"predictions must be an array of labels, got {describe(predictions)}"
    if predictions.ndim == 2 and predictions.shape[1] == 1:
        predictions = predictions[:, 0]
    if predictions.shape != labels.shape:
        return 0.0, (f"predict returned shape {predictions.shape}; expected one label per "
                     f"row, shape {labels.shape}")
    if predictions.dtype.kind == "f" and np.isnan(predictions).any():
        return 0.0, "NaN found in the predictions"
    correct = int(np.sum(predictions == labels))
    accuracy = correct / labels.size
    credit = 0.0
    for level, fraction in test["thresholds"]:
        if accuracy >= level:
            credit = max(credit, fraction)
    best = max(level for level, fraction in test["thresholds"] if fraction == 1.0) \
        if any(fraction == 1.0 for _, fraction in test["thresholds"]) else None
    target = f"; full credit from {best:.1%}" if best is not None else ""
    return credit, f"accuracy {accuracy:.2%} ({correct}/{labels.size}){target}"


def hidden_error_message(etype: str) -> str:
    """What a hidden test's error may say: a fixed text per exception type, never the
    exception's message (a student could put the hidden inputs in it)."""
    if etype == "NotImplementedError":
        return unanswered()
    if etype == "NameError":
        return ("NameError: a name this test uses is not defined (keep the names from the "
                "exercise and run every cell)")
    if etype == "UnsupportedValue":
        return "the result is not a number, an array, a string, or a tuple/list/dict of those"
    known = getattr(builtins, etype, None)
    shown = etype if isinstance(known, type) and issubclass(known, BaseException) else \
        "an exception"
    return (f"raised {shown} (messages of hidden tests are not shown: test your function "
            "on inputs of your own)")


def _known_name(name: str, base: type) -> str | None:
    """``name`` if it names a builtin subclass of ``base`` (safe to show), else None."""
    known = getattr(builtins, str(name), None)
    return name if isinstance(known, type) and issubclass(known, base) else None


def _raises_verdict(expected: list, got, reveal: bool) -> tuple[bool, str]:
    wanted = " or ".join(str(name).rsplit(".", 1)[-1] for name in expected)
    if type(got) is not dict or not ("raised" in got or "returned" in got):
        return False, f"expected the call to raise {wanted}; got an unreadable result"
    if "returned" in got:
        shown = f" ({got['returned']})" if reveal and type(got["returned"]) is str else ""
        return False, f"expected the call to raise {wanted}, but it returned normally{shown}"
    raised = got["raised"] if type(got["raised"]) is list else []
    if any(name in raised for name in expected):
        return True, f"ok (raised {wanted})"
    first = str(raised[0]) if raised else "an exception"
    if reveal:
        message = got.get("message") if type(got.get("message")) is str else first
        return False, f"expected {wanted}, but it raised {message}"
    shown = _known_name(first, BaseException) or "another exception type"
    return False, (f"expected {wanted}, but it raised {shown} (messages of hidden tests are "
                   "not shown)")


def score_test(test: dict, outcome: dict | None, reveal: bool | None = None) -> Score:
    """Score one outcome; ``reveal`` defaults to True for public tests only."""
    if reveal is None:
        reveal = test["visibility"] == "public"
    max_points = float(test["points"])
    base = dict(key=test["key"], label=test["label"], visibility=test["visibility"],
                max_points=max_points)
    if outcome is None:
        return Score(points=0.0, status="error", message="no result (the grader got "
                         "nothing back for this test)", **base)
    if "error" in outcome:
        message = str(outcome["error"])
        # "notice": written by the grader itself (unanswered, timed out), safe to show
        if not reveal and "etype" in outcome and not outcome.get("notice"):
            message = hidden_error_message(str(outcome["etype"]))  # may carry inputs
        if type(outcome.get("where_text")) is str:  # made by the grader from line numbers
            message = f"{message} ({outcome['where_text']})"
        return Score(points=0.0, status="error", message=message, **base)
    got = outcome["value"]
    expected = decode(test["expected"])
    if test.get("warnings") == "error" and "warning" in outcome:
        if reveal:
            message = f"raised {outcome['warning']} (a warning counts as a failure here)"
        else:
            shown = _known_name(str(outcome.get("wtype")), Warning) or "a warning"
            message = f"raised {shown} (a warning counts as a failure in this test)"
        return Score(points=0.0, status="failed", message=message, **base)
    if test["kind"] == "raises":
        ok, message = _raises_verdict(expected, got, reveal)
        credit = 1.0 if ok else 0.0
    elif test["kind"] == "accuracy":
        credit, message = _accuracy_credit(test, expected, got)
    else:
        verdict = compare(expected, got, test["rtol"], test["atol"], reveal=reveal)
        credit, message = (1.0 if verdict.ok else 0.0), verdict.message
    status = "passed" if credit == 1.0 else ("partial" if credit > 0 else "failed")
    return Score(points=round(max_points * credit, 6), status=status, message=message,
                     **base)
