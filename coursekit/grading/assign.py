"""``coursekit assign``: from ``solutions/<assignment>/`` to student notebook, public tests, bundle.

For each assignment folder (holding ``<assignment>.ipynb`` and ``tests.py``):

1. build the release notebook (solutions stripped, stable ids, checksums);
2. run the reference notebook once and call every tested name on every test's
   inputs: those results are the expected values (unless a test gives
   ``expected=``); the reference must earn full marks, or assign stops;
3. write ``<out>/<assignment>_exercises.ipynb`` (students), the public tests as package data
   ``coursekit/grading/public/<assignment>.json`` (``check`` reads them, so a
   student needs only the installed package and the notebook), and the grading
   bundle ``<bundle>/<assignment>/bundle.json`` (all tests with expected values,
   points and the release notebook; readable by its owner only).

Hidden inputs come from ``secret_rng`` and so from the instructor secret
(``--secret-file FILE`` or ``COURSEKIT_SECRET``; a public default otherwise, see
``coursekit.grading.secret``). Three checks keep the assignment honest:

- the public tests must not change with the secret (tests.py is imported a second
  time with another secret and its public tests compared), so the committed
  ``exercises/`` and public JSON are the same for every instructor;
- every question keeps its points when the other questions are unanswered
  (``independence_problems``: the reference graded once per question with the other
  answers replaced by their stubs), so a mistake in one costs that one only;
- the public tests may carry at most ``MAX_PUBLIC_SHARE`` (10 %) of the points:
  their expected values are visible, so a student could hard-code them. ``assign``
  refuses an assignment above it (a warning would scroll past in ``make assign``),
  and states the share in the release notebook's heading.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import fields
from pathlib import Path

from coursekit.grading import sandbox
from coursekit.grading import secret as secrets
from coursekit.grading.bundle import (
    FORMAT,
    CaseRecord,
    PlanCase,
    PlanQuestion,
    QuestionRecord,
    validate_bundle,
    validate_public,
    write_json,
)
from coursekit.grading.bundle import load_bundle as _load_bundle
from coursekit.grading.check import PUBLIC_DIR, exercise_filename
from coursekit.grading.engine import execute
from coursekit.grading.messages import answer_lines
from coursekit.grading.notebook import (
    add_to_heading,
    annotate_questions,
    make_release,
    plain_notebook,
    write_notebook,
)
from coursekit.grading.scoring import score_test
from coursekit.grading.spec import MAX_PUBLIC_SHARE, Question, load_questions
from coursekit.grading.values import encode

DEFAULT_BUNDLE_ROOT = Path("build") / "grading"
BUNDLE_FILE = "bundle.json"
#: what the runner gets of each test (inputs and how to run them, never expected values)
PLAN_KEYS = tuple(f.name for f in fields(PlanCase))


def find_assignments(solutions: Path) -> list[Path]:
    """Assignment folders under ``solutions`` (those holding a tests.py)."""
    solutions = Path(solutions)
    if (solutions / "tests.py").is_file():
        return [solutions]
    if not solutions.is_dir():
        raise ValueError(f"solutions folder {solutions} does not exist")
    folders = sorted(p.parent for p in solutions.glob("*/tests.py"))
    if not folders:
        raise ValueError(f"no assignment in {solutions}: expected folders like "
                         f"{solutions}/01_linear_models/ holding a notebook and tests.py")
    return folders


def solution_notebook(folder: Path) -> Path:
    path = folder / f"{folder.name}.ipynb"
    if path.is_file():
        return path
    notebooks = sorted(folder.glob("*.ipynb"))
    if len(notebooks) != 1:
        raise ValueError(f"{folder} must hold {folder.name}.ipynb (found "
                         f"{[p.name for p in notebooks]})")
    return notebooks[0]


def question_records(questions: list[Question], reference=None) -> list[dict]:
    """One record per question (``bundle.QuestionRecord`` as a dict): id, title, points
    and its tests (no expected values yet), and for a question with ``inject`` the
    reference's definitions of those names (``reference``: the solution notebook)."""
    records = []
    for question in questions:
        tests = []
        for visibility, index, test in question.tests():
            tests.append(CaseRecord(
                key=f"{visibility}/{index}", visibility=visibility, kind=test.kind,
                target=test.target, label=test.label(), warnings=test.warnings,
                args=encode(test.args), kwargs=encode(test.kwargs),
                rtol=test.rtol, atol=test.atol,
                points=round(question.test_points(test), 6),
                thresholds=([[level, fraction] for level, fraction in test.thresholds.items()]
                            if test.thresholds else None),
                expected=encode(test.expected) if test.has_expected else None))
        inject = {name: reference_definition(reference, name, question.id)
                  for name in question.inject}
        records.append(QuestionRecord(question.id, question.title, question.points, tests,
                                      inject, list(question.forbidden)).to_dict())
    return records


def plan_of(records: list[dict], visibility: str | None = None) -> list[dict]:
    """What the runner needs (``bundle.PlanQuestion`` as dicts): inputs per test, never
    expected values, and the reference definitions a question may reuse."""
    return [PlanQuestion(r["id"], [PlanCase(**{k: t.get(k) for k in PLAN_KEYS})
                                   for t in r["tests"]
                                   if visibility is None or t["visibility"] == visibility],
                         r.get("inject") or {}).to_dict() for r in records]


def reference_definition(reference, name: str, qid: str = "?") -> str:
    """The source of the top-level ``def``/``class`` ``name`` in the reference's cells
    (solution markers removed): what the grader injects for ``Question(inject=...)``."""
    import ast

    from coursekit.grading.notebook import BEGIN_SOLUTION, END_SOLUTION

    for cell in (reference or {}).get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        lines = [line for line in source.splitlines()
                 if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION)]
        clean = "\n".join(lines)
        try:
            tree = ast.parse(clean)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
                return ast.get_source_segment(clean, node, padded=True) + "\n"
    raise ValueError(f"{qid}: inject names {name!r}, but no cell of the reference solution "
                     f"defines `def {name}` or `class {name}` at top level")


def stub_other_answers(reference: dict, release: dict, keep: set[str]) -> dict:
    """The reference with every answer cell that answers none of ``keep`` replaced by
    its release version (the stub that raises NotImplementedError)."""
    stubbed = copy.deepcopy(reference)
    cells = [c for c in stubbed["cells"] if c.get("cell_type") in ("code", "markdown", "raw")]
    for cell, released in zip(cells, release["cells"]):
        meta = released["metadata"]["coursekit"]
        questions = set(meta.get("questions") or [])
        if meta["kind"] == "answer" and questions and not questions & keep:
            cell["source"] = released["source"]
    return stubbed


def independence_problems(reference: dict, release: dict, records: list[dict],
                          timeout: float = 300.0, keep_only: bool = True) -> list[str]:
    """Questions whose points drop when other questions are unanswered.

    ``keep_only=True`` (what ``assign`` checks): for each question, every other
    question's answer is its stub; ``False``: for each question, only that one is a
    stub and every other question must keep its points. One notebook run per question.
    """
    problems = []
    ids = [r["id"] for r in records]
    for qid in ids:
        keep = {qid} if keep_only else set(ids) - {qid}
        graded = [r for r in records if r["id"] in keep]
        notebook = stub_other_answers(reference, release, keep)
        run = execute(notebook, plan_of(graded), sandbox.Limits(timeout=timeout),
                      sandboxed=False, max_runs=1)
        for record in graded:
            failing = []
            for test in record["tests"]:
                score = score_test(test, run.outcomes.get((record["id"], test["key"])),
                                   reveal=True)
                if score.status != "passed":
                    failing.append(f"{test['label']}: {score.message}")
            if failing:
                cause = ("the other questions are unanswered" if keep_only
                         else f"{qid} is unanswered")
                problems.append(
                    f"{record['id']} loses points when {cause} ({'; '.join(failing)[:400]}): "
                    "a question's tests must call only its own answer. Give shared pieces in "
                    "a read-only cell, or let the grader put the reference's definitions in "
                    "place with Question(..., inject=[names])")
    return problems


def public_share(questions: list[Question]) -> float:
    """The fraction of the assignment's points its public tests carry."""
    total = sum(q.points for q in questions)
    return sum(q.public_points() for q in questions) / total if total > 0 else 0.0


def check_public_share(questions: list[Question], name: str) -> float:
    """The public share, or ``ValueError`` when it exceeds ``MAX_PUBLIC_SHARE``."""
    share = public_share(questions)
    if share > MAX_PUBLIC_SHARE + 1e-9:
        rows = ", ".join(f"{q.id} {q.public_points():.3g}/{q.points:g}" for q in questions
                         if q.public)
        raise ValueError(
            f"assign {name}: public tests carry {share:.1%} of the points (at most "
            f"{MAX_PUBLIC_SHARE:.0%} allowed: their expected values are visible, so "
            f"hard-coding them would earn that much). Public points per question: {rows}. "
            "Give each question hidden tests (its public tests then carry its "
            "public_share, 5 % by default) or lower Question(..., public_share=...)")
    return share


def _public_fingerprint(questions: list[Question]) -> dict:
    return {q.id: json.dumps(encode([[t.kind, t.target, t.args, t.kwargs,
                                      t.expected if t.has_expected else None]
                                     for t in q.public]), sort_keys=True)
            for q in questions}


def check_public_independent(tests_file: Path, name: str, questions: list[Question],
                             secret: str) -> None:
    """``ValueError`` when a public test's inputs change with the instructor secret."""
    probe = load_questions(tests_file, secret=secret + "\0another secret", assignment=name)
    ours, theirs = _public_fingerprint(questions), _public_fingerprint(probe)
    changed = sorted(qid for qid in ours if ours[qid] != theirs.get(qid))
    if changed:
        raise ValueError(
            f"assign {name}: the public tests of {', '.join(changed)} change with the "
            "instructor secret: draw public inputs from a fixed generator "
            "(np.random.default_rng(2024)) and use secret_rng(...) for hidden tests only "
            "(public tests ship with the package, and exercises/ must not depend on the "
            "secret)")


def heading_note(questions: list[Question], share: float) -> str:
    """The paragraph ``assign`` adds to the release notebook's heading."""
    total = sum(q.points for q in questions)
    public = sum(q.public_points() for q in questions)
    return (f"**Points.** The public tests that `check(...)` runs carry {share * 100:.3g} % "
            f"of the {total:g} points ({public:.3g} points); the rest come from hidden tests "
            "that the grader runs on new inputs and held-out data you do not see. Passing "
            "`check` tells you that you are on the right track, not that you have the points.")


def assign_one(folder: Path, out: Path, bundle_root: Path, public_dir: Path = PUBLIC_DIR,
               timeout: float = 300.0, secret: str | None = None,
               check_independence: bool = True) -> dict:
    """Assign one folder; returns a summary (name, questions, points, public share, paths).

    ``secret``: the instructor secret (default: ``secret.resolve_secret()``, i.e.
    ``COURSEKIT_SECRET`` or the public default). ``check_independence``: grade the
    reference once per question with every other answer replaced by its stub, and
    refuse the assignment when a question loses points (``independence_problems``).
    """
    folder = Path(folder)
    name = folder.name
    import nbformat  # slow to import; only assign needs it

    if secret is None:
        secret, source_of_secret = secrets.resolve_secret()
    else:
        source_of_secret = "given"
    source = nbformat.read(solution_notebook(folder), as_version=4)
    questions = load_questions(folder / "tests.py", secret=secret, assignment=name)
    share = check_public_share(questions, name)
    check_public_independent(folder / "tests.py", name, questions, secret)
    release = make_release(source, name)
    add_to_heading(release, heading_note(questions, share))
    reference = plain_notebook(source)
    annotate_questions(release, {q.id: [t.target for _, _, t in q.tests()] for q in questions},
                       reference)
    records = question_records(questions, reference)

    # expected values: what the reference solution returns on each test's inputs
    run = execute(reference, plan_of(records), sandbox.Limits(timeout=timeout),
                  sandboxed=False, max_runs=1)
    problems = [f"code cell {i + 1}: {error}" for i, error in sorted(run.cell_errors.items())]
    for record in records:
        for test in record["tests"]:
            outcome = run.outcomes.get((record["id"], test["key"]))
            if test["expected"] is None:
                if outcome is None or "error" in outcome:
                    problems.append(f"{record['id']} {test['key']} {test['label']}: the "
                                    f"reference failed: {(outcome or {}).get('error')}")
                    continue
                test["expected"] = encode(outcome["value"])
            score = score_test(test, outcome, reveal=True)
            if score.status != "passed":
                problems.append(f"{record['id']} {test['key']} {test['label']}: the reference "
                                f"solution does not pass: {score.message}")
    if problems:
        raise ValueError(f"assign {name}: the reference solution is not consistent with "
                         "tests.py:\n  " + "\n  ".join(problems))
    if check_independence:  # a mistake in one question must cost that question only
        problems = independence_problems(reference, plain_notebook(release), records, timeout)
        if problems:
            raise ValueError(f"assign {name}: questions depend on each other:\n  "
                             + "\n  ".join(problems))

    out.mkdir(parents=True, exist_ok=True)
    write_notebook(release, out / exercise_filename(name))
    answers = answer_lines(plain_notebook(release)["cells"])  # check names them in feedback
    public = {"format": FORMAT, "assignment": name, "questions": [
        {**{k: r[k] for k in ("id", "title", "points")},
         "answer_cells": answers.get(r["id"], []),
         "hidden_tests": sum(t["visibility"] == "hidden" for t in r["tests"]),
         "tests": [t for t in r["tests"] if t["visibility"] == "public"]} for r in records]}
    write_json(Path(public_dir) / f"{name}.json", validate_public(public), indent=1)
    bundle_dir = Path(bundle_root) / name
    bundle_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(bundle_dir, 0o700)  # only the grader's user reads expected values
    bundle = {"format": FORMAT, "assignment": name, "questions": records,
              "release": plain_notebook(release),
              # which secret drew the hidden inputs (a fingerprint, not the secret)
              "secret_id": secrets.secret_id(secret),
              "public_default_secret": secret == secrets.PUBLIC_DEFAULT}
    write_json(bundle_dir / BUNDLE_FILE, validate_bundle(bundle), mode=0o600)
    return {"assignment": name, "questions": len(records),
            "points": sum(r["points"] for r in records),
            "tests": sum(len(r["tests"]) for r in records), "public_share": share,
            "secret": source_of_secret, "secret_id": secrets.secret_id(secret),
            "notebook": str(out / exercise_filename(name)), "bundle": str(bundle_dir)}


def assign(solutions: Path, out: Path, bundle_root: Path = DEFAULT_BUNDLE_ROOT,
           public_dir: Path = PUBLIC_DIR, secret: str | None = None,
           check_independence: bool = True) -> list[dict]:
    """Assign every assignment folder under ``solutions`` (with ``secret``, see
    ``assign_one``).

    A broken assignment does not stop the others; all problems are raised together
    at the end (``ValueError``).
    """
    summaries, problems = [], []
    for folder in find_assignments(Path(solutions)):
        try:
            summaries.append(assign_one(folder, Path(out), Path(bundle_root), Path(public_dir),
                                        secret=secret, check_independence=check_independence))
        except (ValueError, TypeError) as error:
            problems.append(str(error))
    if problems:
        raise ValueError("\n".join(problems))
    return summaries


def load_bundle(bundle_dir: Path) -> dict:
    """The validated bundle in ``bundle_dir`` (``bundle.load_bundle``)."""
    return _load_bundle(bundle_dir, BUNDLE_FILE)
