"""Issue 14's class test: a class of 46 varied submissions of chapter 01, graded with two
workers, one student regraded with --only, one resubmitted late; the gradebook, every
export and the class report are checked. One shared fixture (module scope) grades the
class once; a short per-test time limit keeps it fast."""

from __future__ import annotations

import csv
import json
import random
import sqlite3
import stat
import time
import unicodedata

import pytest
from grading_support import (
    POINTS,
    QUESTION_OF,
    VARIANTS,
    honest_answers,
    make_bundle,
    read_grades,
    student_notebook,
    write_notebook,
)

from coursekit.grading.grade import grade
from coursekit.grading.gradebook import DATABASE, Gradebook

ASSIGNMENT = "01_linear_models"
TIMEOUT = 15  # seconds for the notebook and for each question: short, the class is small
N = 46  # submissions (and two rejected files)
DUE = "2026-12-01T23:59+01:00"
ON_TIME = "2026-12-01T20:00:00+01:00"
IN_GRACE = "2026-12-02T00:09:00+01:00"  # 10 min late, within the 15 min grace
TWO_DAYS_LATE = "2026-12-03T12:00:00+01:00"  # 36 h late: two started days, -20 %
CELLS = ["answer-5", "answer-4", "answer-3", "answer-2", "answer-1"]  # fastest-varying first
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
       "rkJggg==")
JOSE = "José Núñez"
NUNEZ = "núñez.josé"
COPY_SOURCE = '''def fit_ridge(X, y, lam):
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    gram = X.T @ X
    for k in range(gram.shape[0]):
        gram[k, k] = gram[k, k] + lam
    rhs = X.T @ y
    weights = np.linalg.solve(gram, rhs)
    return weights


def choose_lambda(X_train, y_train, X_val, y_val, lambdas):
    scores = []
    for candidate in lambdas:
        w = fit_ridge(X_train, y_train, candidate)
        residual = X_val @ w - y_val
        scores.append(float(np.mean(residual * residual)))
    order = sorted(range(len(scores)), key=lambda k: scores[k])
    return lambdas[order[0]]


best_lambda = choose_lambda(P_train, t_train, P_val, t_val, LAMBDAS)
'''
RENAMES = {"gram": "G", "rhs": "b", "weights": "coef", "scores": "errs", "candidate": "l",
           "residual": "r", "order": "idx"}


def _renamed(source: str) -> str:
    import re

    for old, new in RENAMES.items():
        source = re.sub(rf"\b{old}\b", new, source)
    return "# my own ridge, written at 2 am\n" + source.replace("    return weights",
                                                              "    # done\n    return weights")


def _honest(i: int) -> tuple[dict, dict]:
    """Student ``i``'s answers (a distinct A/B/W combination per student) and points."""
    reference = honest_answers()
    answers, points = {}, {}
    for j, cell in enumerate(CELLS):
        choice = "ABW"[(i // 3 ** j) % 3] if j < 4 else "A"
        answers[cell] = reference[cell] if choice == "A" else VARIANTS[cell][choice]
        points[QUESTION_OF[cell]] = 0.0 if choice == "W" else POINTS[QUESTION_OF[cell]]
    return answers, points


def _write(folder, name: str, notebook, nested: str | None = None):
    target = folder / name / nested if nested else folder / f"{name}.ipynb"
    return write_notebook(target, notebook)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    paths = make_bundle(root)
    bundle_file = paths["bundle"] / "bundle.json"
    bundle = json.loads(bundle_file.read_text())
    for question in bundle["questions"]:  # the instructor forbids sklearn in q5
        if question["id"] == "q5":
            question["forbidden"] = ["sklearn"]
    bundle_file.write_text(json.dumps(bundle))
    release = paths["release"]
    subs = root / "submissions"
    subs.mkdir()
    expected: dict[str, dict] = {}
    full = dict(POINTS)
    reference = honest_answers()
    for i in range(30):  # honest students, each with its own combination of answers
        answers, points = _honest(i)
        notebook = student_notebook(release, answers)
        if i % 5 == 1:
            for cell in notebook["cells"]:  # lost ids and metadata
                cell["metadata"], cell["id"] = {}, f"c{random.Random(i).randrange(10**8)}"
        name = f"s{i:02d}"
        if i == 10:  # outputs the student's notebook stored: shown in the hand-grading export
            cell = next(c for c in notebook["cells"] if c.get("id") == "answer-4")
            cell["outputs"] = [{"output_type": "stream", "name": "stdout",
                                "text": "validation accuracy 0.87\n"},
                               {"output_type": "display_data", "metadata": {},
                                "data": {"image/png": PNG, "text/plain": "<Figure>"}}]
        _write(subs, name, notebook, "submission.ipynb" if i % 2 else None)
        expected[name] = points
    _write(subs, "blank", json.loads(release.read_text()))
    expected["blank"] = {q: 0.0 for q in POINTS}
    broken = dict(reference, **{"answer-1": "def fit_least_squares(X, y)\n    return X\n"})
    _write(subs, "syntax_error", student_notebook(release, broken))
    expected["syntax_error"] = dict(full, q1=0.0)
    helper = student_notebook(release, dict(reference, **{
        "answer-1": "def fit_least_squares(X, y):\n    return lstsq_weights(X, y)\n"}))
    helper["cells"].insert(3, {"cell_type": "code", "id": "my-helper", "metadata": {},
                               "outputs": [], "execution_count": None,
                               "source": "def lstsq_weights(X, y):\n"
                                         "    return np.linalg.lstsq(X, y, rcond=None)[0]\n"})
    _write(subs, "helper_cell", helper)  # its q1 depends on #14.1 (added cells run)
    reordered = student_notebook(release, reference)
    random.Random(7).shuffle(reordered["cells"])
    _write(subs, "reordered", reordered)
    expected["reordered"] = full
    _write(subs, "renamed", student_notebook(release, reference),
           "work/copy of 01_linear_models (1).ipynb")
    expected["renamed"] = full
    (subs / "essay.pdf").write_bytes(b"%PDF-1.4 not a notebook")
    (subs / "answers.py").write_text("def fit_least_squares(X, y):\n    pass\n")
    source_answers = dict(reference, **{"answer-5": COPY_SOURCE})
    original = _write(subs, "copy_source", student_notebook(release, source_answers))
    (subs / "copy_exact.ipynb").write_bytes(original.read_bytes())
    _write(subs, "copy_renamed", student_notebook(
        release, dict(reference, **{"answer-5": _renamed(COPY_SOURCE)})))
    for name in ("copy_source", "copy_exact", "copy_renamed"):
        expected[name] = full
    jose = student_notebook(release, reference)
    _write(subs, unicodedata.normalize("NFD", JOSE), jose)  # decomposed on disk
    _write(subs, unicodedata.normalize("NFD", NUNEZ), jose, "notebook.ipynb")
    expected[JOSE] = expected[NUNEZ] = full
    _write(subs, "late", student_notebook(release, reference))
    expected["late"] = full  # raw points; -20 % late penalty
    _write(subs, "in_grace", student_notebook(release, reference))
    expected["in_grace"] = full
    hard = dict(reference, **{"answer-3": VARIANTS["answer-3"]["B"].replace(
        "    return total / len(y)", "    if len(y) == 3:\n        return 5.266666666666667\n"
                                      "    return total / len(y)")})
    _write(subs, "hardcoded", student_notebook(release, hard))
    expected["hardcoded"] = full
    forbidden = dict(reference, **{"answer-5": "from sklearn.linear_model import Ridge\n\n\n"
                                   "def fit_ridge(X, y, lam):\n"
                                   "    return Ridge(alpha=lam, fit_intercept=False)"
                                   ".fit(X, y).coef_\n\n\n"
                                   + "def choose_lambda(X_train, y_train, X_val, y_val, "
                                     "lambdas):\n    return lambdas[0]\n\n\n"
                                     "best_lambda = choose_lambda(P_train, t_train, P_val, "
                                     "t_val, LAMBDAS)\n"})
    _write(subs, "forbidden", student_notebook(release, forbidden))
    wrong = student_notebook(release, reference)
    for cell in wrong["cells"]:  # the setup cell names another exercise
        if "checker(" in "".join(cell["source"]):
            cell["source"] = "".join(cell["source"]).replace(ASSIGNMENT, "02_neural_networks")
    _write(subs, "wrong_assignment", wrong)
    expected["wrong_assignment"] = full
    _write(subs, "not_json", "{this is not json")
    expected["not_json"] = {q: 0.0 for q in POINTS}
    names = sorted(p.name for p in subs.iterdir())
    assert len(names) == N + 2
    with open(subs / "timestamps.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "time"])
        for entry in sorted(subs.iterdir()):
            stem = unicodedata.normalize("NFC", entry.name.removesuffix(".ipynb"))
            writer.writerow([stem, {"late": TWO_DAYS_LATE, "in_grace": IN_GRACE}.get(stem,
                                                                                        ON_TIME)])
    (subs / "grading.toml").write_text(f'due = "{DUE}"\ngrace = "15m"\n'
                                       'late_penalty = "10%/day"\nlate_cap = "50%"\n')
    roster = root / "roster.csv"
    roster.write_text("student_id,name,email\n" + "".join(
        f"s{i:02d},Student {i},s{i:02d}@uni.example\n" for i in range(30)) +
        f"20260042,José Núñez Pérez,{NUNEZ}@uni.example\n")
    out = root / "out"
    started = time.monotonic()
    summary = grade(ASSIGNMENT, subs, out, bundle=paths["bundle"], workers=2,
                    timeout=TIMEOUT, memory_mb=2048, quiet=True, roster=roster)
    seconds = time.monotonic() - started
    print(f"\nclass of {summary['submissions']} graded with 2 workers in {seconds:.1f} s")
    return {"root": root, "subs": subs, "out": out, "summary": summary, "paths": paths,
            "expected": expected, "roster": roster, "seconds": seconds, "release": release,
            "reference": reference}


def _grades(graded, key="submission"):
    return read_grades(graded["out"], key=key)


def _rows(graded):
    with open(graded["out"] / "grades.csv", newline="", encoding="utf-8") as handle:
        return {row["submission"]: row for row in csv.DictReader(handle)}


def test_every_submission_graded_and_scored(graded):
    summary = graded["summary"]
    assert summary["submissions"] == summary["graded"] == N
    assert sorted(summary["rejected"]) == ["answers.py", "essay.pdf"]
    grades = _grades(graded)
    for name, points in graded["expected"].items():
        assert grades[name] == pytest.approx(points), name
    assert set(grades) == set(graded["expected"]) | {"helper_cell", "forbidden"}
    assert grades["forbidden"]["q1"] == POINTS["q1"]  # a flag, never a score change
    rows = _rows(graded)
    assert rows["late"]["late"] == "1" and float(rows["late"]["penalty"]) == pytest.approx(0.2)
    assert float(rows["late"]["score"]) == pytest.approx(15 * 0.8)
    assert float(rows["late"]["raw_score"]) == pytest.approx(15)
    assert rows["in_grace"]["late"] == "0" and float(rows["in_grace"]["score"]) == 15
    assert rows["not_json"]["error"].startswith("unreadable submission")
    assert rows["s01"]["submitted_at"] == "2026-12-01T19:00:00+00:00"


def test_unicode_names_kept(graded):
    rows = _rows(graded)
    assert JOSE in rows and NUNEZ in rows  # NFC, though the files were NFD on disk
    assert rows[JOSE]["folder"] == "José_Núñez"
    assert (graded["out"] / "José_Núñez" / "feedback.md").is_file()
    book = sqlite3.connect(graded["out"] / DATABASE)
    assert book.execute("SELECT count(*) FROM gradings WHERE student = ?",
                        (JOSE,)).fetchone()[0] == 1


def test_gradebook_is_private_versioned_and_append_only(graded):
    path = graded["out"] / DATABASE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    book = sqlite3.connect(path)
    assert dict(book.execute("SELECT key, value FROM meta").fetchall())["schema_version"] == "1"
    row = book.execute("SELECT sha256, submitted_at, record FROM gradings WHERE student = 's04'"
                       ).fetchone()
    import hashlib

    assert row[0] == hashlib.sha256((graded["subs"] / "s04.ipynb").read_bytes()).hexdigest()
    assert json.loads(row[2])["questions"][0]["tests"]
    assert book.execute("SELECT count(*) FROM test_results").fetchone()[0] == N * 26
    for statement in ("DELETE FROM gradings", "UPDATE gradings SET score = 99",
                      "DELETE FROM flags", "UPDATE test_results SET points = 9"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            book.execute(statement)


def test_exports(graded):
    out = graded["out"]
    with open(out / "tests.csv", newline="", encoding="utf-8") as handle:
        long_rows = list(csv.DictReader(handle))
    assert len(long_rows) == N * 26
    with open(out / "canvas.csv", newline="", encoding="utf-8") as handle:
        canvas = list(csv.reader(handle))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert canvas[1][0] == "Points Possible" and canvas[1][5] == "15"
    assert ["José Núñez Pérez", "", "20260042", NUNEZ, "", "15"] in canvas
    with open(out / "scores.csv", newline="", encoding="utf-8") as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert len(scores) == 31 and scores["20260042"] == 15
    assert scores["s04"] == pytest.approx(sum(graded["expected"]["s04"].values()))
    unmatched = (out / "unmatched.txt").read_text(encoding="utf-8").splitlines()
    assert JOSE in unmatched and "blank" in unmatched and "s04" not in unmatched
    results = json.loads((out / "late" / "results.json").read_text())
    assert results["score"] == pytest.approx(12.0)
    assert "late penalty 20%" in (out / "late" / "feedback.md").read_text()


def test_integrity_flags_in_the_report(graded):
    report = (graded["out"] / "report.md").read_text(encoding="utf-8")
    print(report)
    flagged = graded["summary"]["similarity"]["flagged"]
    pairs = {(a, b) for a, b, _ in flagged}
    assert {("copy_exact", "copy_source"), ("copy_renamed", "copy_source"),
            ("copy_exact", "copy_renamed")} <= pairs
    assert all(a.startswith("copy") or b.startswith("copy") or sim >= 0.98
               for a, b, sim in flagged), flagged
    assert "copy_exact, copy_renamed, copy_source [similar]: 3 submissions with similar " \
        "answer code (pairwise 1.00–1.00" in report
    assert "forbidden [forbidden-import q5]" in report and "imports sklearn" in report
    assert "hardcoded [hard-coded q3]" in report and "5.266666666666667" in report
    assert "essay.pdf: not a notebook (.pdf)" in report
    assert "answers.py: not a notebook (.py)" in report
    assert "wrong_assignment: this notebook is the exercise '02_neural_networks'" in report
    assert "not_json: unreadable submission" in report
    assert "late: submitted 2026-12-03T11:00:00+00:00, penalty 20%" in report
    assert "latest-on-time" in report and "per started 24 h" in report
    assert "| q1 | 2 |" in report
    html = (graded["out"] / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") == len(POINTS) + 1 and "copy_exact, copy_renamed, copy_source" in html
    # flags are for the instructor: never in a student's feedback
    assert "similar" not in (graded["out"] / "copy_source" / "feedback.md").read_text()


def test_rerun_skips_everything_and_changes_nothing(graded):
    before = (graded["out"] / "grades.csv").read_bytes()
    started = time.monotonic()
    summary = grade(ASSIGNMENT, graded["subs"], graded["out"], bundle=graded["paths"]["bundle"],
                    workers=2, timeout=TIMEOUT, memory_mb=2048, quiet=True,
                    roster=graded["roster"])
    print(f"\nunchanged re-run: {time.monotonic() - started:.1f} s")
    assert summary["graded"] == 0 and summary["skipped"] == N
    assert (graded["out"] / "grades.csv").read_bytes() == before


def test_second_run_on_the_same_folder_is_refused(graded, capsys):
    from coursekit.cli import main

    with Gradebook(graded["out"], ASSIGNMENT):
        status = main(["grade", "--assignment", ASSIGNMENT, "--submissions",
                       str(graded["subs"]), "--out", str(graded["out"]), "--bundle",
                       str(graded["paths"]["bundle"])])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1 and "another coursekit grade" in err


def test_only_regrades_one_student_and_keeps_the_class(graded):
    before = _rows(graded)
    started = time.monotonic()
    summary = grade(ASSIGNMENT, graded["subs"], graded["out"], bundle=graded["paths"]["bundle"],
                    workers=2, timeout=TIMEOUT, memory_mb=2048, quiet=True, only="s05",
                    roster=graded["roster"])
    print(f"\n--only s05: {time.monotonic() - started:.1f} s")
    assert summary["graded"] == 1
    after = _rows(graded)
    assert after == before  # same file, same grades, and everyone else is still there
    book = sqlite3.connect(graded["out"] / DATABASE)
    assert book.execute("SELECT count(*) FROM gradings WHERE student = 's05'").fetchone()[0] == 2
    # a folder holding one student only: the class stays in grades.csv (#14.3)
    alone = graded["root"] / "alone"
    alone.mkdir()
    (alone / "s06.ipynb").write_bytes((graded["subs"] / "s06.ipynb").read_bytes())
    grade(ASSIGNMENT, alone, graded["out"], bundle=graded["paths"]["bundle"], workers=1,
          timeout=TIMEOUT, memory_mb=2048, quiet=True, roster=graded["roster"])
    assert len(_rows(graded)) == N


def test_late_resubmission_is_a_version(graded):
    subs = graded["subs"]
    # s02 had answer-5 wrong (W); resubmits a corrected notebook two days late
    answers, points = _honest(2)
    assert points["q5"] == 0.0
    answers["answer-5"] = graded["reference"]["answer-5"]
    (subs / "s02.ipynb").write_text(json.dumps(student_notebook(graded["release"], answers)))
    stamps = (subs / "timestamps.csv").read_text().replace(f"s02,{ON_TIME}",
                                                           f"s02,{TWO_DAYS_LATE}")
    (subs / "timestamps.csv").write_text(stamps)
    started = time.monotonic()
    summary = grade(ASSIGNMENT, subs, graded["out"], bundle=graded["paths"]["bundle"],
                    workers=2, timeout=TIMEOUT, memory_mb=2048, quiet=True,
                    roster=graded["roster"])
    print(f"\nlate resubmission: {time.monotonic() - started:.1f} s")
    assert summary["graded"] == 1
    old = sum(points.values())
    row = _rows(graded)["s02"]
    assert float(row["score"]) == pytest.approx(old)  # latest on time counts: the first
    assert row["versions"] == "2" and row["late"] == "0"
    summary = grade(ASSIGNMENT, subs, graded["out"], bundle=graded["paths"]["bundle"],
                    workers=2, timeout=TIMEOUT, memory_mb=2048, quiet=True,
                    roster=graded["roster"], policy="latest")
    assert summary["graded"] == 0
    row = _rows(graded)["s02"]
    assert row["late"] == "1"
    assert float(row["score"]) == pytest.approx((old + POINTS["q5"]) * 0.8)
    book = sqlite3.connect(graded["out"] / DATABASE)
    versions = book.execute("SELECT DISTINCT sha256 FROM gradings WHERE student = 's02'"
                            ).fetchall()
    assert len(versions) == 2


def test_overrides_and_manual_scores_reach_the_feedback(graded):
    manual = graded["root"] / "manual.csv"
    manual.write_text("student,question,score,comment\ns08,q4,3.5,the plot is right but "
                      "unlabelled\n", encoding="utf-8")
    grade(ASSIGNMENT, graded["subs"], graded["out"], bundle=graded["paths"]["bundle"],
          workers=1, timeout=TIMEOUT, memory_mb=2048, quiet=True, roster=graded["roster"],
          overrides=[("s03", "q1", 1.5, "used the pseudo-inverse, asked not to")],
          manual=manual)
    grades = _grades(graded)
    assert grades["s03"]["q1"] == 1.5 and grades["s08"]["q4"] == 3.5
    feedback = (graded["out"] / "s03" / "feedback.md").read_text()
    assert "changed by the instructor: 1.5 points — used the pseudo-inverse" in feedback
    assert "graded by hand: 3.5 points — the plot is right" in (
        graded["out"] / "s08" / "feedback.md").read_text()
    report = (graded["out"] / "report.md").read_text()
    assert "s03 q1:" in report and "(override): used the pseudo-inverse" in report
    with pytest.raises(ValueError, match="no question 'q9'"):
        grade(ASSIGNMENT, graded["subs"], graded["out"], bundle=graded["paths"]["bundle"],
              quiet=True, overrides=[("s03", "q9", 1, "x")])


def test_hand_grading_export_and_import(graded, tmp_path):
    manual = tmp_path / "manual"
    summary = grade(ASSIGNMENT, graded["subs"], graded["out"], bundle=graded["paths"]["bundle"],
                    workers=1, timeout=TIMEOUT, memory_mb=2048, quiet=True,
                    roster=graded["roster"], export_manual=manual, manual_questions=["q4"])
    assert summary["graded"] == 0
    page = (manual / "q4.html").read_text(encoding="utf-8")
    assert page.count("<h2 ") == N and f'<h2 id="{JOSE}">' in page
    assert "validation accuracy 0.87" in page and f"data:image/png;base64,{PNG}" in page
    assert "def fit_logistic_regression" in (manual / "q4.md").read_text(encoding="utf-8")
    with open(manual / "scores.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == N and {r["question"] for r in rows} == {"q4"}
    for row in rows:
        if row["student"] == "s10":
            row.update(score="2", comment="the curve is overfitted")
    with open(manual / "scores.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["student", "question", "score", "comment"])
        writer.writeheader()
        writer.writerows(rows)
    grade(ASSIGNMENT, graded["subs"], graded["out"], bundle=graded["paths"]["bundle"],
          workers=1, timeout=TIMEOUT, memory_mb=2048, quiet=True, roster=graded["roster"],
          manual=manual / "scores.csv")
    assert _grades(graded)["s10"]["q4"] == 2.0  # blank scores were skipped
    assert _grades(graded)["s12"]["q4"] == graded["expected"]["s12"]["q4"]
    assert "graded by hand: 2 points — the curve is overfitted" in (
        graded["out"] / "s10" / "feedback.md").read_text()


def test_feedback_returned_per_student(graded, tmp_path):
    from coursekit.cli import main

    assert main(["feedback", "--out", str(graded["out"]), "--to", str(tmp_path / "up")]) == 0
    folders = sorted(p.name for p in (tmp_path / "up").iterdir())
    assert len(folders) == N and JOSE in folders
    assert (tmp_path / "up" / JOSE / "feedback.md").is_file()
