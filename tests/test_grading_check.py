"""Student self-check: check("q1") in a kernel, and `coursekit check NOTEBOOK`."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from grading_support import REPO, SOLUTIONS

from coursekit.cli import main
from coursekit.grading import checker
from coursekit.grading.check import Checker


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
    assert text.startswith("q1: PASS  0.1/0.1 points from public tests (+2 hidden tests")
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
    assert "not answered yet" in check.report("q1", namespace=namespace).scores["q1"][0].message


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
    assert "public tests: 0.75/0.75 points" in capsys.readouterr().out
    assert main(["check", str(REPO / "exercises" / "01_linear_models.ipynb")]) == 1
    out = capsys.readouterr().out
    assert "q1: FAIL" in out and "NotImplementedError" in out
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{")
    assert main(["check", str(broken)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
