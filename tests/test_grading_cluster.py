"""Grading on a real Dask cluster (``coursekit grade --cluster``), started here on 127.0.0.1.

A scheduler and two workers run as separate processes (``dask scheduler``, ``dask worker
--no-nanny --nthreads 1``). The tests grade a varied set of submissions (honest ones, a
crashing and a hanging one) on the cluster and locally and compare every score; refuse a
worker whose coursekit version differs (a worker started with a ``--preload`` module that
changes ``coursekit.__version__`` in that worker); SIGKILL the worker that runs a slow
submission and check every submission is recorded exactly once with the right score (and,
with no retries left, that the slow one becomes a grader fault, regraded by the next run).
Everything started is stopped in the fixtures' finalizers, even on failure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from grading_support import (
    honest_answers,
    honest_submissions,
    make_bundle,
    read_grades,
    student_notebook,
    write_notebook,
)

distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")

from coursekit.grading import cluster as cluster_mod  # noqa: E402
from coursekit.grading.grade import RUN_FORMAT, grade  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")
BIN = Path(sys.executable).parent
DASK = [str(BIN / "dask")] if (BIN / "dask").exists() else [sys.executable, "-m", "dask"]
TIMEOUT = 6.0  # per notebook run and per question: the hanging submission costs this
START_TIMEOUT = 90.0


class Cluster:
    """A scheduler and its workers, each a process of its own; ``stop()`` ends them all."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs = []
        self.scheduler_file = folder / "scheduler.json"
        self._start("scheduler", DASK + ["scheduler", "--host", "127.0.0.1", "--port", "0",
                                          "--no-dashboard", "--scheduler-file",
                                          str(self.scheduler_file)])
        deadline = time.monotonic() + START_TIMEOUT
        while not self.scheduler_file.exists():
            if time.monotonic() > deadline or self.processes["scheduler"].poll() is not None:
                raise RuntimeError("the scheduler did not start: " + self.log("scheduler"))
            time.sleep(0.1)
        self.address = json.loads(self.scheduler_file.read_text())["address"]

    def _start(self, name: str, command: list[str]) -> None:
        log = open(self.folder / f"{name}.log", "wb")
        self.logs.append(log)
        self.processes[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, cwd=self.folder)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]

    def add_worker(self, name: str, preload: Path | None = None) -> None:
        command = DASK + ["worker", self.address, "--no-nanny", "--nthreads", "1", "--host",
                          "127.0.0.1", "--no-dashboard", "--name", name]
        if preload is not None:
            command += ["--preload", str(preload)]
        self._start(name, command)

    def client(self):
        return distributed.Client(self.address, timeout=START_TIMEOUT, set_as_default=False)

    def wait_for(self, names: set[str]) -> dict[str, str]:
        """Wait until the workers ``names`` are connected; ``{name: address}``."""
        with self.client() as client:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                workers = client.scheduler_info(n_workers=-1)["workers"]
                found = {w["name"]: address for address, w in workers.items()}
                if names <= set(found):
                    return {name: found[name] for name in names}
                for name in names:
                    if self.processes[name].poll() is not None:
                        raise RuntimeError(f"worker {name} exited: " + self.log(name))
                if time.monotonic() > deadline:
                    raise RuntimeError(f"workers {names - set(found)} did not connect")
                time.sleep(0.2)

    def stop_one(self, name: str) -> None:
        process = self.processes.get(name)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)

    def stop(self) -> None:
        workers = [p for n, p in self.processes.items() if n != "scheduler" and p.poll() is None]
        for process in workers:  # all at once: each takes a few seconds to close
            process.terminate()
        for process in workers:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        self.stop_one("scheduler")
        for log in self.logs:
            log.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        running.add_worker("w1")
        running.add_worker("w2")
        running.workers = running.wait_for({"w1", "w2"})
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_bundle(tmp_path_factory.mktemp("bundle"))


def _varied(release: Path, folder: Path, count: int) -> dict:
    """``count`` honest submissions, one that crashes the grading child, one that hangs."""
    expected = honest_submissions(release, folder, count)
    answers = honest_answers()
    crash = ("import ctypes\n\ndef fit_least_squares(X, y):\n"
             "    return ctypes.string_at(0)  # SIGSEGV\n")
    write_notebook(folder / "crashing.ipynb",
                   student_notebook(release, {**answers, "answer-1": crash}))
    write_notebook(folder / "hanging" / "mine.ipynb",
                   student_notebook(release, {**answers, "answer-4": "while True:\n    pass\n"}))
    return expected


def _rows(out: Path) -> dict:
    """``{(submission, question): points}`` from grades.csv (one row per student)."""
    return {(name, q): points for name, questions in read_grades(out).items()
            for q, points in questions.items()}


def _records(out: Path) -> dict:
    records = {}
    for path in sorted(out.glob("*/results.json")):
        record = json.loads(path.read_text())["extra_data"]
        records[record["submission"]] = [(q["id"], [(t["key"], t["status"], t["points"])
                                                    for t in q["tests"]])
                                         for q in record["questions"]]
    return records


def test_importing_the_grader_loads_no_dask():
    code = ("import sys, coursekit.grading.grade, coursekit.cli, coursekit.grading; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120).stdout.strip()
    assert out == "[]", out


def test_worker_handshake_refuses_differences():
    local = cluster_mod.environment()
    assert set(local) == {"coursekit", "run format", "grader code", "numpy", "torch"}
    assert local["run format"] == RUN_FORMAT
    old = {**local, "torch": "2.12.0"}
    accepted, refused = cluster_mod.accept_workers(
        {"tcp://a:1": local, "tcp://b:2": old, "tcp://c:3": OSError("gone")}, local,
        {"tcp://b:2": "gpu-node-7"})
    assert accepted == ["tcp://a:1"]
    assert refused[0] == (f"worker tcp://b:2 (gpu-node-7) refused: torch 2.12.0 (the "
                          f"coordinator has {local['torch']})")
    assert "tcp://c:3 refused: it could not report its versions (OSError: gone)" in refused[1]
    with pytest.raises(cluster_mod.ClusterError, match="no worker of the cluster can grade.*"
                                                       "torch 2.12.0"):
        cluster_mod.accept_workers({"tcp://b:2": old}, local)
    with pytest.raises(cluster_mod.ClusterError, match="the scheduler has no workers"):
        cluster_mod.accept_workers({}, local)


def test_bad_addresses_and_security_files(tmp_path):
    with pytest.raises(cluster_mod.ClusterError, match="tcp://HOST:8786"):
        cluster_mod.ClusterGrader("127.0.0.1:8786")
    with pytest.raises(cluster_mod.ClusterError, match="--cluster-security"):
        cluster_mod.ClusterGrader("tls://127.0.0.1:8786")
    with pytest.raises(cluster_mod.ClusterError, match="whole number"):
        cluster_mod.ClusterGrader("tcp://127.0.0.1:8786", retries=-1)
    bad = tmp_path / "security.yaml"
    bad.write_text("tls_ca_file: ca.pem\ntls_colour: blue\n")
    with pytest.raises(cluster_mod.ClusterError, match="security.yaml.*tls_colour"):
        cluster_mod.load_security(bad)
    bad.write_text("- just a list\n")
    with pytest.raises(cluster_mod.ClusterError, match="expected a mapping"):
        cluster_mod.load_security(bad)
    good = tmp_path / "security.json"
    good.write_text(json.dumps({"require_encryption": True, "tls_min_version": None}))
    assert cluster_mod.load_security(good).require_encryption is True
    closed = cluster_mod.ClusterGrader("tcp://127.0.0.1:9", connect_timeout=2)
    with pytest.raises(cluster_mod.ClusterError, match="cannot reach the Dask scheduler"):
        closed._connect()


def test_cluster_grades_as_local_and_resumes(cluster, bundle, tmp_path, capsys):
    """Every score on the cluster equals local grading; a second run regrades only what is
    missing (the same up-to-date check as local grading)."""
    subs = tmp_path / "subs"
    expected = _varied(bundle["release"], subs, 3)
    local = grade("01_linear_models", subs, tmp_path / "local", bundle=bundle["bundle"],
                  workers=2, timeout=TIMEOUT, memory_mb=1536, quiet=True)
    out = tmp_path / "cluster"
    summary = grade("01_linear_models", subs, out, bundle=bundle["bundle"], timeout=TIMEOUT,
                    memory_mb=1536, cluster=cluster.address)
    assert summary["graded"] == local["graded"] == 5
    assert _rows(out) == _rows(tmp_path / "local")
    assert _records(out) == _records(tmp_path / "local")
    for name, points in expected.items():
        assert sum(points.values()) == pytest.approx(
            json.loads((out / name / "results.json").read_text())["score"])
    crashed = json.loads((out / "crashing" / "results.json").read_text())["extra_data"]
    hung = json.loads((out / "hanging" / "results.json").read_text())["extra_data"]
    assert crashed["questions"][0]["points"] == 0 and hung["questions"][3]["points"] == 0
    assert crashed["score"] > 0 and hung["score"] > 0  # the other questions keep their points
    # both workers graded; one progress line per submission; throughput per worker
    assert set(summary["workers"]) == set(cluster.workers.values())
    assert sum(w["submissions"] for w in summary["workers"].values()) == 5
    err = capsys.readouterr().err
    for name in [*expected, "crashing", "hanging"]:
        assert err.count(f"  {name}: ") == 1, err
    assert "/min" in err and "warning: weaker sandbox on this machine" not in err
    from coursekit.grading import sandbox

    missing = sandbox.missing_protections(sandbox.capabilities())
    assert err.count("warning: weaker sandbox on worker") == (2 if missing else 0)
    # a resumed run grades only what the gradebook does not hold yet (two new submissions)
    import shutil

    shutil.copy(subs / "student001.ipynb", subs / "resumed_a.ipynb")
    shutil.copytree(subs / "hanging", subs / "resumed_b")
    again = grade("01_linear_models", subs, out, bundle=bundle["bundle"], timeout=TIMEOUT,
                  memory_mb=1536, cluster=cluster.address, quiet=True)
    assert (again["graded"], again["skipped"]) == (2, 5)
    rows = _rows(out)
    assert {k: v for k, v in rows.items() if not k[0].startswith("resumed")} == \
        _rows(tmp_path / "local")
    for copy, source in (("resumed_a", "student001"), ("resumed_b", "hanging")):
        assert {q: v for (n, q), v in rows.items() if n == copy} == \
            {q: v for (n, q), v in rows.items() if n == source}


def test_a_worker_with_another_version_is_refused(cluster, bundle, tmp_path, capsys):
    preload = tmp_path / "old_coursekit.py"
    preload.write_text("import coursekit\n\ncoursekit.__version__ = '0.0.9'  # an old install\n")
    cluster.add_worker("old", preload=preload)
    try:
        old = cluster.wait_for({"old"})["old"]
        subs = tmp_path / "subs"
        expected = honest_submissions(bundle["release"], subs, 2)
        summary = grade("01_linear_models", subs, tmp_path / "out", bundle=bundle["bundle"],
                        timeout=TIMEOUT, memory_mb=1536, cluster=cluster.address)
        err = capsys.readouterr().err
        import coursekit

        assert (f"worker {old} (old) refused: coursekit 0.0.9 (the coordinator has "
                f"{coursekit.__version__})") in err
        assert old not in summary["workers"]
        assert sum(w["submissions"] for w in summary["workers"].values()) == 2
        for name, points in expected.items():
            assert json.loads((tmp_path / "out" / name / "results.json").read_text())[
                "score"] == pytest.approx(sum(points.values()))
    finally:
        cluster.stop_one("old")


def _kill_when_running(cluster, name: str, found: dict) -> threading.Thread:
    """A thread that SIGKILLs the worker process running ``name``'s task."""
    pids = {address: cluster.processes[worker].pid for worker, address in
            cluster.workers.items()}

    def watch():
        with cluster.client() as client:
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and "killed" not in found:
                for address, keys in client.processing().items():
                    if any(f"-{name}-" in str(key) for key in keys) and address in pids:
                        time.sleep(1.0)  # let it run a while: killed mid-submission
                        os.kill(pids[address], signal.SIGKILL)
                        found["killed"] = address
                        return
                time.sleep(0.1)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _slow(release: Path, folder: Path) -> None:
    answers = honest_answers()
    source = "import time\ntime.sleep(4)\n" + answers["answer-1"]
    write_notebook(folder / "slow.ipynb", student_notebook(release, {**answers,
                                                                    "answer-1": source}))


def test_a_killed_worker_costs_nothing(cluster, bundle, tmp_path, capsys):
    """SIGKILL the worker running a slow submission: it is graded again on the other worker,
    and every submission is recorded exactly once with its right score. Then, with no
    retries allowed, the same loss is a grader fault, which the next run regrades."""
    subs = tmp_path / "subs"
    expected = honest_submissions(bundle["release"], subs, 2)
    _slow(bundle["release"], subs)
    expected["slow"] = {"q": 15.0}
    found: dict = {}
    watcher = _kill_when_running(cluster, "slow", found)
    out = tmp_path / "out"
    summary = grade("01_linear_models", subs, out, bundle=bundle["bundle"], timeout=20,
                    memory_mb=1536, cluster=cluster.address)
    watcher.join(timeout=5)
    assert "killed" in found, "the slow submission was never seen running"
    err = capsys.readouterr().err
    assert f"worker {found['killed']} left while grading slow (retrying elsewhere)" in err
    for name, points in expected.items():
        assert err.count(f"  {name}: ") == 1, err
        assert json.loads((out / name / "results.json").read_text())["score"] == \
            pytest.approx(sum(points.values()))
    assert summary["graded"] == 3 and len(_rows(out)) == 3 * 5
    survivor = (set(cluster.workers.values()) - {found["killed"]}).pop()
    assert summary["workers"][survivor]["submissions"] >= 1
    # a fresh worker beside the survivor; now a lost worker costs the submission its grade
    cluster.add_worker("w3")
    cluster.workers = {name: address for name, address in cluster.workers.items()
                       if address != found["killed"]}
    cluster.workers.update(cluster.wait_for({"w3"}))
    found.clear()
    watcher = _kill_when_running(cluster, "slow", found)
    grade("01_linear_models", subs, out, bundle=bundle["bundle"], timeout=20, memory_mb=1536,
          cluster=cluster.address, cluster_retries=0, quiet=True, force=True)
    watcher.join(timeout=5)
    assert "killed" in found
    record = json.loads((out / "slow" / "results.json").read_text())["extra_data"]
    assert record["score"] == 0
    assert record["error"] == (f"grader error: its worker died while grading it "
                               f"({found['killed']}); given up after 0 retries "
                               "(--cluster-retries)")
    for name in expected:
        if name != "slow":
            assert json.loads((out / name / "results.json").read_text())["score"] == \
                pytest.approx(sum(expected[name].values()))
    # the fault is not "up to date": the next run grades it (and only it) again
    again = grade("01_linear_models", subs, out, bundle=bundle["bundle"], timeout=20,
                  memory_mb=1536, cluster=cluster.address, quiet=True)
    assert (again["graded"], again["skipped"]) == (1, 2)
    assert json.loads((out / "slow" / "results.json").read_text())["score"] == 15.0


def test_the_cli_passes_the_cluster_options_on(monkeypatch, tmp_path, capsys):
    from coursekit import cli
    from coursekit.grading import grade as grade_mod

    seen = {}

    def fake_grade(**kwargs):
        seen.update(kwargs)
        return {"graded": 0, "skipped": 0, "rescored": 0, "seconds": 0.0, "rejected": [],
                "grades_csv": "grades.csv", "report_md": "report.md"}

    monkeypatch.setattr(grade_mod, "grade", fake_grade)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s").mkdir()
    security = tmp_path / "security.yaml"
    assert cli.main(["grade", "--assignment", "01_linear_models", "--submissions", "s", "--out", "o",
                     "--cluster", "tls://10.0.0.5:8786", "--cluster-security", str(security),
                     "--cluster-retries", "0"]) == 0
    assert (seen["cluster"], seen["cluster_security"], seen["cluster_retries"]) == (
        "tls://10.0.0.5:8786", security, 0)
    cli.main(["grade", "--assignment", "01_linear_models", "--submissions", "s", "--out", "o"])
    assert (seen["cluster"], seen["cluster_security"], seen["cluster_retries"]) == (None, None, 2)
    help_text = cli.build_parser()._subparsers._group_actions[0].choices["grade"].format_help()
    assert "--cluster-security FILE" in help_text and "pickled" in help_text


def test_an_interrupted_coordinator_resumes(cluster, bundle, tmp_path):
    """Ctrl-C (SIGINT) the coordinator after its first record: the next run grades only the
    rest, and the scheduler is left with no task of the interrupted run."""
    subs = tmp_path / "subs"
    expected = honest_submissions(bundle["release"], subs, 3)
    out = tmp_path / "out"
    code = ("import sys; from pathlib import Path; from coursekit.grading.grade import grade; "
            f"grade('01_linear_models', Path({str(subs)!r}), Path({str(out)!r}), "
            f"bundle=Path({str(bundle['bundle'])!r}), timeout=20, memory_mb=1536, "
            f"cluster={cluster.address!r}, quiet=True)")
    coordinator = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not list(out.glob("*/results.json")) and coordinator.poll() is None:
            assert time.monotonic() < deadline, "nothing was graded"
            time.sleep(0.1)
        coordinator.send_signal(signal.SIGINT)
        coordinator.wait(timeout=60)
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
            coordinator.wait(timeout=15)
    recorded = {p.parent.name for p in out.glob("*/results.json")}
    assert 1 <= len(recorded) <= 3
    with cluster.client() as client:  # the interrupted client's tasks were released
        deadline = time.monotonic() + 30
        while any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(client.processing().values())
    again = grade("01_linear_models", subs, out, bundle=bundle["bundle"], timeout=20,
                  memory_mb=1536, cluster=cluster.address, quiet=True)
    assert (again["graded"], again["skipped"]) == (3 - len(recorded), len(recorded))
    for name, points in expected.items():
        assert json.loads((out / name / "results.json").read_text())["score"] == \
            pytest.approx(sum(points.values()))
