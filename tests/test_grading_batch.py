"""A batch of 50 honest (varied) submissions grades exactly right with --workers 2."""

from __future__ import annotations

import csv
import json
import sys

import pytest
from grading_support import POINTS, honest_submissions, make_bundle, read_grades

from coursekit.grading import sandbox
from coursekit.grading.grade import grade


def test_fifty_honest_submissions(tmp_path, capsys):
    paths = make_bundle(tmp_path)
    expected = honest_submissions(paths["release"], tmp_path / "submissions", 50)
    out = tmp_path / "out"
    summary = grade("01_linear_models", tmp_path / "submissions", out, bundle=paths["bundle"],
                    workers=2, timeout=60)
    assert summary["graded"] == summary["submissions"] == 50
    grades = read_grades(out)
    assert grades == {name: pytest.approx(points) for name, points in expected.items()}
    # a mix was graded: every question has both right and wrong answers
    for question in POINTS:
        earned = {grades[name][question] for name in grades}
        assert earned == {0.0, POINTS[question]}
    with open(out / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 50  # one row per student: total and one column per question
    assert all(float(row["score"]) == pytest.approx(sum(expected[row["folder"]].values()))
               for row in rows)
    with open(out / "tests.csv", newline="") as handle:  # the long per-test table
        long_rows = list(csv.DictReader(handle))
    assert len(long_rows) == 50 * 26
    assert {row["status"] for row in long_rows} <= {"passed", "failed", "error"}
    results = json.loads((out / "student000" / "results.json").read_text())
    assert results["score"] == pytest.approx(sum(expected["student000"].values()))
    assert {"name", "score", "max_score", "output", "visibility"} <= set(results["tests"][0])
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(15.0)
    # progress lines and, where protections are missing, exactly one warning
    err = capsys.readouterr().err
    assert err.count("student0") == 50
    assert err.count("warning") == (1 if sandbox.missing_protections(
        sandbox.capabilities()) else 0)


def test_weaker_sandbox_warns_once_and_still_grades(tmp_path, capsys, monkeypatch):
    """Where root or Landlock is missing, grading goes on after a single warning."""
    from coursekit.grading import engine
    from coursekit.grading.assign import load_bundle, plan_of
    from coursekit.grading.notebook import read_submission, rebuild

    paths = make_bundle(tmp_path)
    honest_submissions(paths["release"], tmp_path / "subs", 1)
    bundle = load_bundle(paths["bundle"])
    notebook, _ = rebuild(bundle["release"],
                          read_submission(tmp_path / "subs" / "student000" / "submission.ipynb"))
    weak = {"root": False, "landlock": False}
    run = engine.execute(notebook, plan_of(bundle["questions"]), sandbox.Limits(timeout=60),
                         sandboxed=True, caps=weak)
    assert run.runs == 1 and len(run.outcomes) == 26
    assert all("value" in outcome for outcome in run.outcomes.values())
    if sandbox.capabilities()["root"]:  # root without Landlock: uid drop, netns, tmpfs
        run = engine.execute(notebook, plan_of(bundle["questions"]),
                             sandbox.Limits(timeout=60), sandboxed=True,
                             caps={"root": True, "landlock": False})
        assert all("value" in outcome for outcome in run.outcomes.values()), run.outcomes
        if not sandbox._world_readable([sys.base_prefix, sys.prefix]):
            assert any("keeps the right to read every file" in w for w in run.warnings)
        # root in a container without CAP_SYS_ADMIN: uid drop and Landlock, no namespaces
        no_ns = {"root": True, "namespaces": False, "landlock": sandbox.landlock_abi() > 0}
        run = engine.execute(notebook, plan_of(bundle["questions"]),
                             sandbox.Limits(timeout=60), sandboxed=True, caps=no_ns)
        assert all("value" in outcome for outcome in run.outcomes.values()), run.outcomes
        assert "namespaces are not permitted" in " ".join(sandbox.missing_protections(no_ns))
    if sandbox.landlock_abi() > 0:  # Landlock without root: files still out of reach
        reader = {"cell_type": "code", "metadata": {}, "source":
                  f"secret = open({str(paths['bundle'] / 'bundle.json')!r}).read()"}
        notebook["cells"].append(reader)
        run = engine.execute(notebook, plan_of(bundle["questions"]),
                             sandbox.Limits(timeout=60), sandboxed=True,
                             caps={"root": False, "landlock": True})
        assert all("value" in outcome for outcome in run.outcomes.values())
        assert "PermissionError" in run.cell_errors[max(run.cell_errors)]
    monkeypatch.setattr(sandbox, "capabilities", lambda: weak)
    grade("01_linear_models", tmp_path / "subs", tmp_path / "out", bundle=paths["bundle"],
          workers=1, timeout=60)
    err = capsys.readouterr().err
    assert err.count("warning: weaker sandbox") == 1
    assert "not running as root" in err and "Landlock is not available" in err


def test_notebook_magics_and_displays_work_in_the_grader():
    """`%matplotlib inline`, plt.show() and display() run in the child (no kernel there)."""
    from coursekit.grading import engine
    from coursekit.grading.values import encode

    source = ("%matplotlib inline\nimport matplotlib.pyplot as plt\n"
              "from IPython.display import display\n"
              "plt.plot([1, 2]); plt.title('t'); plt.show()\ndisplay({'a': 1})\n"
              "elapsed = %time 41 + 1\nx = elapsed")
    notebook = {"cells": [{"cell_type": "code", "source": source, "metadata": {}}]}
    plan = [{"q": "q1", "tests": [{"key": "public/0", "kind": "value", "target": "x",
                                   "args": encode([]), "kwargs": encode({})}]}]
    run = engine.execute(notebook, plan, sandbox.Limits(timeout=60), sandboxed=True)
    assert run.cell_errors == {}
    assert run.outcomes == {("q1", "public/0"): {"value": 42}}


def test_grader_process_never_receives_expected_values(tmp_path):
    """The job a grader process gets holds inputs only; scoring happens in the coordinator."""
    from coursekit.grading.assign import load_bundle
    from coursekit.grading.grade import grading_job, run_submission, score_run

    paths = make_bundle(tmp_path)
    bundle = load_bundle(paths["bundle"])
    submission = tmp_path / "ref.ipynb"
    submission.write_text(json.dumps(bundle["release"]))
    job = grading_job(bundle, submission, "ref", sandbox.Limits(timeout=30, memory_mb=2048))
    wire = json.dumps(job)
    for question in bundle["questions"]:
        for test in question["tests"]:
            assert all(set(t) <= {"key", "kind", "target", "args", "kwargs", "warnings"}
                       for q in job["plan"] for t in q["tests"])
            if test["expected"] is not None and len(json.dumps(test["expected"])) > 20:
                assert json.dumps(test["expected"]) not in wire
    run = json.loads(json.dumps(run_submission(job)))  # crosses a process boundary as JSON
    assert run["format"] == 1 and run["error"] is None and run["outcomes"]
    record = score_run(bundle, "ref", submission, run)
    assert record["max_score"] == pytest.approx(15.0)
    # the release is unsolved: every test ran and scored, none passed
    assert record["score"] == 0.0
    assert all(t["status"] != "passed" for q in record["questions"] for t in q["tests"])
    # a malformed or foreign result is an error of the submission, never an exception
    for bad in ({"format": 99}, [], {"format": 1, "outcomes": [{"q": "q1", "t": "x",
                                                                "value": {"__bad__": 1}}]}):
        broken = score_run(bundle, "ref", submission, bad)
        assert broken["score"] == 0.0
