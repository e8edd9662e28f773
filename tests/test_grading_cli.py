"""The `coursekit` command: assign, grade, errors that say how to fix them."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from grading_support import REPO, SOLUTIONS, read_grades

from coursekit.cli import build_parser, main
from coursekit.grading.grade import find_submissions


def test_assign_then_grade_from_the_command_line(tmp_path, capsys):
    one = tmp_path / "solutions" / "01_linear_models"
    shutil.copytree(SOLUTIONS / "01_linear_models", one)
    assert main(["assign", str(tmp_path / "solutions"), "--out", str(tmp_path / "ex"),
                 "--bundle", str(tmp_path / "bundles")]) == 0
    assert "01_linear_models: 5 questions, 15 points, 26 tests" in capsys.readouterr().out
    submissions = tmp_path / "subs"
    (submissions / "bob").mkdir(parents=True)
    shutil.copy(one / "01_linear_models.ipynb", submissions / "alice.ipynb")
    shutil.copy(tmp_path / "ex" / "01_linear_models_exercises.ipynb",
                submissions / "bob" / "hw.ipynb")
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


def _subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, action


def test_every_subcommand_and_argument_is_explained():
    parser, action = _subcommands()
    top = parser.format_help()
    assert "``" not in top and ":class:" not in top and "::" not in top  # no raw reST
    helps = {choice.dest: choice.help for choice in action._choices_actions}
    assert set(helps) == {"assign", "check", "grade", "feedback", "release"} and all(helps.values())
    for name, sub in action.choices.items():
        assert sub.description, f"{name} has no description"
        for argument in sub._actions:
            if argument.dest != "help":
                assert argument.help, f"coursekit {name} {argument.dest} has no help"
        text = sub.format_help()
        assert "``" not in text


def test_an_exercise_notebook_is_named_apart_from_its_lecture(tmp_path):
    """Assign writes NAME_exercises.ipynb; grading finds it and the old NAME.ipynb."""
    assert not (REPO / "exercises" / "01_linear_models.ipynb").exists()
    assert (REPO / "exercises" / "01_linear_models_exercises.ipynb").is_file()
    lectures = {p.stem for p in (REPO / "notebooks").glob("*.ipynb")}
    assert not lectures & {p.stem for p in (REPO / "exercises").glob("*.ipynb")}
    for student, name in (("new", "01_linear_models_exercises"), ("old", "01_linear_models")):
        folder = tmp_path / student
        folder.mkdir()
        (folder / "a_scratch.ipynb").write_text("{}")
        (folder / f"{name}.ipynb").write_text("{}")
    found = dict(find_submissions(tmp_path, "01_linear_models"))
    assert found["new"].name == "01_linear_models_exercises.ipynb"
    assert found["old"].name == "01_linear_models.ipynb"


def _cli(*args, script=False):
    command = ([str(Path(sys.executable).with_name("coursekit"))] if script
               else [sys.executable, "-m", "coursekit.cli"])
    return subprocess.run(command + [str(a) for a in args], capture_output=True, text=True,
                          timeout=120)


def test_wrong_paths_and_names_are_one_line_with_exit_code_2(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    (tmp_path / "subs").mkdir()
    grade = ["grade", "--assignment", "01_linear_models", "--out", tmp_path / "o"]
    cases = [
        (["check", tmp_path / "missing.ipynb"], "does not exist"),
        (["check", tmp_path], "is a folder, not a file"),
        (["assign", a_file], "is a file, not a folder"),
        (["assign", tmp_path / "missing"], "does not exist"),
        (["assign", SOLUTIONS / "01_linear_models", "--secret-file", tmp_path], "is a folder"),
        (grade + ["--submissions", tmp_path / "missing"], "does not exist"),
        (grade + ["--submissions", a_file], "is a file, not a folder"),
        (["grade", "--assignment", "99_nope", "--submissions", tmp_path / "subs", "--out",
          tmp_path / "o"], "unknown assignment '99_nope': use one of 01_linear_models"),
        (grade + ["--submissions", tmp_path / "subs", "--bundle", tmp_path / "nobundle"],
         "no grading bundle at"),
    ]
    for number, (args, wanted) in enumerate(cases):
        done = _cli(*args, script=number % 2 == 1)  # the script and python -m, alternately
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert wanted in lines[0] and lines[0].startswith(f"coursekit {args[0]}: error: ")
