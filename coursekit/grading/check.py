"""Student self-check: run the public tests, in the notebook or from the command line.

In a notebook (the first cell of every exercise notebook)::

    from coursekit.grading import checker
    check = checker("01_linear_models")
    ...
    check("q1")        # public tests of q1: pass/fail, points, a helpful message
    check()            # every question

The public tests ship inside the installed package
(``coursekit/grading/public/<assignment>.json``), so ``check`` needs neither the
notebook's path nor the repository. ``coursekit check NOTEBOOK`` executes a saved
notebook in a separate process and runs the same tests.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.grading.scoring import score_test

#: where ``coursekit assign`` writes public tests (package data of coursekit)
PUBLIC_DIR = Path(__file__).resolve().parent / "public"

GRADING_ENV = "COURSEKIT_GRADING"


def load_public(assignment: str, public_dir: Path = PUBLIC_DIR) -> dict:
    """The public tests of ``assignment`` (package data written by ``coursekit assign``)."""
    path = Path(public_dir) / f"{assignment}.json"
    if not path.is_file():
        known = sorted(p.stem for p in Path(public_dir).glob("*.json"))
        raise ValueError(f"no public tests for assignment {assignment!r}; known assignments: "
                         f"{known or 'none'} (instructors: run `coursekit assign`)")
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class CheckReport:
    """Scores of the public tests that were run."""

    assignment: str
    scores: dict = field(default_factory=dict)  # question id -> [scoring.Score]
    hidden: dict = field(default_factory=dict)  # question id -> number of hidden tests

    @property
    def points(self) -> float:
        return sum(s.points for scores in self.scores.values() for s in scores)

    @property
    def max_points(self) -> float:
        return sum(s.max_points for scores in self.scores.values() for s in scores)

    @property
    def passed(self) -> bool:
        return all(s.status == "passed" for scores in self.scores.values() for s in scores)

    def text(self) -> str:
        lines = []
        for qid, scores in self.scores.items():
            got = sum(s.points for s in scores)
            top = sum(s.max_points for s in scores)
            mark = "PASS" if all(s.status == "passed" for s in scores) else "FAIL"
            lines.append(f"{qid}: {mark}  {got:.3g}/{top:.3g} points from public tests"
                         + (f" (+{self.hidden.get(qid, 0)} hidden tests at grading)"
                            if self.hidden.get(qid) else ""))
            for score in scores:
                symbol = {"passed": "ok ", "partial": "~  "}.get(score.status, "X  ")
                detail = "" if score.status == "passed" and score.message == "ok" else \
                    f": {score.message}"
                lines.append(f"   {symbol}{score.label}{detail}")
        return "\n".join(lines)


def run_public(assignment: str, namespace: dict, question: str | None = None,
               public_dir: Path = PUBLIC_DIR) -> CheckReport:
    """Run the public tests against the names in ``namespace`` (in this process)."""
    from coursekit.grading.runner import run_test

    public = load_public(assignment, public_dir)
    ids = [q["id"] for q in public["questions"]]
    if question is not None and question not in ids:
        raise ValueError(f"question must be one of {ids}, got {question!r}")
    report = CheckReport(assignment)
    for record in public["questions"]:
        if question is not None and record["id"] != question:
            continue
        scores = []
        for test in record["tests"]:
            try:
                outcome = run_test(test, namespace)
            except NotImplementedError:
                outcome = {"error": "not answered yet (NotImplementedError): write your "
                                    "answer in the cell"}
            except Exception as error:  # noqa: BLE001 - report the student's own error
                outcome = {"error": f"{type(error).__name__}: {error}"}
            scores.append(score_test(test, outcome, reveal=True))
        report.scores[record["id"]] = scores
        report.hidden[record["id"]] = record["hidden_tests"]
    return report


class Checker:
    """``check = checker("01_linear_models")``; then ``check("q1")`` in any cell."""

    def __init__(self, assignment: str, public_dir: Path = PUBLIC_DIR):
        self.assignment = assignment
        self.public_dir = Path(public_dir)
        self.grading = os.environ.get(GRADING_ENV) == "1"
        if not self.grading:
            load_public(assignment, self.public_dir)  # fail early with a clear message

    def __call__(self, question: str | None = None, namespace: dict | None = None):
        if self.grading:  # inside the grader the public tests are run by the grader itself
            return None
        if namespace is None:
            namespace = _caller_namespace()
        report = run_public(self.assignment, namespace, question, self.public_dir)
        print(report.text())
        return None

    def report(self, question: str | None = None, namespace: dict | None = None) -> CheckReport:
        """Like calling the checker, but return the ``CheckReport`` instead of printing."""
        return run_public(self.assignment, namespace if namespace is not None
                          else _caller_namespace(), question, self.public_dir)

    def __repr__(self) -> str:
        return f"checker({self.assignment!r})"


def _caller_namespace() -> dict:
    try:
        shell = get_ipython()  # noqa: F821 - defined inside IPython
        return shell.user_ns
    except NameError:
        return sys._getframe(2).f_globals


def checker(assignment: str) -> Checker:
    """The ``check`` function of an exercise notebook (see the module docstring)."""
    if not isinstance(assignment, str) or not assignment:
        raise ValueError(f"assignment must be the exercise's name, e.g. '01_linear_models', "
                         f"got {assignment!r}")
    return Checker(assignment)


def check_notebook(path: Path, timeout: float = 300.0) -> tuple[CheckReport, list[str]]:
    """Execute a saved notebook in a child process and run its public tests.

    Returns the report and the notebook's cell errors (``cell N: message``).
    """
    from coursekit.grading import sandbox
    from coursekit.grading.assign import PLAN_KEYS
    from coursekit.grading.engine import execute
    from coursekit.grading.notebook import SETUP_PATTERN, SubmissionError, read_submission

    path = Path(path)
    cells = read_submission(path)
    assignment = None
    for cell in cells:
        match = SETUP_PATTERN.search(cell["source"]) if cell["cell_type"] == "code" else None
        if match:
            assignment = match.group(1)
            break
    if assignment is None:
        raise SubmissionError(f"{path} has no setup cell `check = checker(\"NAME\")`; "
                              "it is the first cell of every exercise notebook")
    public = load_public(assignment)
    plan = [{"q": q["id"], "tests": [{k: t.get(k) for k in PLAN_KEYS} for t in q["tests"]]}
            for q in public["questions"]]
    notebook = {"cells": [{"cell_type": c["cell_type"], "source": c["source"]} for c in cells]}
    run = execute(notebook, plan, sandbox.Limits(timeout=timeout), sandboxed=False)
    report = CheckReport(assignment)
    for record in public["questions"]:
        report.scores[record["id"]] = [score_test(t, run.outcomes.get((record["id"], t["key"])),
                                                  reveal=True) for t in record["tests"]]
        report.hidden[record["id"]] = record["hidden_tests"]
    errors = [f"cell {i + 1}: {message}" for i, message in sorted(run.cell_errors.items())]
    return report, errors + run.notes
