"""The gradebook, deadlines, roster matching, the submissions scan and the student release
(fast unit tests; the class test in test_grading_class.py grades a whole class)."""

from __future__ import annotations

import json
import sqlite3
import stat
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
from grading_support import REPO, SOLUTIONS

from coursekit.grading import deadlines
from coursekit.grading.grade import scan_submissions
from coursekit.grading.gradebook import DATABASE, Gradebook, GradebookLocked
from coursekit.grading.report import match_roster


def _record(student, points, *, penalty=0.0, late=False, submitted_at=None):
    return {"student": student, "submission": student, "file": f"{student}.ipynb",
            "assignment": "a", "score": round(points * (1 - penalty), 6), "raw_score": points,
            "max_score": 4.0, "penalty": penalty, "late": late, "submitted_at": submitted_at,
            "error": None, "questions": [{"id": "q1", "title": "", "points": points,
                                          "max_points": 4.0, "status": "passed",
                                          "tests": []}]}


def test_deadline_parsing_and_penalties():
    due = deadlines.parse_time("2026-12-01T23:59+01:00")
    policy = deadlines.LatePolicy(due, timedelta(minutes=15), 0.1, 0.5)
    assert policy.assess(due - timedelta(hours=1)) == (False, -3600.0, 0.0)
    assert policy.assess(due + timedelta(minutes=10))[::2] == (False, 0.0)  # grace
    assert policy.assess(due + timedelta(minutes=16))[::2] == (True, 0.1)  # a started day
    assert policy.assess(due + timedelta(hours=24, seconds=1))[::2] == (True, 0.2)
    assert policy.assess(due + timedelta(days=30))[::2] == (True, 0.5)  # the cap
    assert policy.assess(None) == (False, None, 0.0)
    with pytest.raises(ValueError, match="no UTC offset"):
        deadlines.parse_time("2026-12-01T23:59")
    assert deadlines.parse_fraction("10%/day", "x") == pytest.approx(0.1)
    assert deadlines.parse_duration("2h") == timedelta(hours=2)
    with pytest.raises(ValueError, match="duration"):
        deadlines.parse_duration("soon")
    # grading.toml, overridden by the command line
    config = {"due": "2026-12-01T23:59Z", "late_penalty": "5%"}
    made = deadlines.make_policy(config, late_cap="20%")
    assert made.due == datetime(2026, 12, 1, 23, 59, tzinfo=timezone.utc)
    assert (made.per_day, made.cap) == (0.05, 0.2)
    assert deadlines.make_policy(config, due="2026-12-02T10:00+08:00").due.hour == 10


def test_timestamps_file_errors_name_the_line(tmp_path):
    path = tmp_path / "timestamps.csv"
    path.write_text("name,time\nalice,2026-12-01T10:00:00+01:00\nbob,2026-12-01T11:00:00\n")
    with pytest.raises(ValueError, match=r"line 3: '2026-12-01T11:00:00' has no UTC offset"):
        deadlines.read_timestamps(path)
    nfd = unicodedata.normalize("NFD", "José")
    path.write_text(f"{nfd},2026-12-01T10:00:00Z\n")
    assert list(deadlines.read_timestamps(path)) == ["José"]
    (tmp_path / "grading.toml").write_text('due = "2026-12-01T23:59Z"\nlate = 1\n')
    with pytest.raises(ValueError, match="unknown settings"):
        deadlines.load_config(tmp_path)


def test_gradebook_private_locked_append_only(tmp_path):
    with Gradebook(tmp_path, "a") as book:
        assert stat.S_IMODE((tmp_path / DATABASE).stat().st_mode) == 0o600
        with pytest.raises(GradebookLocked, match="another coursekit grade is running"):
            Gradebook(tmp_path, "a")
        run = book.start_run("sha", {})
        book.add_grading(run, _record("alice", 3.0), sha256="v1", answers={})
        book.finish_run(run)
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            book.db.execute("DELETE FROM gradings")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            book.db.execute("UPDATE runs SET finished = 'x'")  # finished once
    with pytest.raises(ValueError, match="is for 'a', not 'b'"):
        Gradebook(tmp_path, "b")
    Gradebook(tmp_path, "a").close()  # the lock was released


def test_counting_policy_and_overrides(tmp_path):
    with Gradebook(tmp_path, "a") as book:
        run = book.start_run("sha", {})
        book.add_grading(run, _record("bob", 2.0, submitted_at="2026-12-01T10:00:00+00:00"),
                         sha256="v1", answers={})
        book.add_grading(run, _record("bob", 4.0, penalty=0.3, late=True,
                                      submitted_at="2026-12-03T10:00:00+00:00"),
                         sha256="v2", answers={})
        book.add_grading(run, _record("cid", 4.0, penalty=0.3, late=True,
                                      submitted_at="2026-12-03T10:00:00+00:00"),
                         sha256="v1", answers={})
        counted = {c.student: c for c in book.counted("latest-on-time")}
        assert counted["bob"].record["score"] == 2.0 and counted["bob"].versions == 2
        assert counted["cid"].record["score"] == pytest.approx(2.8)  # none on time: latest
        latest = {c.student: c for c in book.counted("latest")}
        assert latest["bob"].record["score"] == pytest.approx(2.8)
        book.add_override(run, "bob", "q1", 1.0, "first reason")
        book.add_override(run, "bob", "q1", 3.0, "second look")
        counted = {c.student: c for c in book.counted()}
        assert counted["bob"].record["score"] == 3.0
        assert counted["bob"].record["overrides"][0]["reason"] == "second look"
        with pytest.raises(ValueError, match="needs a reason"):
            book.add_override(run, "bob", "q1", 1.0, " ")
        assert len(book.rows("SELECT * FROM overrides")) == 2  # both kept


def test_roster_matching_nfc_and_email_local_part():
    roster = [{"student_id": "20260042", "name": "José Núñez", "email": "jose.nunez@uni.x"},
              {"student_id": "ana", "name": "Ana", "email": "ana.b@uni.x"},
              {"student_id": "7", "name": "Zoë", "email": "zoë@uni.x"}]
    matched, unmatched = match_roster(roster, ["jose.nunez", "ana", "20260042", "nobody",
                                               unicodedata.normalize("NFD", "zoë")])
    assert matched["jose.nunez"]["student_id"] == matched["20260042"]["student_id"]
    assert matched["ana"]["name"] == "Ana" and unmatched == ["nobody"]
    assert matched[unicodedata.normalize("NFD", "zoë")]["student_id"] == "7"


def test_scan_lists_rejected_files_and_keeps_names(tmp_path):
    (tmp_path / "José Núñez.ipynb").write_text("{}")
    (tmp_path / "bo").mkdir()
    (tmp_path / "bo" / "notes.ipynb").write_text("{}")
    (tmp_path / "bo" / "02_x_exercises.ipynb").write_text("{}")
    (tmp_path / "essay.pdf").write_bytes(b"%PDF")
    (tmp_path / "solution.py").write_text("x = 1")
    (tmp_path / "empty").mkdir()
    (tmp_path / "timestamps.csv").write_text("")
    found, rejected = scan_submissions(tmp_path, "02_x")
    assert [(n, f) for n, f, _ in found] == [("José Núñez", "José_Núñez"), ("bo", "bo")]
    assert found[1][2].name == "02_x_exercises.ipynb"  # the renamed exercise file counts
    assert dict(rejected).keys() == {"essay.pdf", "solution.py", "empty/"}
    assert "not a notebook (.pdf)" in dict(rejected)["essay.pdf"]


def test_override_arguments():
    from coursekit.cli import _overrides

    assert _overrides(['alice,q3,2.5,"plot fine, axis unlabelled"']) == [
        ("alice", "q3", 2.5, "plot fine, axis unlabelled")]
    with pytest.raises(ValueError, match="student,question,score,reason"):
        _overrides(["alice,q3,2.5"])
    with pytest.raises(ValueError, match="must be a number"):
        _overrides(["alice,q3,lots,why"])


def test_student_release_holds_no_secret(tmp_path):
    from coursekit.grading.notebook import BEGIN_SOLUTION, END_SOLUTION
    from coursekit.grading.release import write_release

    summary = write_release(tmp_path / "release", REPO)
    out = tmp_path / "release"
    files = [p for p in out.rglob("*") if p.is_file()]
    assert summary["files"] == len(files) > 50
    for must in ("Makefile", "pyproject.toml", "constraints.txt", "README.md",
                 "coursekit/workspace.py", "coursekit/grading/check.py"):
        assert (out / must).is_file(), must
    assert sorted(p.name for p in (out / "exercises").glob("*.ipynb")) == sorted(
        p.name for p in (REPO / "exercises").glob("*.ipynb"))
    public = list((out / "coursekit" / "grading" / "public").glob("*.json"))
    assert public
    for path in public:  # public tests only
        data = json.loads(path.read_text())
        assert {t["visibility"] for q in data["questions"] for t in q["tests"]} == {"public"}
    assert not (out / "solutions").exists() and not (out / "tests").exists()
    assert not [p for p in files if p.name == "bundle.json" or p.suffix == ".secret"]
    # no three consecutive lines of any reference solution are in the release (single
    # lines recur legitimately: coursekit implements PCA, a lecture derives the KL term)
    def runs(lines):
        lines = [line.strip() for line in lines if line.strip()
                 and not line.strip().startswith("#")]
        return {tuple(lines[i:i + 3]) for i in range(len(lines) - 2)
                if max(len(line) for line in lines[i:i + 3]) > 30}

    secret_runs = set()
    for notebook in SOLUTIONS.glob("*/*.ipynb"):
        for cell in json.loads(notebook.read_text())["cells"]:
            block, inside = [], False
            for line in "".join(cell["source"]).splitlines():
                if line.strip().startswith(BEGIN_SOLUTION):
                    block, inside = [], True
                elif line.strip().startswith(END_SOLUTION):
                    secret_runs |= runs(block)
                    inside = False
                elif inside:
                    block.append(line)
    assert len(secret_runs) > 100
    # the exercises, the site and the grading package must not hold them; the course library
    # (coursekit.nn.detection's IoU, coursekit.unsupervised's PCA) and the lectures teach
    # some of the same code on purpose, so they are not searched
    searched = [p for p in files if p.relative_to(out).parts[0] in ("exercises", "book")
                or p.is_relative_to(out / "coursekit" / "grading")]
    assert len(searched) > 20
    for path in searched:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if path.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
        leaked = secret_runs & runs(text.splitlines())
        assert not leaked, (path, sorted(leaked)[:2])
    with pytest.raises(ValueError, match="not empty"):
        write_release(out, REPO)


def test_large_notebook_graded_without_outputs_and_feedback_returned(tmp_path, capsys):
    from grading_support import honest_answers, make_bundle, student_notebook, write_notebook

    from coursekit.cli import main

    paths = make_bundle(tmp_path)
    notebook = student_notebook(paths["release"], honest_answers())
    notebook["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout",
                                        "text": "x" * (21 * 2**20)}]
    write_notebook(tmp_path / "subs" / "big.ipynb", notebook)
    assert (tmp_path / "subs" / "big.ipynb").stat().st_size > 21 * 2**20
    assert main(["grade", "--assignment", "01_linear_models", "--submissions",
                 str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--bundle",
                 str(paths["bundle"]), "--workers", "1", "--timeout", "30",
                 "--return-feedback", str(tmp_path / "upload")]) == 0
    assert "feedback of 1 students" in capsys.readouterr().out
    feedback = (tmp_path / "upload" / "big" / "feedback.md").read_text()
    assert "**Score: 15 / 15**" in feedback and "graded with its outputs stripped" in feedback


def test_interrupted_run_resumes_without_regrading(tmp_path, monkeypatch):
    from grading_support import honest_submissions, make_bundle, read_grades

    from coursekit.grading import grade as grading

    paths = make_bundle(tmp_path)
    expected = honest_submissions(paths["release"], tmp_path / "subs", 3)
    real = grading.run_local

    def interrupted(jobs, workers, timeout):
        for number, item in enumerate(real(jobs, workers, timeout)):
            if number == 1:
                raise KeyboardInterrupt  # the instructor pressed Ctrl-C
            yield item

    monkeypatch.setattr(grading, "run_local", interrupted)
    with pytest.raises(KeyboardInterrupt):
        grading.grade("01_linear_models", tmp_path / "subs", tmp_path / "out",
                      bundle=paths["bundle"], workers=1, timeout=30, quiet=True)
    monkeypatch.setattr(grading, "run_local", real)
    summary = grading.grade("01_linear_models", tmp_path / "subs", tmp_path / "out",
                            bundle=paths["bundle"], workers=1, timeout=30, quiet=True)
    assert (summary["graded"], summary["skipped"]) == (2, 1)
    assert read_grades(tmp_path / "out") == expected
    book = sqlite3.connect(tmp_path / "out" / DATABASE)
    assert book.execute("SELECT count(*), count(finished) FROM runs").fetchone() == (2, 1)
    assert book.execute("SELECT count(*) FROM gradings").fetchone()[0] == 3
