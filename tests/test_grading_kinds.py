"""secret_rng, raises(...), call(..., warnings="error") and the public share limit.

Each kind is checked in the student's ``check`` (in process) and in the sandboxed
grader (child returns plain values, verdict in the parent), on a small throw-away
assignment.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from grading_support import make_assignment, read_grades, write_notebook

from coursekit.cli import main
from coursekit.grading import Question, call, raises, secret_rng, value
from coursekit.grading import secret as secrets
from coursekit.grading.assign import assign_one
from coursekit.grading.check import run_public
from coursekit.grading.grade import grade
from coursekit.grading.values import decode

NAME = "kinds"
TESTS_PY = '''
import numpy as np

from coursekit.grading import Question, call, raises, secret_rng

public_rng = np.random.default_rng(0)          # public inputs: fixed
hidden = secret_rng("q1")                      # hidden inputs: from the secret
Z_HIDDEN = np.concatenate([[-800.0, 800.0], hidden.normal(size=5) * 1000])

QUESTIONS = [
    Question("q1", points=2, title="A stable sigmoid",
             public=[call("sigmoid", np.array([-1000.0, 0.0, 1000.0]), warnings="error")],
             hidden=[call("sigmoid", Z_HIDDEN, warnings="error", note="(huge |z|)"),
                     call("sigmoid", public_rng.normal(size=3))]),
    Question("q2", points=2, title="Validate the input",
             public=[raises("safe_log", -1.0)],
             hidden=[raises("safe_log", np.array([1.0, -2.0]), exception=ValueError),
                     call("safe_log", secret_rng("q2").uniform(1, 2, size=4))]),
]
'''
SIGMOID = '''def sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1 + e)
    return out
'''
SAFE_LOG = '''def safe_log(x):
    x = np.asarray(x, dtype=float)
    if np.any(x <= 0):
        raise ValueError("x must be positive")
    return np.log(x)
'''
NAIVE_SIGMOID = "def sigmoid(z):\n    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))\n"
UNCHECKED_LOG = "def safe_log(x):\n    return np.log(np.asarray(x, dtype=float))\n"
WRONG_TYPE_LOG = ("def safe_log(x):\n    x = np.asarray(x, dtype=float)\n"
                  "    if np.any(x <= 0):\n        raise TypeError(f'bad input {x}')\n"
                  "    return np.log(x)\n")
SUBCLASS_LOG = ("class NegativeInput(ValueError):\n    pass\n\n\n"
                "def safe_log(x):\n    x = np.asarray(x, dtype=float)\n"
                "    if np.any(x <= 0):\n        raise NegativeInput('x must be > 0')\n"
                "    return np.log(x)\n")


@pytest.fixture
def no_env_secret(monkeypatch):
    monkeypatch.delenv(secrets.SECRET_ENV, raising=False)


def _assign(root, secret, solutions=None):
    folder = solutions or make_assignment(root / "solutions", NAME, TESTS_PY, [SIGMOID, SAFE_LOG])
    summary = assign_one(folder, root / "exercises", root / "bundles", root / "public",
                         secret=secret)
    bundle = json.loads((root / "bundles" / NAME / "bundle.json").read_text())
    return folder, summary, bundle


def _test(bundle, qid, key):
    question = next(q for q in bundle["questions"] if q["id"] == qid)
    return next(t for t in question["tests"] if t["key"] == key)


def _namespace(*sources):
    namespace = {"np": np}
    for source in sources:
        exec(source, namespace)
    return namespace


# ---------------------------------------------------------------- secret_rng
def test_secret_rng_is_reproducible_and_depends_on_secret_assignment_and_names():
    def draw(secret, assignment, *names):
        with secrets.using(secret, assignment):
            return secret_rng(*names).normal(size=4)

    first = draw("s1", "01_x", "q3")
    np.testing.assert_array_equal(first, draw("s1", "01_x", "q3"))
    for other in (draw("s2", "01_x", "q3"), draw("s1", "02_y", "q3"), draw("s1", "01_x", "q4"),
                  draw("s1", "01_x", "q3", 0), draw("s1", "01_x", "q", "3")):
        assert not np.allclose(first, other)
    with pytest.raises(TypeError, match="strings or integers"):
        secret_rng(1.5)


def test_secret_comes_from_file_then_environment_then_public_default(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("  my-long-secret\n")
    assert secrets.resolve_secret(path, environ={"COURSEKIT_SECRET": "env"}) == (
        "my-long-secret", "file")
    assert secrets.resolve_secret(None, environ={"COURSEKIT_SECRET": "env"}) == (
        "env", "environment")
    assert secrets.resolve_secret(None, environ={}) == (secrets.PUBLIC_DEFAULT, "public default")
    path.write_text("\n")
    with pytest.raises(ValueError, match="is empty"):
        secrets.resolve_secret(path)
    with pytest.raises(ValueError, match="no such file"):
        secrets.resolve_secret(tmp_path / "missing.txt")
    assert secrets.secret_id("a") != secrets.secret_id("b") and "a" not in secrets.secret_id("a")


def test_two_secrets_give_different_hidden_inputs_and_the_same_public_files(tmp_path):
    runs = {}
    for label, secret in (("a", "secret-A"), ("a2", "secret-A"), ("b", "secret-B")):
        root = tmp_path / label
        _, summary, bundle = _assign(root, secret)
        runs[label] = (root, summary, bundle)
    hidden = {label: decode(_test(b, "q1", "hidden/0")["args"])[0] for label, (_, _, b) in
              runs.items()}
    np.testing.assert_array_equal(hidden["a"], hidden["a2"])
    assert not np.allclose(hidden["a"][2:], hidden["b"][2:])
    expected = {label: decode(_test(b, "q2", "hidden/1")["expected"]) for label, (_, _, b) in
                runs.items()}
    np.testing.assert_array_equal(expected["a"], expected["a2"])
    assert not np.allclose(expected["a"], expected["b"])
    for name in (f"public/{NAME}.json", f"exercises/{NAME}_exercises.ipynb"):
        texts = {(root / name).read_text() for root, _, _ in runs.values()}
        assert len(texts) == 1, f"{name} must not depend on the secret"
    assert runs["a"][1]["secret_id"] == runs["a2"][1]["secret_id"] != runs["b"][1]["secret_id"]
    assert "secret-A" not in json.dumps(runs["a"][2])  # the bundle holds a fingerprint only


def test_assign_refuses_public_tests_drawn_from_the_secret(tmp_path):
    tests_py = TESTS_PY.replace('public=[raises("safe_log", -1.0)]',
                                'public=[raises("safe_log", -secret_rng("p").uniform(1, 2))]')
    folder = make_assignment(tmp_path / "solutions", NAME, tests_py, [SIGMOID, SAFE_LOG])
    with pytest.raises(ValueError, match=r"public tests of q2 change with the instructor secret"):
        _assign(tmp_path, "s", folder)


def test_cli_assign_says_when_it_uses_the_public_default(tmp_path, capsys, no_env_secret):
    folder = make_assignment(tmp_path / "solutions", NAME, TESTS_PY, [SIGMOID, SAFE_LOG])
    args = ["assign", str(folder), "--out", str(tmp_path / "ex"), "--bundle",
            str(tmp_path / "b"), "--public", str(tmp_path / "public")]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "notice: no instructor secret given" in err and "self-study" in err
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("instructor-secret\n")
    assert main(args + ["--secret-file", str(secret_file)]) == 0
    captured = capsys.readouterr()
    assert "notice" not in captured.err and "secret from the file" in captured.err
    assert "public tests 5.0% of the points" in captured.out
    assert (tmp_path / "public" / f"{NAME}.json").is_file()


# ------------------------------------------------------------ public share
def test_public_share_limit_and_heading(tmp_path):
    _, summary, bundle = _assign(tmp_path, "s")
    assert summary["public_share"] == pytest.approx(0.05)
    public = sum(t["points"] for q in bundle["questions"] for t in q["tests"]
                 if t["visibility"] == "public")
    assert public == pytest.approx(0.05 * 4)
    heading = json.loads((tmp_path / "exercises" / f"{NAME}_exercises.ipynb").read_text())["cells"][0]
    assert "carry 5 % of the 4 points (0.2 points)" in "".join(heading["source"])

    too_public = TESTS_PY.replace('title="A stable sigmoid",', 'title="A stable sigmoid", '
                                  'public_share=0.3,')
    folder = make_assignment(tmp_path / "other", NAME, too_public, [SIGMOID, SAFE_LOG])
    with pytest.raises(ValueError, match=r"public tests carry 17.5% of the points \(at most "
                                         r"10% allowed.*q1 0.6/2, q2 0.1/2"):
        _assign(tmp_path / "o", "s", folder)


def test_question_points_follow_public_share():
    question = Question("q1", points=4, public=[call("f", 1), call("f", 2, weight=3)],
                        hidden=[call("f", 3), call("f", 4)], public_share=0.1)
    points = [question.test_points(t) for _, _, t in question.tests()]
    assert points == pytest.approx([0.1, 0.3, 1.8, 1.8])
    only_hidden = Question("q2", points=2, hidden=[call("f", 1), value("x", weight=3)])
    assert [only_hidden.test_points(t) for t in only_hidden.hidden] == pytest.approx([0.5, 1.5])
    with pytest.raises(ValueError, match="public_share must be a fraction"):
        Question("q3", points=1, public=[call("f", 1)], public_share=0)


def test_spec_validates_raises_and_warnings():
    assert raises("f", 1).expected == ["ValueError"]
    test = raises("f", 1, exception=(TypeError, np.linalg.LinAlgError))
    assert test.expected == ["TypeError", "numpy.linalg.LinAlgError"]
    assert test.label() == "f(...) raises TypeError or LinAlgError"
    with pytest.raises(ValueError, match="exception must be an exception class"):
        raises("f", 1, exception="ValueError")
    with pytest.raises(ValueError, match='warnings must be None .* or "error"'):
        call("f", 1, warnings="always")


# ------------------------------------------------------- check (in process)
def test_check_fails_a_warning_and_names_it(tmp_path):
    _assign(tmp_path, "s")
    public = tmp_path / "public"
    good = run_public(NAME, _namespace(SIGMOID), "q1", public)
    assert good.passed
    naive = run_public(NAME, _namespace(NAIVE_SIGMOID), "q1", public).scores["q1"][0]
    assert naive.status == "failed" and naive.points == 0
    assert naive.message.startswith("raised RuntimeWarning: overflow encountered in exp")
    # a global np.seterr(all="ignore") in another cell does not hide the warning
    previous = np.seterr(all="ignore")
    try:
        again = run_public(NAME, _namespace(NAIVE_SIGMOID), "q1", public).scores["q1"][0]
    finally:
        np.seterr(**previous)
    assert again.status == "failed" and "RuntimeWarning" in again.message
    warns = "import warnings\ndef sigmoid(z):\n    warnings.warn('careful')\n    return " \
            "1 / (1 + np.exp(-np.clip(z, -500, 500)))\n"
    score = run_public(NAME, _namespace(warns), "q1", public).scores["q1"][0]
    assert score.message.startswith("raised UserWarning: careful")


def test_check_raises_kind(tmp_path):
    _assign(tmp_path, "s")
    public = tmp_path / "public"

    def q2(source):
        return run_public(NAME, _namespace(source), "q2", public).scores["q2"][0]

    assert q2(SAFE_LOG).status == "passed"
    assert q2(SUBCLASS_LOG).status == "passed"  # a subclass of ValueError is a ValueError
    returned = q2(UNCHECKED_LOG)
    assert returned.status == "failed"
    assert returned.message.startswith("expected the call to raise ValueError, but it "
                                       "returned normally")
    wrong = q2(WRONG_TYPE_LOG)
    assert wrong.message == "expected ValueError, but it raised TypeError: bad input -1.0"
    unanswered = q2("def safe_log(x):\n    raise NotImplementedError('replace this')\n")
    assert "not answered yet" in unanswered.message


# --------------------------------------------------- grader (sandboxed child)
def test_grader_scores_raises_and_warnings_in_the_parent(tmp_path):
    folder, _, bundle = _assign(tmp_path, "grading-secret")
    release = json.loads((tmp_path / "exercises" / f"{NAME}_exercises.ipynb").read_text())
    answers = [c for c in release["cells"] if c["metadata"]["coursekit"]["kind"] == "answer"]
    submissions = tmp_path / "submissions"

    def submit(name, sigmoid, safe_log):
        notebook = json.loads(json.dumps(release))
        for cell in notebook["cells"]:
            if cell["id"] == answers[0]["id"]:
                cell["source"] = sigmoid
            elif cell["id"] == answers[1]["id"]:
                cell["source"] = safe_log
        write_notebook(submissions / f"{name}.ipynb", notebook)

    submit("reference", SIGMOID, SAFE_LOG)
    submit("naive", NAIVE_SIGMOID, UNCHECKED_LOG)
    submit("wrongtype", "np.seterr(all='ignore')\n" + NAIVE_SIGMOID, WRONG_TYPE_LOG)
    shutil.copy(tmp_path / "exercises" / f"{NAME}_exercises.ipynb", submissions / "unsolved.ipynb")
    out = tmp_path / "out"
    grade(NAME, submissions, out, bundle=tmp_path / "bundles" / NAME, workers=2, timeout=60,
          quiet=True)
    grades = read_grades(out)
    assert grades["reference"] == pytest.approx({"q1": 2.0, "q2": 2.0})
    assert grades["unsolved"] == {"q1": 0.0, "q2": 0.0}

    def tests_of(name):
        record = json.loads((out / name / "results.json").read_text())["extra_data"]
        return {(q["id"], t["key"]): t for q in record["questions"] for t in q["tests"]}

    naive = tests_of("naive")
    # the naive sigmoid gives the right numbers (within tolerance) but warns
    assert naive[("q1", "public/0")]["message"].startswith(
        "raised RuntimeWarning: overflow encountered in exp")
    assert naive[("q1", "hidden/0")]["message"] == (
        "raised RuntimeWarning (a warning counts as a failure in this test)")
    assert naive[("q1", "hidden/1")]["status"] == "passed"  # no warnings="error" there
    assert naive[("q2", "public/0")]["message"].startswith(
        "expected the call to raise ValueError, but it returned normally")
    assert naive[("q2", "hidden/0")]["message"] == (
        "expected the call to raise ValueError, but it returned normally")
    assert naive[("q2", "hidden/1")]["status"] == "passed"
    wrong = tests_of("wrongtype")
    assert wrong[("q1", "hidden/0")]["status"] == "failed"  # seterr(all='ignore') does not hide
    assert wrong[("q2", "public/0")]["message"] == (
        "expected ValueError, but it raised TypeError: bad input -1.0")
    assert wrong[("q2", "hidden/0")]["message"] == (
        "expected ValueError, but it raised TypeError (messages of hidden tests are not shown)")
    expected_q2 = 2 * 0.95 / 2  # the hidden call of q2 passes; both raises tests fail
    assert grades["naive"]["q2"] == pytest.approx(expected_q2)
    assert grades["naive"]["q1"] == pytest.approx(2 * 0.95 / 2)
    feedback = (out / "naive" / "feedback.md").read_text()
    assert "800" not in feedback  # hidden inputs never in the feedback


def test_perturb_images_shifts_and_noises_reproducibly():
    from coursekit.grading.heldout import perturb_images

    X = np.zeros((50, 16))
    X[:, 5] = 1.0  # one lit pixel at (1, 1) of a 4x4 image
    a = perturb_images(X, np.random.default_rng(1), image_shape=(4, 4), noise=0.0)
    b = perturb_images(X, np.random.default_rng(1), image_shape=(4, 4), noise=0.0)
    np.testing.assert_array_equal(a, b)
    assert a.shape == X.shape and (a.sum(axis=1) == 1).all()  # shifted, never lost
    lit = {int(np.flatnonzero(row)[0]) for row in a}
    assert lit == {0, 1, 2, 4, 5, 6, 8, 9, 10}  # every shift of at most one pixel
    noisy = perturb_images(X, np.random.default_rng(1), image_shape=(4, 4), noise=0.1)
    assert noisy.min() >= 0 and noisy.max() <= 1 and 0 < np.std(noisy - a) < 0.2
    with pytest.raises(ValueError, match="image_shape"):
        perturb_images(X, np.random.default_rng(0), image_shape=(3, 3))
    with pytest.raises(TypeError, match="np.random.Generator"):
        perturb_images(X, 0, image_shape=(4, 4))
