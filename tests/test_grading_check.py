"""Student self-check: check("q1") in a kernel, and `coursekit check NOTEBOOK`."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from grading_support import REPO, SOLUTIONS

from coursekit.cli import main
from coursekit.grading import checker
from coursekit.grading.check import PUBLIC_DIR, Checker, exercise_filename, load_public
from coursekit.grading.messages import (
    answer_lines,
    code_cell_names,
    first_line,
    heading_points,
    name_code_cells,
)


def _solution_namespace():
    """Run the reference answers of q1 and q3 into a namespace, as a notebook would."""
    namespace = {"np": np}
    exec(
        "def fit_least_squares(X, y):\n    return np.linalg.lstsq(X, y, rcond=None)[0]\n"
        "def multiclass_hinge_loss(scores, y, margin=1.0):\n"
        "    s = np.asarray(scores); r = np.arange(len(y)); c = s[r, y][:, None]\n"
        "    m = np.maximum(0, s - c + margin); m[r, y] = 0\n    return float(m.sum(1).mean())\n"
        "def softmax_cross_entropy(scores, y):\n"
        "    s = np.asarray(scores, float); s = s - s.max(1, keepdims=True)\n"
        "    return float(np.mean(np.log(np.exp(s).sum(1)) - s[np.arange(len(y)), y]))\n",
        namespace)
    return namespace


def test_check_passes_a_correct_answer_and_prints_points(capsys):
    check = checker("01_linear_models")
    check("q1", namespace=_solution_namespace())
    text = capsys.readouterr().out
    assert text.startswith("q1: PASS  public tests 0.1/0.1 points (1 of 1 passed: this "
                           "question's public share); hidden tests graded later 1.9 points "
                           "(2 tests); question total 2 points\n")
    assert "total:" not in text  # one question: no assignment total
    report = check.report("q3", namespace=_solution_namespace())
    assert report.passed and report.points == pytest.approx(0.15)


def test_check_explains_wrong_answers():
    namespace = _solution_namespace()
    check = checker("01_linear_models")
    namespace["fit_least_squares"] = lambda X, y: np.linalg.lstsq(X, y, rcond=None)[0][:, None]
    message = check.report("q1", namespace=namespace).scores["q1"][0].message
    assert "shape mismatch: expected shape (2,), got (2, 1)" in message
    namespace["fit_least_squares"] = lambda X, y: np.array([np.nan, 1.0])
    assert "NaN found" in check.report("q1", namespace=namespace).scores["q1"][0].message
    namespace["softmax_cross_entropy"] = lambda scores, y: 0.0
    score = check.report("q3", namespace=namespace).scores["q3"][1]
    assert score.status == "failed" and score.message.startswith("expected ")
    del namespace["multiclass_hinge_loss"]
    score = check.report("q3", namespace=namespace).scores["q3"][0]
    assert "name 'multiclass_hinge_loss' is not defined" in score.message

    def unanswered(X, y):
        raise NotImplementedError("replace this line with your answer")

    namespace["fit_least_squares"] = unanswered
    message = check.report("q1", namespace=namespace).scores["q1"][0].message
    assert message.startswith("not answered yet: the answer cell of q1, `def "
                              "fit_least_squares` still raises NotImplementedError")
    del namespace["fit_least_squares"]
    message = check.report("q1", namespace=namespace).scores["q1"][0].message
    assert "not answered or not run yet; run the answer cell of q1, `def fit_least_squares`" \
        in message


def _exercise(name):
    return REPO / "exercises" / exercise_filename(name)


@pytest.mark.parametrize("public_file", sorted(PUBLIC_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_points_add_up_between_headings_public_tests_and_check(public_file):
    """The heading of each question, its check line, and the total say the same numbers."""
    public = load_public(public_file.stem)
    cells = json.loads(_exercise(public_file.stem).read_text(encoding="utf-8"))["cells"]
    stated = heading_points(cells)
    points = {q["id"]: q["points"] for q in public["questions"]}
    assert stated == points  # "## q1 — ... (2 points)" == Question(points=2)
    total = sum(points.values())
    public_points = sum(t["points"] for q in public["questions"] for t in q["tests"])
    heading = "".join(cells[0]["source"])
    assert f"of the {total:g} points ({public_points:.3g} points)" in heading
    report = checker(public_file.stem).report(namespace={})
    assert report.total_points == pytest.approx(total)
    for question in public["questions"]:
        qid = question["id"]
        public_q = sum(t["points"] for t in question["tests"])
        line = report.question_line(qid)
        assert f"public tests 0/{public_q + 0.0:.4g} points" in line
        assert f"question total {question['points']:.4g} points" in line
        if question["hidden_tests"]:
            assert f"hidden tests graded later {question['points'] - public_q:.4g} points" in line
        assert answer_lines(cells).get(qid) == question["answer_cells"]
    assert report.total_line() == (
        f"total: public tests 0/{public_points:.4g} points (public share "
        f"{public_points / total * 100:.3g} % of the assignment); hidden tests graded later "
        f"{total - public_points:.4g} points; assignment total {total:.4g} points")


def test_check_without_a_question_prints_every_question_and_the_total(capsys):
    checker("01_linear_models")(namespace=_solution_namespace())
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines if not line.startswith(" ")] == \
        ["q1", "q2", "q3", "q4", "q5", "total"]
    assert lines[-1].startswith("total: public tests 0.25/0.75 points (public share 5 % of "
                                "the assignment); hidden tests graded later 14.25 points; "
                                "assignment total 15 points")


def test_checker_rejects_unknown_names_and_is_silent_while_grading(monkeypatch):
    with pytest.raises(ValueError, match="no public tests for assignment 'nope'; known "
                                         "assignments: .*01_linear_models"):
        checker("nope")
    with pytest.raises(ValueError, match=r"question must be one of \['q1'"):
        checker("01_linear_models").report("q42", namespace={})
    monkeypatch.setenv("COURSEKIT_GRADING", "1")
    assert Checker("01_linear_models")("q1") is None  # no output, no work in the grader


def test_check_works_in_a_kernel_without_knowing_the_notebook_path(tmp_path):
    """What a student sees in JupyterLab: the kernel runs elsewhere, check() still works."""
    import nbclient
    import nbformat

    notebook = nbformat.read(SOLUTIONS / "01_linear_models" / "01_linear_models.ipynb", 4)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      if cell.cell_type == "code" and cell.source.startswith("check(")
                      for output in cell.outputs)
    for question in ("q1", "q2", "q3", "q4", "q5"):
        assert f"{question}: PASS" in printed


def test_cli_check_exit_codes(tmp_path, capsys):
    solved = tmp_path / "solved.ipynb"
    shutil.copy(SOLUTIONS / "01_linear_models" / "01_linear_models.ipynb", solved)
    assert main(["check", str(solved)]) == 0
    out = capsys.readouterr().out
    assert "q1: PASS  public tests 0.1/0.1 points (1 of 1 passed: this question's public " \
        "share); hidden tests graded later 1.9 points (2 tests); question total 2 points" in out
    assert out.rstrip().endswith(
        "total: public tests 0.75/0.75 points (public share 5 % of the assignment); hidden "
        "tests graded later 14.25 points; assignment total 15 points")
    assert main(["check", str(_exercise("01_linear_models"))]) == 1
    out = capsys.readouterr().out
    assert "q1: FAIL  public tests 0/0.1 points (0 of 1 passed" in out
    assert "not answered yet: the answer cell of q1, `def fit_least_squares` still raises " \
        "NotImplementedError" in out
    assert not re.search(r"\bcell \d", out)  # cells are named, never counted
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{")
    assert main(["check", str(broken)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_cells_are_named_as_the_student_sees_them():
    cells = json.loads(_exercise("02_mlp_backprop").read_text(encoding="utf-8"))["cells"]
    names = code_cell_names(cells)
    assert names[0] == "the setup cell at the top (`check = checker(...)`)"
    assert "the answer cell of q4, `def linear_backward`" in names
    assert "the check cell of q4 (`check(\"q4\")`)" in names
    assert name_code_cells("code cell 1 hung; it was skipped", names) == \
        f"{names[0]} hung; it was skipped"
    assert name_code_cells("code cell 99 hung", names) == "code cell 99 hung"
    assert first_line("# a comment\n\nclass NextCharModel(nn.Module):\n    pass") == \
        "class NextCharModel"
    assert first_line("x = " + "1 + " * 30) .endswith("…")
