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
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from coursekit.grading import sandbox
from coursekit.grading.check import PUBLIC_DIR
from coursekit.grading.engine import execute
from coursekit.grading.notebook import make_release, plain_notebook, write_notebook
from coursekit.grading.scoring import score_test
from coursekit.grading.spec import Question, load_questions
from coursekit.grading.values import encode

DEFAULT_BUNDLE_ROOT = Path("build") / "grading"
BUNDLE_FILE = "bundle.json"


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
                "target": test.target, "label": test.label(),
                "args": encode(test.args), "kwargs": encode(test.kwargs),
                "rtol": test.rtol, "atol": test.atol,
                "points": round(question.test_points(test), 6),
                "thresholds": ([[level, fraction] for level, fraction in test.thresholds.items()]
                               if test.thresholds else None),
                "expected": encode(test.expected) if test.has_expected else None,
            })
        records.append({"id": question.id, "title": question.title,
                        "points": question.points, "tests": tests})
    return records


def plan_of(records: list[dict], visibility: str | None = None) -> list[dict]:
    """What the runner needs: inputs per test, never expected values."""
    return [{"q": r["id"], "tests": [
        {k: t[k] for k in ("key", "kind", "target", "args", "kwargs")}
        for t in r["tests"] if visibility is None or t["visibility"] == visibility]}
        for r in records]


def _atomic_write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def assign_one(folder: Path, out: Path, bundle_root: Path, public_dir: Path = PUBLIC_DIR,
               timeout: float = 300.0) -> dict:
    """Assign one folder; returns a summary (name, questions, points, paths)."""
    folder = Path(folder)
    name = folder.name
    import nbformat  # slow to import; only assign needs it

    source = nbformat.read(solution_notebook(folder), as_version=4)
    questions = load_questions(folder / "tests.py")
    release = make_release(source, name)
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
              "release": plain_notebook(release)}
    _atomic_write(bundle_dir / BUNDLE_FILE, json.dumps(bundle, sort_keys=True), mode=0o600)
    return {"assignment": name, "questions": len(records),
            "points": sum(r["points"] for r in records),
            "tests": sum(len(r["tests"]) for r in records),
            "notebook": str(out / f"{name}.ipynb"), "bundle": str(bundle_dir)}


def assign(solutions: Path, out: Path, bundle_root: Path = DEFAULT_BUNDLE_ROOT,
           public_dir: Path = PUBLIC_DIR) -> list[dict]:
    """Assign every assignment folder under ``solutions``.

    A broken assignment does not stop the others; all problems are raised together
    at the end (``ValueError``).
    """
    summaries, problems = [], []
    for folder in find_assignments(Path(solutions)):
        try:
            summaries.append(assign_one(folder, Path(out), Path(bundle_root), Path(public_dir)))
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
