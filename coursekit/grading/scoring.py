"""Scoring one test: a student's outcome against the expected value kept by the grader.

A test record (as stored in the grading bundle and, for public tests, in the
package data ``check`` uses) is a dict::

    {"key": "hidden/0", "visibility": "hidden", "kind": "call" | "value" | "accuracy",
     "target": "fit_least_squares", "label": "fit_least_squares(...)",
     "args": <encoded>, "kwargs": <encoded>, "rtol": 1e-5, "atol": 1e-8,
     "points": 1.0, "thresholds": [[0.8, 0.5], [0.85, 1.0]] | null,
     "expected": <encoded>}

An outcome is ``{"value": <plain value>}``, ``{"error": "message"}`` or ``None``.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

import numpy as np

from coursekit.grading.values import compare, decode, describe


@dataclass(frozen=True)
class TestScore:
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
        return "not answered yet (NotImplementedError)"
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


def score_test(test: dict, outcome: dict | None, reveal: bool | None = None) -> TestScore:
    """Score one outcome; ``reveal`` defaults to True for public tests only."""
    if reveal is None:
        reveal = test["visibility"] == "public"
    max_points = float(test["points"])
    base = dict(key=test["key"], label=test["label"], visibility=test["visibility"],
                max_points=max_points)
    if outcome is None:
        return TestScore(points=0.0, status="error", message="no result (the grader got "
                         "nothing back for this test)", **base)
    if "error" in outcome:
        message = str(outcome["error"])
        if not reveal and "etype" in outcome:  # raised by student code: may carry inputs
            message = hidden_error_message(str(outcome["etype"]))
        return TestScore(points=0.0, status="error", message=message, **base)
    got = outcome["value"]
    expected = decode(test["expected"])
    if test["kind"] == "accuracy":
        credit, message = _accuracy_credit(test, expected, got)
    else:
        verdict = compare(expected, got, test["rtol"], test["atol"], reveal=reveal)
        credit, message = (1.0 if verdict.ok else 0.0), verdict.message
    status = "passed" if credit == 1.0 else ("partial" if credit > 0 else "failed")
    return TestScore(points=round(max_points * credit, 6), status=status, message=message,
                     **base)
