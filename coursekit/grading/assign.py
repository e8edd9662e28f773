"""``coursekit assign``: from ``solutions/<assignment>/`` to student notebook, public tests, bundle.

For each assignment folder (holding ``<assignment>.ipynb`` and ``tests.py``):

1. build the release notebook (solutions stripped, stable ids, checksums);
2. run the reference notebook once and call every tested name on every test's
   inputs: those results are the expected values (unless a test gives
   ``expected=``); the reference must earn full marks, or assign stops;
3. write ``<out>/<assignment>.ipynb`` (students), the public tests as package data
   ``coursekit/grading/public/<assignment>.json`` (``check`` reads them, so a
   student needs only the installed package and the notebook), and the grading
   bundle ``<bundle>/<assignment>/bundle.json`` (all tests with expected values,
   points and the release notebook; readable by its owner only).

Hidden inputs come from ``secret_rng`` and so from the instructor secret
(``--secret-file FILE`` or ``COURSEKIT_SECRET``; a public default otherwise, see
``coursekit.grading.secret``). Two checks keep the public part honest:

- the public tests must not change with the secret (tests.py is imported a second
  time with another secret and its public tests compared), so the committed
  ``exercises/`` and public JSON are the same for every instructor;
- the public tests may carry at most ``MAX_PUBLIC_SHARE`` (10 %) of the points:
  their expected values are visible, so a student could hard-code them. ``assign``
  refuses an assignment above it (a warning would scroll past in ``make assign``),
  and states the share in the release notebook's heading.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from coursekit.grading import sandbox
from coursekit.grading import secret as secrets
from coursekit.grading.check import PUBLIC_DIR
from coursekit.grading.engine import execute
from coursekit.grading.notebook import add_to_heading, make_release, plain_notebook, write_notebook
from coursekit.grading.scoring import score_test
from coursekit.grading.spec import MAX_PUBLIC_SHARE, Question, load_questions
from coursekit.grading.values import encode

DEFAULT_BUNDLE_ROOT = Path("build") / "grading"
BUNDLE_FILE = "bundle.json"
#: what the runner gets of each test (inputs and how to run them, never expected values)
PLAN_KEYS = ("key", "kind", "target", "args", "kwargs", "warnings")


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


def test_records(questions: list[Question]) -> list[dict]:
    """One record per question: id, title, points and its tests (no expected values yet)."""
    records = []
    for question in questions:
        tests = []
        for visibility, index, test in question.tests():
            tests.append({
                "key": f"{visibility}/{index}", "visibility": visibility, "kind": test.kind,
                "target": test.target, "label": test.label(), "warnings": test.warnings,
                "args": encode(test.args), "kwargs": encode(test.kwargs),
                "rtol": test.rtol, "atol": test.atol,
                "points": round(question.test_points(test), 6),
                "thresholds": ([[level, fraction] for level, fraction in test.thresholds.items()]
                               if test.thresholds else None),
                "expected": encode(test.expected) if test.has_expected else None,
            })
        records.append({"id": question.id, "title": question.title,
                        "points": question.points, "tests": tests,
                        "forbidden": list(question.forbidden)})
    return records


def plan_of(records: list[dict], visibility: str | None = None) -> list[dict]:
    """What the runner needs: inputs per test, never expected values."""
    return [{"q": r["id"], "tests": [
        {k: t.get(k) for k in PLAN_KEYS}
        for t in r["tests"] if visibility is None or t["visibility"] == visibility]}
        for r in records]


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


def _atomic_write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def assign_one(folder: Path, out: Path, bundle_root: Path, public_dir: Path = PUBLIC_DIR,
               timeout: float = 300.0, secret: str | None = None) -> dict:
    """Assign one folder; returns a summary (name, questions, points, public share, paths).

    ``secret``: the instructor secret (default: ``secret.resolve_secret()``, i.e.
    ``COURSEKIT_SECRET`` or the public default).
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
    records = test_records(questions)

    # expected values: what the reference solution returns on each test's inputs
    reference = plain_notebook(source)
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

    out.mkdir(parents=True, exist_ok=True)
    write_notebook(release, out / f"{name}.ipynb")
    public = {"assignment": name, "questions": [
        {**{k: r[k] for k in ("id", "title", "points")},
         "hidden_tests": sum(t["visibility"] == "hidden" for t in r["tests"]),
         "tests": [t for t in r["tests"] if t["visibility"] == "public"]} for r in records]}
    _atomic_write(Path(public_dir) / f"{name}.json",
                  json.dumps(public, indent=1, sort_keys=True) + "\n")
    bundle_dir = Path(bundle_root) / name
    bundle_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(bundle_dir, 0o700)  # only the grader's user reads expected values
    bundle = {"assignment": name, "questions": records,
              "release": plain_notebook(release),
              # which secret drew the hidden inputs (a fingerprint, not the secret)
              "secret_id": secrets.secret_id(secret),
              "public_default_secret": secret == secrets.PUBLIC_DEFAULT}
    _atomic_write(bundle_dir / BUNDLE_FILE, json.dumps(bundle, sort_keys=True), mode=0o600)
    return {"assignment": name, "questions": len(records),
            "points": sum(r["points"] for r in records),
            "tests": sum(len(r["tests"]) for r in records), "public_share": share,
            "secret": source_of_secret, "secret_id": secrets.secret_id(secret),
            "notebook": str(out / f"{name}.ipynb"), "bundle": str(bundle_dir)}


def assign(solutions: Path, out: Path, bundle_root: Path = DEFAULT_BUNDLE_ROOT,
           public_dir: Path = PUBLIC_DIR, secret: str | None = None) -> list[dict]:
    """Assign every assignment folder under ``solutions`` (with ``secret``, see
    ``assign_one``).

    A broken assignment does not stop the others; all problems are raised together
    at the end (``ValueError``).
    """
    summaries, problems = [], []
    for folder in find_assignments(Path(solutions)):
        try:
            summaries.append(assign_one(folder, Path(out), Path(bundle_root), Path(public_dir),
                                        secret=secret))
        except (ValueError, TypeError) as error:
            problems.append(str(error))
    if problems:
        raise ValueError("\n".join(problems))
    return summaries


def load_bundle(bundle_dir: Path) -> dict:
    path = Path(bundle_dir) / BUNDLE_FILE
    if not path.is_file():
        raise ValueError(f"no grading bundle at {path}: run `coursekit assign solutions/ "
                         f"--out exercises/` first (or pass --bundle DIR)")
    return json.loads(path.read_text(encoding="utf-8"))
