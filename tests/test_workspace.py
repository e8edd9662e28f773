"""A student's own copies (coursekit.workspace): copied once, refreshed while unedited after
the course changes, kept (never overwritten) once edited, and a fresh copy on request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coursekit.workspace import fresh, sources_digest, sync

ROOT = Path(__file__).resolve().parents[1]


def _notebook(path: Path, *sources, outputs=None):
    cells = [nbformat.v4.new_code_cell(s) for s in sources]
    if outputs:
        cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=outputs)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


@pytest.fixture
def course(tmp_path):
    _notebook(tmp_path / "notebooks" / "01_linear_models.ipynb", "x = 1", outputs="1\n")
    _notebook(tmp_path / "exercises" / "01_linear_models.ipynb", "def f():\n    raise NotImplementedError")
    return tmp_path


def test_first_sync_copies_everything_keeping_folders(course):
    report = sync(course)
    assert sorted(report.copied) == ["exercises/01_linear_models.ipynb",
                                     "notebooks/01_linear_models.ipynb"]
    assert (course / "work/notebooks/01_linear_models.ipynb").read_bytes() == \
        (course / "notebooks/01_linear_models.ipynb").read_bytes()
    assert sync(course).unchanged and not sync(course).copied


def test_unedited_copy_is_refreshed_after_the_course_changes(course):
    sync(course)
    work_copy = course / "work/notebooks/01_linear_models.ipynb"
    # the student ran it (outputs change) but did not edit a cell: still "not edited"
    nb = nbformat.read(work_copy, as_version=4)
    nb.cells[0].outputs = []
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.9"}
    nbformat.write(nb, work_copy)
    _notebook(course / "notebooks/01_linear_models.ipynb", "x = 2", outputs="2\n")  # git pull
    report = sync(course)
    assert report.refreshed == ["notebooks/01_linear_models.ipynb"]
    assert nbformat.read(work_copy, as_version=4).cells[0].source == "x = 2"


def test_edited_copy_is_kept_and_reported_with_the_fresh_command(course, capsys):
    sync(course)
    answer = course / "work/exercises/01_linear_models.ipynb"
    nb = nbformat.read(answer, as_version=4)
    nb.cells[0].source = "def f():\n    return 42"
    nbformat.write(nb, answer)
    _notebook(course / "exercises/01_linear_models.ipynb", "def f():\n    raise NotImplementedError",
              "check('q1')")
    report = sync(course)
    assert report.kept == ["exercises/01_linear_models.ipynb"]
    assert "return 42" in answer.read_text()
    line = " ".join(report.lines(Path("work")))
    assert "make fresh NB=work/exercises/01_linear_models.ipynb" in line
    # still kept on every later sync
    assert sync(course).kept == ["exercises/01_linear_models.ipynb"]

    aside = fresh(answer, root=course)
    assert aside.name.startswith("01_linear_models.mine-") and "return 42" in aside.read_text()
    assert sources_digest(answer) == sources_digest(course / "exercises/01_linear_models.ipynb")
    assert not sync(course).kept


def test_a_copy_made_before_the_manifest_is_never_overwritten(course):
    mine = course / "work/notebooks/01_linear_models.ipynb"
    _notebook(mine, "my own work")
    report = sync(course)
    assert "notebooks/01_linear_models.ipynb" in report.unchanged
    assert "my own work" in mine.read_text()


def test_errors_name_the_problem(course, tmp_path):
    with pytest.raises(ValueError, match="is not a notebook in"):
        fresh(course / "notebooks/01_linear_models.ipynb", root=course)
    with pytest.raises(FileNotFoundError, match="no notebooks/ or exercises/"):
        sync(tmp_path / "empty")
    result = subprocess.run([sys.executable, "-m", "coursekit.workspace", "--root",
                             str(tmp_path / "empty"), "sync"], capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.startswith("error: ")


def test_work_folder_is_ignored_by_git():
    ignored = subprocess.run(["git", "check-ignore", "-q", "work/notebooks/x.ipynb"], cwd=ROOT)
    assert ignored.returncode == 0


def test_a_copy_under_an_exercises_old_name_is_kept_and_reported(course):
    """Exercises became NAME_exercises.ipynb: a student's edited old copy is never lost."""
    sync(course)  # the student started before the rename
    old = course / "work/exercises/01_linear_models.ipynb"
    nb = nbformat.read(old, as_version=4)
    nb.cells[0].source = "def f():\n    return 42"
    nbformat.write(nb, old)
    renamed = course / "exercises/01_linear_models_exercises.ipynb"
    (course / "exercises/01_linear_models.ipynb").rename(renamed)  # git pull of the rename
    report = sync(course)
    assert "exercises/01_linear_models_exercises.ipynb" in report.copied
    assert report.renamed == [("exercises/01_linear_models.ipynb",
                               "exercises/01_linear_models_exercises.ipynb")]
    assert "return 42" in old.read_text()
    line = " ".join(report.lines(Path("work")))
    assert "kept your work/exercises/01_linear_models.ipynb" in line
    assert "work/exercises/01_linear_models_exercises.ipynb" in line
    assert sync(course).renamed == report.renamed  # reported again, still kept
    assert "return 42" in old.read_text()


def test_an_unedited_copy_under_an_old_name_is_removed(course):
    sync(course)
    old = course / "work/exercises/01_linear_models.ipynb"
    (course / "exercises/01_linear_models.ipynb").rename(
        course / "exercises/01_linear_models_exercises.ipynb")
    report = sync(course)
    assert report.retired == ["exercises/01_linear_models.ipynb"] and not report.renamed
    assert not old.exists()
    assert (course / "work/exercises/01_linear_models_exercises.ipynb").is_file()
    assert not sync(course).retired


def test_an_old_name_copy_without_a_record_is_kept(course):
    (course / "exercises/01_linear_models.ipynb").rename(
        course / "exercises/01_linear_models_exercises.ipynb")
    mine = course / "work/exercises/01_linear_models.ipynb"
    _notebook(mine, "my own work")
    report = sync(course)
    assert report.renamed and "my own work" in mine.read_text()
