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


#: the instructor secret of the grading tests' bundles (not the public default)
TEST_SECRET = "instructor-secret-of-the-grading-tests"


def make_bundle(root: Path, assignment: str = ASSIGNMENT, secret: str = TEST_SECRET,
                check_independence: bool = False) -> dict:
    """Assign one chapter into ``root`` (exercises, public tests, bundle); returns paths.

    ``check_independence``: off by default here (it costs one run per question;
    tests/test_grading_assign.py checks it for every chapter)."""
    summary = assign_one(SOLUTIONS / assignment, root / "exercises", root / "bundles",
                         root / "public", secret=secret, check_independence=check_independence)
    return {"bundle": Path(summary["bundle"]), "release": Path(summary["notebook"]),
            "public": root / "public"}


def reference_answers(assignment: str = ASSIGNMENT) -> list[str]:
    """Sources of the reference answer cells, in order, with the marker lines removed."""
    notebook = json.loads((SOLUTIONS / assignment / f"{assignment}.ipynb").read_text())
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


def honest_answers(assignment: str = ASSIGNMENT) -> dict[str, str]:
    return {f"answer-{k}": source for k, source in enumerate(reference_answers(assignment), 1)}


def grade_variants(root: Path, assignment: str, variants: dict[str, dict[str, str]],
                   timeout: float = 60.0) -> dict[str, dict[str, float]]:
    """Assign ``assignment`` into ``root`` and grade one submission per variant.

    ``variants``: ``{name: {answer cell id: source}}``, each applied on top of the reference
    answers (``{}``: the reference itself). Returns ``{name: {question: points}}``."""
    from coursekit.grading.grade import grade

    paths = make_bundle(root, assignment)
    honest = honest_answers(assignment)
    submissions, out = root / "submissions", root / "out"
    for name, answers in variants.items():
        write_notebook(submissions / f"{name}.ipynb", student_notebook(paths["release"], {**honest, **answers}))
    out.mkdir()
    grade(assignment, submissions, out, bundle=paths["bundle"], workers=1, timeout=timeout, quiet=True)
    return {Path(name).stem: points for name, points in read_grades(out, key="submission").items()}


def write_notebook(path: Path, notebook) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook if isinstance(notebook, str) else json.dumps(notebook, indent=1))
    return path


def read_grades(out: Path, key: str = "folder") -> dict[str, dict[str, float]]:
    """``{submission folder: {question: points}}`` from grades.csv (one row per student,
    the question columns after ``error``); ``key="submission"``: by the name as submitted."""
    import csv

    grades: dict[str, dict[str, float]] = {}
    with open(Path(out) / "grades.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        questions = reader.fieldnames[reader.fieldnames.index("error") + 1:]
        for row in reader:
            grades[row[key]] = {q: float(row[q]) for q in questions}
    return grades


def attack_header(source: str) -> tuple[str, str]:
    """``(answer cell id, attacked question)`` from an attack file's header comments."""
    cell = re.search(r"^# cell: (\S+)$", source, re.M)
    question = re.search(r"^# attacks: (\S+)$", source, re.M)
    assert cell and question, "attack files start with '# cell: ...' and '# attacks: ...'"
    return cell.group(1), question.group(1)


# ----------------------------------------------------------- honest submissions
# Alternative correct answers (B) and wrong ones (W, failing every test of their
# question) for each answer cell of chapter 01; A is the reference answer.
VARIANTS = {
    "answer-1": {
        "B": "def fit_least_squares(X, y):\n"
             "    w, *_ = np.linalg.lstsq(np.asarray(X, float), np.asarray(y, float), rcond=None)\n"
             "    return w\n",
        "W": "def fit_least_squares(X, y):\n"
             "    return np.linalg.lstsq(X, y, rcond=None)[0] + 0.01\n",
    },
    "answer-2": {
        "B": "def sigmoid(z):\n"
             "    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))\n\n\n"
             "def log_loss_and_gradient(w, X, y):\n"
             "    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)\n"
             "    z = X @ w\n"
             "    loss = np.mean(np.where(y == 1, np.logaddexp(0.0, -z), np.logaddexp(0.0, z)))\n"
             "    return float(loss), X.T @ (sigmoid(z) - y) / len(y)\n",
        "W": "def sigmoid(z):\n    return np.exp(z)\n\n\n"
             "def log_loss_and_gradient(w, X, y):\n    return 0.0, np.zeros_like(w)\n",
    },
    "answer-3": {
        "B": "def multiclass_hinge_loss(scores, y, margin=1.0):\n"
             "    total = 0.0\n"
             "    for row, label in zip(scores, y):\n"
             "        for j, s in enumerate(row):\n"
             "            if j != label:\n"
             "                total += max(0.0, s - row[label] + margin)\n"
             "    return total / len(y)\n\n\n"
             "def softmax_cross_entropy(scores, y):\n"
             "    scores = np.asarray(scores, dtype=float)\n"
             "    top = scores.max(axis=1)\n"
             "    lse = top + np.log(np.sum(np.exp(scores - top[:, None]), axis=1))\n"
             "    return float(np.mean(lse - scores[np.arange(len(y)), y]))\n",
        "W": "def multiclass_hinge_loss(scores, y, margin=1.0):\n"
             "    s = np.asarray(scores, dtype=float)\n"
             "    return float(np.maximum(0, s - s[np.arange(len(y)), y][:, None] + margin)"
             ".sum(1).mean())\n\n\n"
             "def softmax_cross_entropy(scores, y):\n"
             "    return float(np.mean(np.log(np.exp(np.asarray(scores, float)).sum(1))))\n",
    },
    "answer-4": {
        "B": "def fit_logistic_regression(X, y, lam=1e-2, learning_rate=1.0, steps=1500):\n"
             "    X1 = np.c_[np.asarray(X, float), np.ones(len(X))]\n"
             "    theta = np.zeros(X1.shape[1])\n"
             "    for _ in range(steps):\n"
             "        p = 1 / (1 + np.exp(-X1 @ theta))\n"
             "        grad = X1.T @ (p - y) / len(y)\n"
             "        grad[:-1] += lam * theta[:-1]\n"
             "        theta -= learning_rate * grad\n"
             "    return theta[:-1], theta[-1]\n\n\n"
             "model = LinearClassifier(*fit_logistic_regression(X_train, y_train))\n",
        "W": "def fit_logistic_regression(X, y, lam=1e-3, learning_rate=0.5, steps=2000):\n"
             "    return np.zeros(np.shape(X)[1]), -1.0\n\n\n"
             "model = LinearClassifier(*fit_logistic_regression(X_train, y_train))\n",
    },
    "answer-5": {
        "B": "def fit_ridge(X, y, lam):\n"
             "    X = np.asarray(X, float)\n"
             "    d = X.shape[1]\n"
             "    A = np.vstack([X, np.sqrt(lam) * np.eye(d)])\n"
             "    b = np.concatenate([np.asarray(y, float), np.zeros(d)])\n"
             "    return np.linalg.lstsq(A, b, rcond=None)[0]\n\n\n"
             "def choose_lambda(X_train, y_train, X_val, y_val, lambdas):\n"
             "    best, best_error = None, np.inf\n"
             "    for lam in lambdas:\n"
             "        error = np.mean((X_val @ fit_ridge(X_train, y_train, lam) - y_val) ** 2)\n"
             "        if error < best_error:\n"
             "            best, best_error = lam, error\n"
             "    return best\n\n\n"
             "best_lambda = choose_lambda(P_train, t_train, P_val, t_val, LAMBDAS)\n",
        "W": "def fit_ridge(X, y, lam):\n"
             "    X = np.asarray(X, float)\n"
             "    return 1.1 * np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)\n\n\n"
             "def choose_lambda(X_train, y_train, X_val, y_val, lambdas):\n"
             "    return lambdas[-1]\n\n\n"
             "best_lambda = choose_lambda(P_train, t_train, P_val, t_val, LAMBDAS)\n",
    },
}
QUESTION_OF = {cell: question for question, cell in ANSWER_OF.items()}


def honest_submissions(release: Path, folder: Path, count: int) -> dict[str, dict]:
    """Write ``count`` varied submissions; returns ``{name: {question: expected points}}``.

    Each answer cell is the reference (A), another correct answer (B) or a wrong one
    (W); some notebooks lose their ids and metadata, some have their cells reordered,
    and some carry extra cells and comments, as real students' notebooks do.
    """
    import random

    reference = honest_answers()
    expected = {}
    for i in range(count):
        answers, points = {}, {}
        for j, cell in enumerate(sorted(reference)):
            choice = "AAAAABBBWW"[(i * 7 + j * 3) % 10]
            source = reference[cell] if choice == "A" else VARIANTS[cell][choice]
            if i % 3 == 0:
                source = f"# my answer, attempt {i}\n{source}\n"
            answers[cell] = source
            points[QUESTION_OF[cell]] = 0.0 if choice == "W" else POINTS[QUESTION_OF[cell]]
        notebook = student_notebook(release, answers)
        if i % 5 == 1:
            for cell in notebook["cells"]:
                cell["metadata"], cell["id"] = {}, f"c{random.Random(i).randrange(10**8)}"
        if i % 7 == 2:
            random.Random(i).shuffle(notebook["cells"])
        if i % 4 == 3:
            notebook["cells"].insert(3, {"cell_type": "code", "id": f"scratch{i}",
                                         "metadata": {}, "outputs": [],
                                         "execution_count": None,
                                         "source": "scratch = np.arange(3) ** 2\nscratch"})
        name = f"student{i:03d}"
        target = folder / (f"{name}.ipynb" if i % 2 else f"{name}/submission.ipynb")
        write_notebook(target, notebook)
        expected[name] = points
    return expected


# ------------------------------------------------------------- small assignments
def make_assignment(root: Path, name: str, tests_py: str, answer_cells: list[str],
                    setup: str = "import numpy as np") -> Path:
    """A throw-away assignment folder ``root/name`` (heading, setup cell, one answer cell
    per entry of ``answer_cells`` with its body between the solution markers)."""
    import nbformat

    folder = Path(root) / name
    folder.mkdir(parents=True)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(f"# Exercises — {name}"),
                      nbformat.v4.new_code_cell(f'from coursekit.grading import checker\n\n'
                                                f'check = checker("{name}")\n{setup}')]
    for body in answer_cells:
        notebook.cells.append(nbformat.v4.new_code_cell(
            f"{BEGIN_SOLUTION}\n{body.rstrip()}\n{END_SOLUTION}"))
    nbformat.write(notebook, folder / f"{name}.ipynb")
    (folder / "tests.py").write_text(tests_py)
    return folder


def reference_namespace(solution: Path, assignment: str, skip: tuple[str, ...] = ()) -> dict:
    """The namespace after a reference solution's code cells, run outside the grader (the
    chapter tests check its answers directly).

    Check cells (``check(...)``) are left out, and so is every cell whose source contains
    one of ``skip`` (e.g. a training run that the grading test covers);
    ``check = checker("<assignment>")`` is removed and the solution markers are dropped.
    """
    import nbformat

    namespace: dict = {}
    for cell in nbformat.read(solution, as_version=4).cells:
        source = cell.source
        if cell.cell_type != "code" or source.lstrip().startswith("check(") \
                or any(marker in source for marker in skip):
            continue
        source = source.replace(f'check = checker("{assignment}")', "")
        source = source.replace(BEGIN_SOLUTION, "").replace(END_SOLUTION, "")
        exec(compile(source, str(solution), "exec"), namespace)
    return namespace
