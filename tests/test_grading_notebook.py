"""Solution stripping and rebuilding a submission from the release notebook."""

from __future__ import annotations

import json

import pytest

from coursekit.grading.notebook import (
    STUB_MESSAGE,
    SubmissionError,
    read_submission,
    rebuild,
    strip_solution,
)


def test_strip_solution_keeps_signature_and_indentation():
    source = ("def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    y = x + 1\n"
              "    return y\n    ### END SOLUTION\n\n### BEGIN SOLUTION\nz = f(1)\n"
              "### END SOLUTION\nprint(z)")
    stripped, found = strip_solution(source)
    assert found
    assert stripped == (f'def f(x):\n    """Doc."""\n    raise NotImplementedError("{STUB_MESSAGE}")'
                        f'\n\nraise NotImplementedError("{STUB_MESSAGE}")\nprint(z)')
    assert strip_solution("x = 1") == ("x = 1", False)
    assert strip_solution("### BEGIN SOLUTION\nanswer\n### END SOLUTION", "markdown")[0] == \
        "YOUR ANSWER HERE"
    with pytest.raises(ValueError, match="without ### END SOLUTION"):
        strip_solution("### BEGIN SOLUTION\nx = 1")
    with pytest.raises(ValueError, match="line 1: ### END SOLUTION without"):
        strip_solution("### END SOLUTION")


def _release():
    def cell(cell_id, kind, source, cell_type="code"):
        meta = {"id": cell_id, "kind": kind}
        if kind == "readonly":
            from coursekit.grading.notebook import checksum

            meta["checksum"] = checksum(source)
        return {"cell_type": cell_type, "id": cell_id, "source": source,
                "metadata": {"coursekit": meta}}

    return {"cells": [
        cell("cell-1", "readonly", "# Title", "markdown"),
        cell("cell-2", "readonly", "import numpy as np"),
        cell("answer-1", "answer", "def f(x):\n    raise NotImplementedError"),
        cell("cell-3", "readonly", "check('q1')"),
        cell("answer-2", "answer", "def g(x):\n    raise NotImplementedError"),
    ], "metadata": {}}


def _answers(notebook):
    return {c["id"]: c["source"] for c in notebook["cells"]
            if c["metadata"]["coursekit"]["kind"] == "answer"}


def _student(*cells):
    return [{"cell_type": t, "source": s, "id": i, "metadata": m} for t, s, i, m in cells]


def test_rebuild_matches_by_id_then_metadata_then_first_line_then_position():
    release = _release()
    by_id = _student(("code", "def f(x):\n    return 1", "answer-1", {}),
                     ("code", "def g(x):\n    return 2", "answer-2", {}))
    rebuilt, notes = rebuild(release, by_id)
    assert _answers(rebuilt) == {"answer-1": "def f(x):\n    return 1",
                                 "answer-2": "def g(x):\n    return 2"}
    assert notes == []
    # ids retyped, metadata kept; then metadata lost too, cells reordered
    by_meta = _student(("code", "def g(x):\n    return 2", "zz", {"coursekit": {"id": "answer-2"}}),
                       ("code", "def f(x):\n    return 1", "yy", {"coursekit": {"id": "answer-1"}}))
    assert _answers(rebuild(release, by_meta)[0])["answer-2"] == "def g(x):\n    return 2"
    by_line = _student(("code", "def g(x):\n    return 2", "a", {}),
                       ("code", "def f(x):\n    return 1", "b", {}))
    assert _answers(rebuild(release, by_line)[0]) == {"answer-1": "def f(x):\n    return 1",
                                                      "answer-2": "def g(x):\n    return 2"}
    # renamed functions, same number of code cells: by position
    by_position = _student(("code", "import numpy as np", "p", {}),
                           ("code", "def f_new(x):\n    return 1", "q", {}),
                           ("code", "check('q1')", "r", {}),
                           ("code", "def g_new(x):\n    return 2", "s", {}))
    assert _answers(rebuild(release, by_position)[0])["answer-1"].startswith("def f_new")


def test_rebuild_ignores_edited_readonly_cells_and_notes_problems():
    release = _release()
    student = _student(("code", "import os; os._exit(0)", "cell-2", {}),
                       ("code", "def f(x):\n    return 1", "answer-1", {}),
                       ("code", "def f(x):\n    return 3", "answer-1", {}))
    rebuilt, notes = rebuild(release, student)
    sources = [c["source"] for c in rebuilt["cells"]]
    assert "import numpy as np" in sources and "import os; os._exit(0)" not in sources
    assert _answers(rebuilt)["answer-1"] == "def f(x):\n    return 3"  # the last duplicate
    assert _answers(rebuilt)["answer-2"] == release["cells"][4]["source"]  # unanswered
    assert "the read-only cell, `import numpy as np` was edited; the original was used" in notes
    assert any("2 cells match an answer cell, `def f` (by id)" in n for n in notes)
    assert "an answer cell, `def g` was not found in the submission; it was graded as " \
        "unanswered" in notes
    # the older duplicate runs too, where the student put it (as check() runs it)
    assert [c["id"] for c in rebuilt["cells"]] == ["cell-1", "cell-2", "added-1", "answer-1",
                                                   "cell-3", "answer-2"]


@pytest.mark.parametrize("content, reason", [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe\x00", "not UTF-8"),
    (b"[1, 2]", "not a Jupyter notebook"),
    (json.dumps({"worksheets": []}).encode(), "nbformat 3 is not supported"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
])
def test_unreadable_submissions_name_the_reason(tmp_path, content, reason):
    path = tmp_path / "s.ipynb"
    path.write_bytes(content)
    with pytest.raises(SubmissionError, match=reason):
        read_submission(path)


def test_read_submission_tolerates_odd_cells(tmp_path):
    path = tmp_path / "s.ipynb"
    path.write_text(json.dumps({"cells": [
        {"cell_type": "code", "source": ["a = 1\n", "b = 2"], "metadata": "lost"},
        {"cell_type": "weird", "source": "x"}, "not a cell",
        {"cell_type": "code", "source": 42}, {"cell_type": "markdown"}]}))
    cells = read_submission(path)
    assert cells == [{"cell_type": "code", "source": "a = 1\nb = 2", "id": None, "metadata": {}},
                     {"cell_type": "markdown", "source": "", "id": None, "metadata": {}}]


def test_rebuild_matches_by_defined_name_when_the_signature_changed():
    release = _release()
    student = _student(("code", "x = 0", "extra", {}),  # an extra cell: positions shift
                       ("code", "def f(x, scale=2):\n    return scale", "n1", {}),
                       ("code", "# helper\ndef g(x, y=None):\n    return 2", "n2", {}))
    answers = _answers(rebuild(release, student)[0])
    assert answers == {"answer-1": "def f(x, scale=2):\n    return scale",
                       "answer-2": "# helper\ndef g(x, y=None):\n    return 2"}


def test_rebuild_notes_a_notebook_of_another_assignment():
    release = _release()
    release["metadata"] = {"coursekit": {"assignment": "01_linear_models"}}
    student = _student(("code", 'check = checker("02_mlp_backprop")', "cell-2", {}),
                       ("code", "def f(x):\n    return 1", "answer-1", {}))
    _, notes = rebuild(release, student)
    assert any("this notebook is the exercise '02_mlp_backprop', not '01_linear_models'" in n
               for n in notes)


def _sources(notebook):
    return [(c["metadata"]["coursekit"]["kind"], c["source"]) for c in notebook["cells"]
            if c["cell_type"] == "code"]


def test_added_cells_run_where_the_student_put_them():
    release = _release()
    student = _student(("markdown", "# Title", "cell-1", {}),
                       ("code", "import numpy as np", "cell-2", {}),
                       ("code", "def helper(x):\n    return 2 * x", "new-1", {}),
                       ("code", "def f(x):\n    return helper(x)", "answer-1", {}),
                       ("code", "y = f(1)", "new-2", {}),
                       ("markdown", "my notes", "new-3", {}),
                       ("code", "check('q1')", "cell-3", {}),
                       ("code", "def g(x):\n    return 2", "answer-2", {}))
    rebuilt, notes = rebuild(release, student)
    assert notes == []
    assert _sources(rebuilt) == [
        ("readonly", "import numpy as np"), ("added", "def helper(x):\n    return 2 * x"),
        ("answer", "def f(x):\n    return helper(x)"), ("added", "y = f(1)"),
        ("readonly", "check('q1')"), ("answer", "def g(x):\n    return 2")]
    added = [c["metadata"]["coursekit"] for c in rebuilt["cells"]
             if c["metadata"]["coursekit"]["kind"] == "added"]
    assert [(m["id"], m["after"]) for m in added] == [("added-1", "cell-2"),
                                                      ("added-2", "answer-1")]
    assert added[1]["after_label"] == "an answer cell, `def f`"
    # markdown the student added does not run and is not kept
    assert all(c["source"] != "my notes" for c in rebuilt["cells"])


def test_an_answer_split_in_two_and_a_cell_at_the_top_run_in_order():
    release = _release()
    student = _student(("code", "SCALE = 3", None, {}),
                       ("code", "import numpy as np", None, {}),
                       ("code", "def f(x):\n    return SCALE * x", None, {}),
                       ("code", "f_doubled = lambda x: 2 * f(x)", None, {}),
                       ("code", "check('q1')", None, {}),
                       ("code", "def g(x):\n    return f_doubled(x)", None, {}))
    rebuilt, _ = rebuild(release, student)
    assert _sources(rebuilt) == [
        ("added", "SCALE = 3"), ("readonly", "import numpy as np"),
        ("answer", "def f(x):\n    return SCALE * x"),
        ("added", "f_doubled = lambda x: 2 * f(x)"), ("readonly", "check('q1')"),
        ("answer", "def g(x):\n    return f_doubled(x)")]
    assert rebuilt["cells"][0]["metadata"]["coursekit"]["after"] is None


# --------------------------------------------- what check() accepts, the grader accepts
def _cell(source, cell_type="code"):
    return {"cell_type": cell_type, "id": None, "metadata": {}, "source": source,
            **({"outputs": [], "execution_count": None} if cell_type == "code" else {})}


def _check_variants(release):
    """Correct chapter-01 notebooks a student could hand in after `check()` passed."""
    from grading_support import honest_answers, student_notebook

    answers = honest_answers()

    def at(notebook, cell_id):
        return next(i for i, c in enumerate(notebook["cells"]) if c.get("id") == cell_id)

    variants = {}
    # a helper in a new cell above the answer that uses it
    notebook = student_notebook(release, {**answers, "answer-1": (
        "def fit_least_squares(X, y):\n    return _normal_equations(X, y)\n")})
    notebook["cells"].insert(at(notebook, "answer-1"), _cell(
        "def _normal_equations(X, y):\n    return np.linalg.solve(X.T @ X, X.T @ y)\n"))
    variants["helper_cell"] = notebook
    # the helper below the answer (reordered inside the answer region: defined before
    # any test calls the answer), and a markdown cell of the student's notes
    notebook = student_notebook(release, {**answers, "answer-2": answers["answer-2"].replace(
        "def sigmoid(z):", "def sigmoid_unused(z):") + "\n\ndef sigmoid(z):\n    return _sig(z)\n"})
    position = at(notebook, "answer-2") + 1
    notebook["cells"][position:position] = [
        _cell("My notes: the sigmoid saturates.", "markdown"),
        _cell("def _sig(z):\n    z = np.asarray(z, dtype=float)\n"
              "    return np.exp(-np.logaddexp(0.0, -z))\n")]
    variants["helper_below_and_markdown"] = notebook
    # an answer split in two cells: the functions, then the line that uses them
    source = answers["answer-5"]
    head, tail = source.split("best_lambda =", 1)
    notebook = student_notebook(release, {**answers, "answer-5": head})
    notebook["cells"].insert(at(notebook, "answer-5") + 1, _cell("best_lambda =" + tail))
    variants["split_answer"] = notebook
    return variants


def test_every_variant_that_passes_check_scores_the_same_when_graded(tmp_path):
    from grading_support import POINTS, make_bundle, read_grades, write_notebook

    from coursekit.grading.check import check_notebook
    from coursekit.grading.grade import grade

    paths = make_bundle(tmp_path, check_independence=False)
    release = paths["release"]
    submissions = tmp_path / "subs"
    for name, notebook in _check_variants(release).items():
        path = write_notebook(submissions / f"{name}.ipynb", notebook)
        report, errors = check_notebook(path, timeout=120)
        assert report.passed, (name, report.text(), errors)
    grade("01_linear_models", submissions, tmp_path / "out", bundle=paths["bundle"],
          workers=2, timeout=60, quiet=True)
    grades = read_grades(tmp_path / "out")
    for name in _check_variants(release):
        assert grades[name] == POINTS, (name, (tmp_path / "out" / name / "feedback.md")
                                        .read_text()[:3000])
