"""Shared helpers of the grading tests: a fresh bundle, and submissions built from it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from coursekit.grading.assign import assign_one
from coursekit.grading.notebook import BEGIN_SOLUTION, END_SOLUTION

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"
ASSIGNMENT = "01_linear_models"
POINTS = {"q1": 2.0, "q2": 3.0, "q3": 3.0, "q4": 4.0, "q5": 3.0}
# answer-k of the chapter-01 release -> the question whose names it defines
ANSWER_OF = {"q1": "answer-1", "q2": "answer-2", "q3": "answer-3", "q4": "answer-4",
             "q5": "answer-5"}


def make_bundle(root: Path) -> dict:
    """Assign chapter 01 into ``root`` (exercises, public tests, bundle); returns paths."""
    summary = assign_one(SOLUTIONS / ASSIGNMENT, root / "exercises", root / "bundles",
                         root / "public")
    return {"bundle": Path(summary["bundle"]), "release": Path(summary["notebook"]),
            "public": root / "public"}


def reference_answers() -> list[str]:
    """Sources of the reference answer cells, in order, with the marker lines removed."""
    notebook = json.loads((SOLUTIONS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    answers = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if BEGIN_SOLUTION in source:
            lines = [line for line in source.splitlines()
                     if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION)]
            answers.append("\n".join(lines))
    return answers


def student_notebook(release: Path, answers: dict[str, str]) -> dict:
    """The release notebook with answer cells replaced: ``{"answer-1": source, ...}``."""
    notebook = json.loads(Path(release).read_text())
    for cell in notebook["cells"]:
        cell_id = cell.get("id")
        if cell_id in answers:
            cell["source"] = answers[cell_id]
    return notebook


def honest_answers() -> dict[str, str]:
    return {f"answer-{k}": source for k, source in enumerate(reference_answers(), 1)}


def write_notebook(path: Path, notebook) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook if isinstance(notebook, str) else json.dumps(notebook, indent=1))
    return path


def read_grades(out: Path) -> dict[str, dict[str, float]]:
    """``{submission: {question: points}}`` from grades.csv."""
    import csv

    grades: dict[str, dict[str, float]] = {}
    with open(Path(out) / "grades.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            grades.setdefault(row["submission"], {})[row["question"]] = float(row["points"])
    return grades


def attack_header(source: str) -> tuple[str, str]:
    """``(answer cell id, attacked question)`` from an attack file's header comments."""
    cell = re.search(r"^# cell: (\S+)$", source, re.M)
    question = re.search(r"^# attacks: (\S+)$", source, re.M)
    assert cell and question, "attack files start with '# cell: ...' and '# attacks: ...'"
    return cell.group(1), question.group(1)
