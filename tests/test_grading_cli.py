"""The `coursekit` command: assign, grade, errors that say how to fix them."""

from __future__ import annotations

import shutil
import subprocess
import sys

from grading_support import REPO, SOLUTIONS, read_grades

from coursekit.cli import main


def test_assign_then_grade_from_the_command_line(tmp_path, capsys):
    one = tmp_path / "solutions" / "01_linear_models"
    shutil.copytree(SOLUTIONS / "01_linear_models", one)
    assert main(["assign", str(tmp_path / "solutions"), "--out", str(tmp_path / "ex"),
                 "--bundle", str(tmp_path / "bundles")]) == 0
    assert "01_linear_models: 5 questions, 15 points, 26 tests" in capsys.readouterr().out
    submissions = tmp_path / "subs"
    (submissions / "bob").mkdir(parents=True)
    shutil.copy(one / "01_linear_models.ipynb", submissions / "alice.ipynb")
    shutil.copy(tmp_path / "ex" / "01_linear_models.ipynb", submissions / "bob" / "hw.ipynb")
    (submissions / "notes.txt").write_text("not a submission")
    args = ["grade", "--assignment", "01_linear_models", "--submissions", str(submissions),
            "--out", str(tmp_path / "out"), "--bundle", str(tmp_path / "bundles" /
                                                             "01_linear_models"),
            "--workers", "2", "--timeout", "60"]
    assert main(args) == 0
    assert "graded 2 submissions (0 unchanged, skipped)" in capsys.readouterr().out
    grades = read_grades(tmp_path / "out")
    assert sum(grades["alice"].values()) == 15.0 and sum(grades["bob"].values()) == 0.0
    assert main(args) == 0  # nothing changed: nothing regraded
    assert "graded 0 submissions (2 unchanged, skipped)" in capsys.readouterr().out
    assert main(args + ["--force"]) == 0
    assert "graded 2 submissions" in capsys.readouterr().out


def test_errors_name_the_problem(tmp_path, capsys):
    assert main(["grade", "--assignment", "01_linear_models", "--submissions", str(tmp_path),
                 "--out", str(tmp_path / "o"), "--bundle", str(tmp_path / "none")]) == 2
    assert "no grading bundle at" in capsys.readouterr().err
    assert main(["assign", str(tmp_path / "missing")]) == 2
    assert "solutions folder" in capsys.readouterr().err
    bundle = REPO / "build" / "grading" / "01_linear_models"
    if bundle.is_dir():
        assert main(["grade", "--assignment", "02_mlp_backprop", "--submissions",
                     str(tmp_path), "--out", str(tmp_path / "o"), "--bundle",
                     str(bundle)]) == 2
        assert "is for '01_linear_models'" in capsys.readouterr().err


def test_python_dash_m_coursekit():
    done = subprocess.run([sys.executable, "-m", "coursekit", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0
    assert all(command in done.stdout for command in ("assign", "check", "grade"))
