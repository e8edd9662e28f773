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

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.grading.scoring import score_test

#: where ``coursekit assign`` writes public tests (package data of coursekit)
PUBLIC_DIR = Path(__file__).resolve().parent / "public"

GRADING_ENV = "COURSEKIT_GRADING"
#: exercise notebooks are named ``<assignment>_exercises.ipynb``
EXERCISE_SUFFIX = "_exercises"


def load_public(assignment: str, public_dir: Path = PUBLIC_DIR) -> dict:
    """The public tests of ``assignment`` (package data written by ``coursekit assign``)."""
    path = Path(public_dir) / f"{assignment}.json"
    if not path.is_file():
        known = sorted(p.stem for p in Path(public_dir).glob("*.json"))
        raise ValueError(f"no public tests for assignment {assignment!r}; known assignments: "
                         f"{known or 'none'} (instructors: run `coursekit assign`)")
    from coursekit.grading.bundle import load_public as load_validated

    return load_validated(path)


def exercise_filename(assignment: str) -> str:
    """The student notebook's file name: ``02_mlp_backprop_exercises.ipynb`` (named apart
    from the lecture ``notebooks/02_mlp_backprop.ipynb``; before the rename it was
    ``02_mlp_backprop.ipynb``, which grading still accepts)."""
    return f"{assignment}{EXERCISE_SUFFIX}.ipynb"


def _pts(points: float) -> str:
    """Points as the headings and the grader print them (up to 4 significant digits)."""
    return f"{points + 0.0:.4g}"


@dataclass
class CheckReport:
    """Scores of the public tests that were run, and the points they stand for.

    ``question_points``: each question's total, as its heading states it;
    ``hidden_points``: what its hidden tests carry (graded later);
    ``total_points``: the assignment's total (every question, checked or not).
    """

    assignment: str
    scores: dict = field(default_factory=dict)  # question id -> [scoring.Score]
    hidden: dict = field(default_factory=dict)  # question id -> number of hidden tests
    question_points: dict = field(default_factory=dict)  # question id -> its points
    total_points: float = 0.0

    @property
    def points(self) -> float:
        return sum(s.points for scores in self.scores.values() for s in scores)

    @property
    def max_points(self) -> float:
        return sum(s.max_points for scores in self.scores.values() for s in scores)

    def hidden_points(self, qid: str) -> float:
        public = sum(s.max_points for s in self.scores.get(qid, []))
        return max(0.0, self.question_points.get(qid, public) - public)

    @property
    def passed(self) -> bool:
        return all(s.status == "passed" for scores in self.scores.values() for s in scores)

    def question_line(self, qid: str) -> str:
        scores = self.scores[qid]
        got = sum(s.points for s in scores)
        top = sum(s.max_points for s in scores)
        passed = sum(s.status == "passed" for s in scores)
        mark = "PASS" if passed == len(scores) else "FAIL"
        n_hidden = self.hidden.get(qid, 0)
        hidden = (f"hidden tests graded later {_pts(self.hidden_points(qid))} points "
                  f"({n_hidden} test{'s' if n_hidden != 1 else ''})" if n_hidden
                  else "no hidden tests")
        return (f"{qid}: {mark}  public tests {_pts(got)}/{_pts(top)} points ({passed} of "
                f"{len(scores)} passed: this question's public share); {hidden}; question "
                f"total {_pts(self.question_points.get(qid, top))} points")

    def total_line(self) -> str:
        """The assignment's line: public points earned, the public share, the total."""
        total = self.total_points or sum(self.question_points.values()) or self.max_points
        share = self.max_points / total if total else 0.0
        return (f"total: public tests {_pts(self.points)}/{_pts(self.max_points)} points "
                f"(public share {share * 100:.3g} % of the assignment); hidden tests graded "
                f"later {_pts(max(0.0, total - self.max_points))} points; assignment total "
                f"{_pts(total)} points")

    def text(self, total: bool | None = None) -> str:
        """Every checked question (its line, then one line per public test); the total line
        too when every question was checked (or ``total=True``)."""
        lines = []
        for qid, scores in self.scores.items():
            lines.append(self.question_line(qid))
            messages = {score.message for score in scores}
            if len(scores) > 1 and len(messages) == 1 and scores[0].status == "error":
                lines.append(f"   X  all {len(scores)} public tests: {messages.pop()}")
                continue  # one cause (e.g. not answered yet): said once
            for score in scores:
                symbol = {"passed": "ok ", "partial": "~  "}.get(score.status, "X  ")
                detail = "" if score.status == "passed" and score.message == "ok" else \
                    f": {score.message}"
                lines.append(f"   {symbol}{score.label}{detail}")
        if total if total is not None else len(self.scores) == len(self.question_points):
            lines.append(self.total_line())
        return "\n".join(lines)


def _answer_cells(record: dict) -> str:
    """How to name a question's answer cell(s): "the answer cell of q4, `def f`"."""
    lines = [line for line in record.get("answer_cells", []) if line]
    qid = record["id"]
    if not lines:
        return f"the answer cell of {qid}"
    shown = " and ".join(f"`{line}`" for line in lines)
    return f"the answer cell{'s' if len(lines) > 1 else ''} of {qid}, {shown}"


def not_answered(record: dict) -> str:
    from coursekit.grading.messages import unanswered

    return (unanswered(label=_answer_cells(record))
            + "; write your answer there (in place of the raise line) and run the cell")


def explain_error(record: dict, error: str) -> str:
    """A student's error in a public test, with what to do about it."""
    if error.startswith(("NotImplementedError", "not answered yet")):
        return not_answered(record)
    if error.startswith("NameError"):
        return (f"{error}: not answered or not run yet; run {_answer_cells(record)} (and "
                "the cells above it), keeping the names the exercise gives")
    return error


def _new_report(assignment: str, public: dict) -> CheckReport:
    return CheckReport(assignment,
                       question_points={q["id"]: float(q["points"]) for q in public["questions"]},
                       total_points=float(sum(q["points"] for q in public["questions"])))


def run_public(assignment: str, namespace: dict, question: str | None = None,
               public_dir: Path = PUBLIC_DIR) -> CheckReport:
    """Run the public tests against the names in ``namespace`` (in this process)."""
    from coursekit.grading.runner import run_test

    public = load_public(assignment, public_dir)
    ids = [q["id"] for q in public["questions"]]
    if question is not None and question not in ids:
        raise ValueError(f"question must be one of {ids}, got {question!r}")
    report = _new_report(assignment, public)
    for record in public["questions"]:
        if question is not None and record["id"] != question:
            continue
        scores = []
        for test in record["tests"]:
            try:
                outcome = run_test(test, namespace)
            except NotImplementedError:
                outcome = {"error": not_answered(record)}
            except Exception as error:  # noqa: BLE001 - report the student's own error
                outcome = {"error": explain_error(record, f"{type(error).__name__}: {error}")}
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

    Returns the report and the notebook's cell errors, each naming the cell as the
    student sees it ("the answer cell of q4, `def f`: message", see ``messages``).
    """
    from coursekit.grading import sandbox
    from coursekit.grading.assign import PLAN_KEYS
    from coursekit.grading.engine import execute
    from coursekit.grading.messages import code_cell_names, name_code_cells, question_of
    from coursekit.grading.messages import unanswered as unanswered_cell
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
    questions_of_code = [q for c, q in zip(cells, question_of(cells)) if c["cell_type"] == "code"]
    run = execute(notebook, plan, sandbox.Limits(timeout=timeout), sandboxed=False)
    names = code_cell_names(cells)
    unanswered = {q for i, message in run.cell_errors.items()
                  if message.startswith("NotImplementedError") and i < len(names)
                  for q in [questions_of_code[i]] if q}
    report = _new_report(assignment, public)
    for record in public["questions"]:
        scores = []
        for test in record["tests"]:
            outcome = run.outcomes.get((record["id"], test["key"]))
            if outcome is not None and "error" in outcome:
                error = str(outcome["error"])
                if record["id"] in unanswered and error.startswith("NameError"):
                    error = "NotImplementedError"  # the answer cell stopped before defining it
                outcome = {**outcome, "error": explain_error(record, error)}
            scores.append(score_test(test, outcome, reveal=True))
        report.scores[record["id"]] = scores
        report.hidden[record["id"]] = record["hidden_tests"]
    labels = [names[i] if i < len(names) else f"a cell ({i + 1})"
              for i in sorted(run.cell_errors)]
    errors = [unanswered_cell(label=label) if message.startswith("NotImplementedError")
              else f"{label}: {message}"
              for label, (_, message) in zip(labels, sorted(run.cell_errors.items()))]
    return report, errors + [name_code_cells(note, names) for note in run.notes]
