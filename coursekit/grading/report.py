"""Grading output: ``grades.csv``, Gradescope ``results.json`` and a feedback file.

Per submission, in ``OUT/<submission>/``:

- ``feedback.md``: points per question, every test by name and result; hidden tests
  are named with their message but never their inputs or expected values; notes
  (missing cells, crashes) and code flagged for manual review;
- ``results.json``: Gradescope's format (``score``, ``tests`` with ``name``,
  ``score``, ``max_score``, ``output``, ``visibility``), the full record under
  ``extra_data``. Written last, atomically: its presence means "graded".

``OUT/grades.csv`` (submission, question, points, max_points, status, message) is
rebuilt from all ``results.json`` after every submission, atomically.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

RESULTS_FILE = "results.json"
FEEDBACK_FILE = "feedback.md"
GRADES_FILE = "grades.csv"
CSV_COLUMNS = ("submission", "question", "points", "max_points", "status", "message")


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old or the new file, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _fmt(points: float) -> str:
    return f"{points:.4g}"


def feedback_text(record: dict) -> str:
    lines = [f"# Feedback: {record['assignment']} — {record['submission']}", "",
             f"**Score: {_fmt(record['score'])} / {_fmt(record['max_score'])}**", ""]
    if record.get("error"):
        lines += [f"Your submission could not be graded: {record['error']}", ""]
    for question in record["questions"]:
        title = f" — {question['title']}" if question["title"] else ""
        lines.append(f"## {question['id']}{title}: {_fmt(question['points'])} / "
                     f"{_fmt(question['max_points'])}")
        for test in question["tests"]:
            number = int(test["key"].split("/")[1]) + 1
            lines.append(f"- {test['visibility']} test {number}, {test['label']}: "
                         f"{test['status']} ({_fmt(test['points'])}/"
                         f"{_fmt(test['max_points'])}) — {test['message']}")
        lines.append("")
    if record.get("cell_errors"):
        lines.append("## Errors while running your notebook")
        lines += [f"- {line}" for line in record["cell_errors"]] + [""]
    if record.get("notes"):
        lines.append("## Notes")
        lines += [f"- {note}" for note in record["notes"]] + [""]
    if record.get("suspicious"):
        lines.append("## Flagged for manual review")
        lines += [f"- {flag}" for flag in record["suspicious"]] + [""]
    return "\n".join(lines)


def gradescope_results(record: dict) -> dict:
    tests = []
    for question in record["questions"]:
        for test in question["tests"]:
            number = int(test["key"].split("/")[1]) + 1
            tests.append({
                "name": f"{question['id']} {test['visibility']} test {number}: {test['label']}",
                "score": test["points"], "max_score": test["max_points"],
                "status": "passed" if test["status"] == "passed" else "failed",
                "output": test["message"],
                "visibility": "visible" if test["visibility"] == "public" else "after_published",
            })
    output = f"Could not grade: {record['error']}" if record.get("error") else ""
    return {"score": record["score"], "output": output, "tests": tests,
            "extra_data": record}


def write_submission(out: Path, record: dict) -> Path:
    """Write feedback.md then results.json (the completion marker) for one submission."""
    folder = Path(out) / record["submission"]
    atomic_write(folder / FEEDBACK_FILE, feedback_text(record))
    atomic_write(folder / RESULTS_FILE, json.dumps(gradescope_results(record), indent=1,
                                                   sort_keys=True, allow_nan=False) + "\n")
    return folder


def read_record(out: Path, submission: str) -> dict | None:
    path = Path(out) / submission / RESULTS_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))["extra_data"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def question_rows(record: dict) -> list[dict]:
    rows = []
    for question in record["questions"]:
        bad = [f"{t['visibility']} {t['label']}: {t['message']}" for t in question["tests"]
               if t["status"] != "passed"]
        rows.append({"submission": record["submission"], "question": question["id"],
                     "points": _fmt(question["points"]),
                     "max_points": _fmt(question["max_points"]),
                     "status": question["status"],
                     "message": (record.get("error") or "; ".join(bad) or "all tests passed")[:500]})
    return rows


def write_grades_csv(out: Path, submissions: list[str]) -> Path:
    """Rebuild ``grades.csv`` from the results of ``submissions`` present in ``out``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for name in sorted(submissions):
        record = read_record(out, name)
        if record is not None:
            writer.writerows(question_rows(record))
    path = Path(out) / GRADES_FILE
    atomic_write(path, buffer.getvalue())
    return path
