"""coursekit assign: committed exercises are fresh; reference = full marks, unsolved = 0."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from grading_support import POINTS, REPO, SOLUTIONS, make_bundle, read_grades

from coursekit.grading.assign import (
    assign,
    assign_one,
    find_assignments,
    public_share,
    solution_notebook,
)
from coursekit.grading.check import PUBLIC_DIR
from coursekit.grading.grade import grade
from coursekit.grading.spec import load_questions
from coursekit.grading.values import decode, encode

#: the instructor secret of these tests (not the public default: the committed files must
#: be what any secret gives, and the reference must earn full marks with any secret)
TEST_SECRET = "test-secret-of-the-grading-suite"


def _same_public(committed, fresh, where="") -> None:
    """Public test files must match; floats within 1e-9 (BLAS may differ in the last bit)."""
    if isinstance(fresh, dict) and "__ndarray__" in fresh:
        a, b = decode(committed), decode(fresh)
        assert a.shape == b.shape and a.dtype == b.dtype, where
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=where)
    elif isinstance(fresh, dict):
        assert isinstance(committed, dict) and set(committed) == set(fresh), where
        for key in fresh:
            _same_public(committed[key], fresh[key], f"{where}.{key}")
    elif isinstance(fresh, list):
        assert isinstance(committed, list) and len(committed) == len(fresh), where
        for i, (c, f) in enumerate(zip(committed, fresh)):
            _same_public(c, f, f"{where}[{i}]")
    elif isinstance(fresh, float):
        assert committed == pytest.approx(fresh, rel=1e-9, abs=1e-12), where
    else:
        assert committed == fresh, where


@pytest.fixture(scope="module")
def assigned(tmp_path_factory):
    """Every chapter of solutions/ assigned once into a temporary folder (without the
    independence check, which costs one run per question: the test below does it)."""
    root = tmp_path_factory.mktemp("assigned")
    summaries = assign(SOLUTIONS, root / "exercises", root / "bundles", root / "public",
                       secret=TEST_SECRET, check_independence=False)
    return root, sorted(s["assignment"] for s in summaries)


def _inputs(test) -> str:
    return json.dumps(encode([test.args, test.kwargs]), sort_keys=True)


@pytest.mark.parametrize("assignment", [p.name for p in find_assignments(SOLUTIONS)])
def test_hidden_inputs_and_heldout_data_follow_the_secret(assignment):
    """Same secret, same hidden inputs; another secret, other hidden inputs and held-out
    data; public tests never change; public tests carry at most 10 % of the points."""
    tests_file = SOLUTIONS / assignment / "tests.py"
    first, again, other = (load_questions(tests_file, secret=secret, assignment=assignment)
                           for secret in ("secret-A", "secret-A", "secret-B"))
    changed = total = 0
    for q1, q2, q3 in zip(first, again, other):
        assert [_inputs(t) for t in q1.public] == [_inputs(t) for t in q3.public], q1.id
        for t1, t2, t3 in zip(q1.hidden, q2.hidden, q3.hidden):
            assert _inputs(t1) == _inputs(t2), (q1.id, t1.label())
            total += 1
            changed += _inputs(t1) != _inputs(t3)
            if t1.kind == "accuracy":  # held-out data: other images under another secret
                assert not np.array_equal(t1.args[0], t3.args[0]), (q1.id, t1.label())
    # fixed hidden edge cases (z = +-1000, stride 0) are allowed (solutions/README.md); the
    # rest, and every held-out set (checked above), must come from the secret
    assert changed > 0, f"none of the {total} hidden tests depends on the secret"
    assert public_share(first) <= 0.10


def test_assign_with_another_secret_changes_the_bundle_only(tmp_path, assigned):
    """A second assign of chapter 01 with another secret: same exercises/ and public tests,
    other hidden inputs and held-out moons in the bundle; the reference still passes."""
    root, _ = assigned
    name = "01_linear_models"
    summary = assign_one(SOLUTIONS / name, tmp_path / "exercises", tmp_path / "bundles",
                         tmp_path / "public", secret="another-secret")
    assert summary["public_share"] == pytest.approx(0.05)
    for path in (f"exercises/{name}_exercises.ipynb", f"public/{name}.json"):
        assert (tmp_path / path).read_text() == (root / path).read_text(), path
    ours = json.loads((root / "bundles" / name / "bundle.json").read_text())
    theirs = json.loads((tmp_path / "bundles" / name / "bundle.json").read_text())
    assert ours["secret_id"] != theirs["secret_id"]
    assert TEST_SECRET not in json.dumps(ours)
    held_out = [[t for t in q["tests"] if t["kind"] == "accuracy" and t["visibility"] == "hidden"]
                for q in (ours["questions"][3], theirs["questions"][3])]
    assert not np.array_equal(decode(held_out[0][0]["args"])[0],
                              decode(held_out[1][0]["args"])[0])


def test_committed_exercises_equal_a_fresh_assign(assigned):
    """exercises/ and the public tests must be exactly what `coursekit assign` writes."""
    tmp_path, names = assigned
    assert names == sorted(p.name for p in find_assignments(SOLUTIONS))
    committed = sorted(p.name for p in (REPO / "exercises").glob("*.ipynb"))
    assert committed == sorted(f"{n}_exercises.ipynb" for n in names), (
        "exercises/ must hold exactly one notebook per solutions/ folder: run `make assign`")
    for name in names:
        fresh = (tmp_path / "exercises" / f"{name}_exercises.ipynb").read_text()
        assert (REPO / "exercises" / f"{name}_exercises.ipynb").read_text() == fresh, (
            f"exercises/{name}_exercises.ipynb differs from a fresh `coursekit assign`: run `make assign`"
            " and commit the result (never edit exercises/ by hand)")
        public = PUBLIC_DIR / f"{name}.json"
        assert public.is_file(), f"{public} missing: run `make assign`"
        _same_public(json.loads(public.read_text()),
                     json.loads((tmp_path / "public" / f"{name}.json").read_text()), name)


def test_release_notebook_has_no_solutions_and_stable_ids(tmp_path):
    paths = make_bundle(tmp_path)
    release = json.loads(paths["release"].read_text())
    text = json.dumps(release)
    assert "BEGIN SOLUTION" not in text and "np.linalg.solve(X.T @ X, X.T @ y)" not in text
    ids = [c["id"] for c in release["cells"]]
    assert len(set(ids)) == len(ids)
    assert [i for i in ids if i.startswith("answer-")] == [f"answer-{k}" for k in range(1, 6)]
    for cell in release["cells"]:
        meta = cell["metadata"]["coursekit"]
        assert cell.get("outputs", []) == []
        if meta["kind"] == "readonly":
            assert cell["metadata"]["editable"] is False and len(meta["checksum"]) == 16
    bundle = json.loads((paths["bundle"] / "bundle.json").read_text())
    assert sum(q["points"] for q in bundle["questions"]) == sum(POINTS.values())
    # the bundle needs no reference code: no solution source inside it
    assert "np.linalg.solve(X.T @ X, X.T @ y)" not in json.dumps(bundle)
    assert (paths["bundle"].stat().st_mode & 0o777) == 0o700


def test_public_tests_hold_no_hidden_tests(tmp_path):
    paths = make_bundle(tmp_path)
    public = json.loads((paths["public"] / "01_linear_models.json").read_text())
    bundle = json.loads((paths["bundle"] / "bundle.json").read_text())
    for pub, full in zip(public["questions"], bundle["questions"]):
        hidden = [t for t in full["tests"] if t["visibility"] == "hidden"]
        assert pub["hidden_tests"] == len(hidden) > 0
        assert all(t["visibility"] == "public" for t in pub["tests"])
        public_args = json.dumps([t["args"] for t in pub["tests"]])
        for test in hidden:
            assert json.dumps(test["args"])[:200] not in public_args


@pytest.mark.parametrize("assignment", [p.name for p in find_assignments(SOLUTIONS)])
def test_reference_gets_full_marks_and_unsolved_gets_zero(tmp_path, assigned, assignment):
    """For every chapter: the reference earns every point, the release none, no grader error."""
    root, _ = assigned
    paths = {"bundle": root / "bundles" / assignment,
             "release": root / "exercises" / f"{assignment}_exercises.ipynb"}
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(solution_notebook(SOLUTIONS / assignment), submissions / "reference.ipynb")
    shutil.copy(paths["release"], submissions / "unsolved.ipynb")
    out = tmp_path / "out"
    # 120 s: the 03a q7 training takes ~7 s of CPU but far more wall time on a loaded machine
    grade(assignment, submissions, out, bundle=paths["bundle"], workers=2, timeout=120,
          quiet=True)
    grades = read_grades(out)
    bundle = json.loads((paths["bundle"] / "bundle.json").read_text())
    full = {q["id"]: q["points"] for q in bundle["questions"]}
    if assignment == "01_linear_models":
        assert full == POINTS
    assert grades["reference"] == pytest.approx(full)
    assert grades["unsolved"] == {q: 0.0 for q in full}
    for name in ("reference", "unsolved"):
        record = json.loads((out / name / "results.json").read_text())["extra_data"]
        assert record["error"] is None  # graded normally, no grader error
        assert not [n for n in record["notes"] if "crashed" in n or "hung" in n], name
    record = json.loads((out / "unsolved" / "results.json").read_text())["extra_data"]
    messages = [t["message"] for q in record["questions"] for t in q["tests"]]
    assert all("NotImplementedError" in m or "not defined" in m for m in messages), messages


def _copy_assignment(tmp_path):
    folder = tmp_path / "solutions" / "01_linear_models"
    shutil.copytree(SOLUTIONS / "01_linear_models", folder)
    return folder


def test_assign_refuses_tests_the_reference_fails(tmp_path):
    folder = _copy_assignment(tmp_path)
    tests = folder / "tests.py"
    tests.write_text(tests.read_text().replace(
        'value("best_lambda")', 'value("best_lambda", expected=123.0)'))
    with pytest.raises(ValueError, match=r"q5 hidden/2 best_lambda: the reference solution "
                                         r"does not pass: expected 123, got 0.01"):
        assign_one(folder, tmp_path / "ex", tmp_path / "b", tmp_path / "p")


def test_assign_names_missing_setup_cell_and_markers(tmp_path):
    folder = _copy_assignment(tmp_path)
    notebook_path = folder / "01_linear_models.ipynb"
    notebook = json.loads(notebook_path.read_text())
    original = json.dumps(notebook)
    for cell in notebook["cells"]:
        cell["source"] = "".join(cell["source"]).replace('checker("01_linear_models")',
                                                         'checker("other")')
    notebook_path.write_text(json.dumps(notebook))
    with pytest.raises(ValueError, match=r'(?s)must start with a setup cell.*check = checker\('
                                         r'"01_linear_models"\)'):
        assign_one(folder, tmp_path / "ex", tmp_path / "b", tmp_path / "p")
    notebook = json.loads(original)
    for cell in notebook["cells"]:
        cell["source"] = "".join(cell["source"]).replace("### END SOLUTION", "", 1)
    notebook_path.write_text(json.dumps(notebook))
    with pytest.raises(ValueError, match="BEGIN SOLUTION inside another solution block|"
                                         "without ### END SOLUTION"):
        assign_one(folder, tmp_path / "ex", tmp_path / "b", tmp_path / "p")


def test_find_assignments_rejects_a_folder_without_tests(tmp_path):
    with pytest.raises(ValueError, match="no assignment in"):
        find_assignments(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        find_assignments(tmp_path / "missing")


# ------------------------------------------------------ questions are independent
DEPENDENT = '''
from coursekit.grading import Question, call, secret_rng

rng = secret_rng("hidden")
QUESTIONS = [
    Question("q1", points=1, hidden=[call("double", rng.normal(size=3))]),
    Question("q2", points=1, hidden=[call("quadruple", rng.normal(size=3))]{inject}),
]
'''
DEPENDENT_ANSWERS = ["def double(x):\n    return 2 * np.asarray(x)",
                     "def quadruple(x):\n    return double(double(x))"]


def test_assign_refuses_a_question_that_calls_another_questions_answer(tmp_path):
    from grading_support import make_assignment

    folder = make_assignment(tmp_path / "solutions", "ex_dep", DEPENDENT.format(inject=""),
                             DEPENDENT_ANSWERS)
    with pytest.raises(ValueError, match=r"(?s)questions depend on each other.*q2 loses points "
                                         r"when the other questions are unanswered.*inject"):
        assign_one(folder, tmp_path / "ex", tmp_path / "b", tmp_path / "p", secret="s")


def test_inject_gives_the_reference_definitions_to_a_reusing_question(tmp_path):
    """With Question(inject=["double"]), assign accepts the set, and a student whose q1 is
    wrong loses q1 only: q2's tests run with the reference's `double`."""
    from grading_support import make_assignment, write_notebook

    folder = make_assignment(tmp_path / "solutions", "ex_dep",
                             DEPENDENT.format(inject=', inject=["double"]'), DEPENDENT_ANSWERS)
    summary = assign_one(folder, tmp_path / "ex", tmp_path / "b", tmp_path / "p", secret="s")
    bundle = json.loads((tmp_path / "b" / "ex_dep" / "bundle.json").read_text())
    assert bundle["questions"][1]["inject"] == {"double": DEPENDENT_ANSWERS[0] + "\n"}
    public = (tmp_path / "p" / "ex_dep.json").read_text()
    assert "return 2 * np.asarray(x)" not in public  # students never see the reference
    release = json.loads(Path(summary["notebook"]).read_text())
    assert [c["metadata"]["coursekit"].get("questions") for c in release["cells"]
            if c["metadata"]["coursekit"]["kind"] == "answer"] == [["q1"], ["q2"]]
    submissions = tmp_path / "subs"
    for name, double in (("wrong_q1", "3 * np.asarray(x)"), ("blank_q1", None)):
        notebook = json.loads(Path(summary["notebook"]).read_text())
        answers = [c for c in notebook["cells"] if c["metadata"]["coursekit"]["kind"] == "answer"]
        if double is not None:
            answers[0]["source"] = f"def double(x):\n    return {double}"
        answers[1]["source"] = DEPENDENT_ANSWERS[1]
        write_notebook(submissions / f"{name}.ipynb", notebook)
    out = tmp_path / "out"
    grade("ex_dep", submissions, out, bundle=tmp_path / "b" / "ex_dep", workers=2, timeout=60,
          quiet=True)
    assert read_grades(out) == {"wrong_q1": {"q1": 0.0, "q2": 1.0},
                                "blank_q1": {"q1": 0.0, "q2": 1.0}}
    feedback = (out / "blank_q1" / "feedback.md").read_text()
    assert "not answered yet: the answer cell of q1 still raises NotImplementedError" in feedback


@pytest.mark.parametrize("assignment", [
    pytest.param(p.name, marks=[] if p.name == "02_mlp_backprop" else [pytest.mark.slow])
    for p in find_assignments(SOLUTIONS)])
def test_each_question_unanswered_in_turn_costs_only_itself(assigned, assignment):
    """Leave each question unanswered in turn (its answer cells are the release's stubs):
    every other question keeps all its points (one run of the reference per question)."""
    from coursekit.grading.assign import independence_problems
    from coursekit.grading.notebook import plain_notebook

    root, _ = assigned
    bundle = json.loads((root / "bundles" / assignment / "bundle.json").read_text())
    import nbformat

    reference = plain_notebook(nbformat.read(solution_notebook(SOLUTIONS / assignment),
                                             as_version=4))
    assert independence_problems(reference, bundle["release"], bundle["questions"],
                                 keep_only=False) == []


# ------------------------------------------------------------- bundle validation
def test_bundles_and_public_files_are_validated_on_load(tmp_path):
    from coursekit.grading.bundle import FORMAT, BundleError, load_public
    from coursekit.grading.check import PUBLIC_DIR as committed

    for path in sorted(committed.glob("*.json")):  # every committed public file is valid
        assert load_public(path)["format"] == FORMAT, path
    paths = make_bundle(tmp_path)
    from coursekit.grading.assign import load_bundle

    bundle_file = paths["bundle"] / "bundle.json"
    good = json.loads(bundle_file.read_text())
    assert load_bundle(paths["bundle"])["format"] == FORMAT

    def broken(change, match):
        data = json.loads(json.dumps(good))
        change(data)
        bundle_file.write_text(json.dumps(data))
        with pytest.raises(BundleError, match=match):
            load_bundle(paths["bundle"])

    broken(lambda d: d["questions"][2]["tests"][0].update(rtol="tight"),
           r"bundle.json: questions\[2\].tests\[0\].rtol must be a number >= 0, got 'tight'")
    broken(lambda d: d["questions"][0]["tests"][1].pop("kind"),
           r"questions\[0\].tests\[1\].kind is missing")
    broken(lambda d: d["questions"][3]["tests"][0].update(kind="guess"),
           r"questions\[3\].tests\[0\].kind must be a string \(one of call, value")
    broken(lambda d: d.update(format=99), r"has format 99; this coursekit reads format")
    broken(lambda d: d["release"]["cells"][0]["metadata"].pop("coursekit"),
           r"release.cells\[0\].metadata.coursekit must give the cell's id and kind")
    bundle_file.write_text("{oops")
    with pytest.raises(BundleError, match=r"bundle.json is not valid JSON"):
        load_bundle(paths["bundle"])
    public = json.loads((paths["public"] / "01_linear_models.json").read_text())
    public["questions"][0]["tests"][0]["visibility"] = "hidden"
    (tmp_path / "bad.json").write_text(json.dumps(public))
    with pytest.raises(BundleError, match=r"bad.json: questions\[0\].tests\[0\].visibility "
                                          r"must be public"):
        load_public(tmp_path / "bad.json")


def test_no_grading_class_looks_like_a_pytest_test():
    """pytest collects classes named Test*: the grading records are named otherwise."""
    import inspect

    from coursekit.grading import assign as assign_module
    from coursekit.grading import bundle, scoring, spec

    for module in (spec, scoring, bundle, assign_module):
        for name, obj in vars(module).items():
            assert not (inspect.isclass(obj) and name.startswith("Test")), (module, name)
            assert not (inspect.isfunction(obj) and name.startswith("test")), (module, name)
