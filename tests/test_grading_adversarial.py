"""The grader cannot be fooled: one submission per attack, all graded in one batch.

Every attack submission is the honest reference answer set with one answer cell
replaced by an attack (tests/adversarial/*.py) or its structure mangled. Each must
earn nothing on the attacked question, full marks on every other question, and
the grader must finish. Attack-specific checks follow (files untouched, no process
left, no network connection, feedback flags).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest
from grading_support import (
    ANSWER_OF,
    POINTS,
    REPO,
    SOLUTIONS,
    TEST_SECRET,
    attack_header,
    honest_answers,
    make_bundle,
    read_grades,
    student_notebook,
    write_notebook,
)

from coursekit.grading import sandbox
from coursekit.grading.grade import grade
from coursekit.grading.values import decode

ATTACKS = sorted((REPO / "tests" / "adversarial").glob("*.py"))
TIMEOUT = 8.0  # per notebook run and per question; the hanging attacks cost this much
pytestmark = pytest.mark.skipif(not os.uname().sysname == "Linux", reason="Linux only")
CAPS = sandbox.capabilities()
# attacks stopped only by a protection this machine may lack (the grader warns then)
REQUIRES = {"read_secrets": "landlock", "write_grades": "landlock", "network": "namespaces"}


def _require(name: str) -> None:
    needed = REQUIRES.get(name)
    if needed and not CAPS.get(needed):
        pytest.skip(f"{name} is stopped by {needed}, which this machine does not offer")


def _sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


class Listener:
    """A TCP server on loopback that records whatever connects to it."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.received: list[bytes] = []
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.received.append(connection.recv(1000) or b"(connected)")
            connection.close()

    def close(self):
        self.stop = True
        self.thread.join()
        self.server.close()


def _structural_submissions(release, answers) -> dict[str, tuple[object, set]]:
    """name -> (notebook or text, questions expected to score 0)."""
    honest = student_notebook(release, answers)
    result = {}

    shuffled = json.loads(json.dumps(honest))  # answers moved, markdown deleted, dupes
    cells = [c for c in shuffled["cells"] if c["cell_type"] == "code"]
    random.Random(0).shuffle(cells)
    cells.append(json.loads(json.dumps(cells[0])))  # a duplicated cell
    shuffled["cells"] = cells
    result["reordered_deleted_duplicated"] = (shuffled, set())

    retyped = json.loads(json.dumps(honest))  # ids retyped, metadata lost
    for number, cell in enumerate(retyped["cells"]):
        cell["id"] = f"x{number:04d}"
        cell["metadata"] = {}
    result["lost_ids_and_metadata"] = (retyped, set())

    edited = json.loads(json.dumps(honest))  # read-only cells edited: data and setup
    for cell in edited["cells"]:
        if "X_train, y_train = make_classification_2d" in "".join(cell["source"]):
            cell["source"] = "X_train = y_train = None\n" + "".join(cell["source"]) + \
                "\nX_train, y_train = X_train[:5], y_train[:5]"
        if "checker(" in "".join(cell["source"]):
            cell["source"] = "import numpy as np\nLAMBDAS = [1.0]\n"
    result["edited_readonly"] = (edited, set())

    deleted = json.loads(json.dumps(honest))  # the q3 answer cell is gone
    deleted["cells"] = [c for c in deleted["cells"] if c.get("id") != ANSWER_OF["q3"]]
    result["deleted_answer"] = (deleted, {"q3"})

    added = json.loads(json.dumps(honest))  # helpers in new cells, as check() runs them
    position = next(i for i, c in enumerate(added["cells"]) if c.get("id") == ANSWER_OF["q1"])
    added["cells"].insert(position, {"cell_type": "code", "id": "mine", "metadata": {},
                                     "outputs": [], "execution_count": None,
                                     "source": "SCALE = 1.0\n"})
    added["cells"][position + 1]["source"] = "".join(
        added["cells"][position + 1]["source"]).replace("return np.linalg.solve(",
                                                        "return SCALE * np.linalg.solve(")
    assert "SCALE *" in added["cells"][position + 1]["source"]
    result["added_cells"] = (added, set())

    result["invalid_json"] = ('{"cells": [ {"cell_type": "code", "source": "x = 1"', set(POINTS))
    result["not_a_notebook"] = (json.dumps([1, 2, 3]), set(POINTS))
    result["nbformat3"] = (json.dumps({"worksheets": [], "nbformat": 3}), set(POINTS))
    return result


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    paths = make_bundle(root)
    answers = honest_answers()
    submissions, out = root / "submissions", root / "out"
    out.mkdir()
    listener = Listener()
    expected_zero: dict[str, set] = {}
    for attack in ATTACKS:
        source = attack.read_text()
        cell_id, question = attack_header(source)
        source = (source.replace("{OUT}", str(out)).replace("{BUNDLE}", str(paths["bundle"]))
                  .replace("{SOLUTIONS}", str(SOLUTIONS / "01_linear_models"))
                  .replace("{PORT}", str(listener.port)))
        notebook = student_notebook(paths["release"], {**answers, cell_id: source})
        write_notebook(submissions / f"{attack.stem}.ipynb", notebook)
        expected_zero[attack.stem] = {question}
    for name, (notebook, zero) in _structural_submissions(paths["release"], answers).items():
        write_notebook(submissions / name / "submission.ipynb", notebook)
        expected_zero[name] = zero
    write_notebook(submissions / "honest.ipynb", student_notebook(paths["release"], answers))
    expected_zero["honest"] = set()
    bundle_sha = _sha(paths["bundle"] / "bundle.json")
    solution_sha = _sha(SOLUTIONS / "01_linear_models" / "01_linear_models.ipynb")
    # the instructor grades with the secret in the environment: it must not reach the child
    previous = os.environ.get("COURSEKIT_SECRET")
    os.environ["COURSEKIT_SECRET"] = TEST_SECRET
    workers: set[int] = set()  # pids of our grader processes: their sandbox uids are ours
    popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        process = popen(*args, **kwargs)
        workers.add(process.pid)
        return process

    subprocess.Popen = recording_popen
    try:
        summary = grade("01_linear_models", submissions, out, bundle=paths["bundle"],
                        workers=2, timeout=TIMEOUT, memory_mb=1536, quiet=True)
    finally:
        subprocess.Popen = popen
        if previous is None:
            del os.environ["COURSEKIT_SECRET"]
        else:
            os.environ["COURSEKIT_SECRET"] = previous
    listener.close()
    return {"out": out, "summary": summary, "expected_zero": expected_zero,
            "grades": read_grades(out), "listener": listener, "bundle": paths["bundle"],
            "bundle_sha": bundle_sha, "solution_sha": solution_sha, "workers": workers}


def test_every_submission_graded(graded):
    assert set(graded["grades"]) == set(graded["expected_zero"])
    for name in graded["expected_zero"]:
        results = json.loads((graded["out"] / name / "results.json").read_text())
        assert results["extra_data"]["submission"] == name
        assert (graded["out"] / name / "feedback.md").is_file()


@pytest.mark.parametrize("name", [p.stem for p in ATTACKS] + [
    "reordered_deleted_duplicated", "lost_ids_and_metadata", "edited_readonly",
    "deleted_answer", "invalid_json", "not_a_notebook", "nbformat3", "honest",
    "added_cells"])
def test_attack_scores(graded, name):
    _require(name)
    points = graded["grades"][name]
    zero = graded["expected_zero"][name]
    for question, full in POINTS.items():
        want = 0.0 if question in zero else full
        assert points[question] == pytest.approx(want), (
            f"{name}: {question} earned {points[question]}, expected {want}\n"
            + (graded["out"] / name / "feedback.md").read_text()[:3000])


def test_files_outside_the_sandbox_untouched(graded):
    _require("write_grades")
    assert _sha(graded["bundle"] / "bundle.json") == graded["bundle_sha"]
    assert _sha(SOLUTIONS / "01_linear_models" / "01_linear_models.ipynb") == \
        graded["solution_sha"]
    assert not (graded["out"] / "fake.csv").exists()
    assert read_grades(graded["out"])["write_grades"]["q4"] != 100
    results = json.loads((graded["out"] / "write_grades" / "results.json").read_text())
    assert results["score"] == pytest.approx(15 - POINTS["q4"])


def test_no_network_connection_reached_the_host(graded):
    _require("network")
    assert graded["listener"].received == []


@pytest.mark.skipif(os.geteuid() != 0, reason="sandbox uids exist only when grading as root")
def test_no_sandbox_process_survives(graded):
    survivors = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = open(f"/proc/{entry}/status").read()
            except OSError:
                continue
            uid = int(status.split("Uid:")[1].split()[0])
            if uid - sandbox.SANDBOX_UID_BASE in graded["workers"] and not _another_pythons(entry):
                survivors.append((entry, uid))
    assert graded["workers"] and survivors == []


def _another_pythons(pid: str) -> bool:
    """A process started by another Python (another checkout grading at the same time on
    this machine), not by this test's graders."""
    try:
        command = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[0].decode()
    except (OSError, UnicodeDecodeError):
        return False
    ours = os.path.dirname(os.path.abspath(sys.executable))
    return command.endswith("python") and os.path.dirname(command) != ours and "/" in command


def test_feedback_flags_and_hides_hidden_tests(graded):
    out = graded["out"]
    flagged = {
        "os_exit": "os._exit", "ctypes": None, "ipython_hooks": "get_ipython",
        "monkeypatch": "builtins", "ignore_sigint": "signal", "fork_bomb": "processes",
        "network": "network", "read_secrets": "outside its working directory",
    }
    for name, needle in flagged.items():
        if needle is None or not (out / name).exists():
            continue
        feedback = (out / name / "feedback.md").read_text()
        assert "Flagged for manual review" in feedback and needle in feedback, name
    honest = (out / "honest" / "feedback.md").read_text()
    assert "Flagged for manual review" not in honest
    assert "15 / 15" in honest
    # hidden tests are named with a message, but never show inputs or expected values
    feedback = (out / "monkeypatch" / "feedback.md").read_text()
    q1 = feedback.split("## q1")[1].split("## q2")[0]
    public_line, *hidden_lines = [line for line in q1.splitlines() if "test" in line]
    assert "expected" in public_line  # public tests say what was expected
    bundle = json.loads((graded["bundle"] / "bundle.json").read_text())
    for test in bundle["questions"][0]["tests"][1:]:
        line = next(line for line in hidden_lines if test["label"] in line)
        assert "values are not within" in line and "of the expected ones" in line
        for number in decode(test["expected"]).ravel():
            assert f"{number:.6g}" not in feedback and f"{number:.3g}" not in line


def test_hidden_inputs_never_reach_the_feedback(graded):
    out = graded["out"]
    for name in ("leak_inputs", "steal_inputs"):
        feedback = (out / name / "feedback.md").read_text()
        results = (out / name / "results.json").read_text()
        hidden_lines = [line for line in feedback.splitlines() if "hidden test" in line]
        assert hidden_lines and not any("LEAK" in line for line in hidden_lines), name
        assert "LEAK" not in feedback.split("## Errors")[-1] or name == "leak_inputs"
        assert "__ndarray__" not in feedback and "__ndarray__" not in results.replace(
            '"__ndarray__"', "")  # no encoded array text anywhere
    leak = (out / "leak_inputs" / "feedback.md").read_text()
    assert "raised ValueError (messages of hidden tests are not shown" in leak
    steal = (out / "steal_inputs" / "feedback.md").read_text()
    assert "the answer cell of q2, `import os` crashed the grading process" in steal or \
        "the answer cell of q2, `import os` did not finish" in steal


def test_crashes_and_hangs_are_reported(graded):
    out = graded["out"]
    loop = (out / "infinite_loop" / "feedback.md").read_text()
    assert "the answer cell of q4, `while True:` did not finish within 8 s; it was skipped" \
        in loop
    exit_feedback = (out / "os_exit" / "feedback.md").read_text()
    assert "crashed the grading process" in exit_feedback
    assert "the answer cell of q2" in exit_feedback.split("## Notes")[1]
    sigint = (out / "ignore_sigint" / "feedback.md").read_text()
    assert "did not return within 8 s" in sigint
    flood = (out / "huge_output" / "feedback.md").read_text()
    assert "the answer cell of q4" not in flood and "the answer cell of q5" not in flood
    crash = (out / "crash_in_function" / "feedback.md").read_text()
    assert "the process testing q5 ended (killed by signal 11) before returning" in crash
    invalid = (out / "invalid_json" / "feedback.md").read_text()
    assert "not valid JSON" in invalid
    edited = (out / "edited_readonly" / "feedback.md").read_text()
    assert "was edited; the original was used" in edited
    deleted = (out / "deleted_answer" / "feedback.md").read_text()
    assert "the answer cell of q3, `def multiclass_hinge_loss` was not found in the " \
        "submission" in deleted
    for name in _records(out):  # cells are named as the student sees them
        text = (out / name / "feedback.md").read_text()
        assert "answer-" not in text and "cell-" not in text and "code cell" not in text, name


def _records(out):
    return {p.parent.name: json.loads(p.read_text())["extra_data"]
            for p in out.glob("*/results.json")}


def test_a_memory_hog_costs_only_its_own_question(graded):
    """A first answer cell that fills memory into a global: the notebook runs again without
    it, every other question keeps its points, no read-only cell is blamed."""
    out = graded["out"]
    for name in ("memory_hoard_global", "memory_bomb"):
        feedback = (out / name / "feedback.md").read_text()
        notes = feedback.split("## Notes")[1]
        # memory_bomb touches its pages: on a loaded machine it may hit the time limit first
        assert "used up the memory the grader allows; it was skipped" in notes or (
            name == "memory_bomb" and "did not finish" in notes), name
        assert "read-only" not in notes and "MemoryError" not in feedback.split("## Errors")[0]
    record = _records(out)["memory_hoard_global"]
    assert record["runs"] == 2


def test_a_hanging_function_costs_only_its_tests_and_is_named(graded):
    out = graded["out"]
    feedback = (out / "hang_in_function" / "feedback.md").read_text()
    q3 = feedback.split("## q3")[1].split("## q4")[0]
    tests = [line for line in q3.splitlines() if line.startswith("- ")]
    assert tests and all("did not return within 8 s" in line for line in tests)
    assert "`multiclass_hinge_loss`" in q3 and "`softmax_cross_entropy`" in q3
    assert _records(out)["hang_in_function"]["runs"] == 1  # no rerun of the notebook


def test_regrading_is_idempotent(graded, tmp_path):
    before = (graded["out"] / "grades.csv").read_text()
    summary = grade("01_linear_models", graded["out"].parent / "submissions", graded["out"],
                    bundle=graded["bundle"], workers=2, timeout=TIMEOUT, memory_mb=1536,
                    quiet=True)
    assert summary["graded"] == 0 and summary["skipped"] == summary["submissions"]
    assert (graded["out"] / "grades.csv").read_text() == before


def test_rebuild_heldout_attack_works_only_with_the_secret(graded, monkeypatch):
    """The held-out attack is real: given the instructor secret it scores 100 % on the
    bundle's held-out moons; in the grader (clean environment) it got nothing (above)."""
    bundle = json.loads((graded["bundle"] / "bundle.json").read_text())
    test = next(t for t in bundle["questions"][3]["tests"]
                if t["kind"] == "accuracy" and t["visibility"] == "hidden")
    X, y = decode(test["args"])[0], decode(test["expected"])
    source = (REPO / "tests" / "adversarial" / "rebuild_heldout.py").read_text()
    accuracies = {}
    for secret in (TEST_SECRET, None):
        if secret is None:
            monkeypatch.delenv("COURSEKIT_SECRET", raising=False)
        else:
            monkeypatch.setenv("COURSEKIT_SECRET", secret)
        namespace = {}
        exec(source, namespace)
        accuracies[secret] = float(np.mean(namespace["model"].predict(X) == y))
    assert accuracies[TEST_SECRET] == 1.0
    assert accuracies[None] < 0.6


def test_landlock_rights_are_the_kernel_bits():
    """The named FSAccess flags give the bit masks of the Landlock ABI (1 << 0 execute,
    1 << 1 write_file, 1 << 2 read_file, 1 << 3 read_dir, ..., 13 refer, 14 truncate,
    15 ioctl_dev)."""
    pytest.importorskip("landlock")
    from coursekit.grading.sandbox import _file_rights, _landlock_rights

    for abi in range(1, 7):
        handled = (1 << 13) - 1 | (1 << 13 if abi >= 2 else 0) | (1 << 14 if abi >= 3 else 0) \
            | (1 << 15 if abi >= 5 else 0)
        assert _landlock_rights(abi) == (handled, 0b1101)
        assert _file_rights(abi) == 0b111 | (1 << 14 if abi >= 3 else 0)
