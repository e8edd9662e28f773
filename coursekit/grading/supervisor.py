"""Running the grading child under supervision (parent side of the sandbox).

``run_child(...)`` starts ``coursekit.grading.runner`` in its own session with a
clean environment, reads its JSON lines with deadlines, sends the tests' inputs
only once every cell has run, and on timeout or exit kills the whole process
tree: the session, then every process of the sandbox uid (a helper that becomes
that uid runs ``kill(-1)``), then any orphan the grader inherited as a child
subreaper (``set_subreaper``), e.g. a grandchild that called ``setsid``.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.grading.sandbox import processes_of_uid

PR_SET_CHILD_SUBREAPER = 36
TEST_GRACE = 5.0  # seconds a test may run past the runner's own per-test limit
MAX_OUTPUT_BYTES = 256 * 2**20


def set_subreaper() -> bool:
    """Make this process inherit orphaned descendants (so escaped ones can be killed)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (psutil)."""
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children()]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def _reap(pids) -> None:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def kill_uid(uid: int, rounds: int = 50) -> None:
    """SIGKILL every process of ``uid`` (a helper that becomes ``uid`` runs kill(-1))."""
    for _ in range(rounds):
        pids = processes_of_uid(uid)
        if not pids:
            return
        helper = os.fork()
        if helper == 0:
            try:
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                os.kill(-1, signal.SIGKILL)  # every process this uid may signal
            finally:
                os._exit(0)
        os.waitpid(helper, 0)
        time.sleep(0.01)
        _reap(pids)


def kill_tree(process: subprocess.Popen, uid: int | None, known: set[int]) -> None:
    """Kill the child's session, its uid's processes and orphans we inherited."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if uid is not None:
        kill_uid(uid)
    for _ in range(20):  # orphans re-parented to us (subreaper), e.g. after setsid
        orphans = [pid for pid in _children_of(os.getpid()) if pid not in known]
        if not orphans:
            break
        for pid in orphans:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)
        _reap(orphans)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


@dataclass
class ChildRun:
    """What one run of the runner produced, as seen by the parent."""

    messages: list = field(default_factory=list)
    returncode: int | None = None
    timed_out: str | None = None  # "notebook" / "question q1" / None
    too_much_output: bool = False
    log_tail: str = ""
    plan_sent_at: int | None = None  # index of the first message after the plan was sent


def clean_environment(workdir: Path) -> dict:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(workdir),
            "TMPDIR": str(workdir), "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(workdir), "IPYTHONDIR": str(Path(workdir) / ".ipython"),
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "COURSEKIT_GRADING": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def _send_plan(process: subprocess.Popen, plan: bytes) -> None:
    """Write the tests' inputs to the child's stdin (in a thread: the pipe may fill up)."""

    def write():
        try:
            process.stdin.write(plan)
            process.stdin.close()
        except (OSError, ValueError):
            pass

    threading.Thread(target=write, daemon=True).start()


def run_child(job_file: Path, workdir: Path, timeout: float, n_questions: int,
              uid: int | None, plan: bytes) -> ChildRun:
    """Run the runner on ``job_file`` and collect its messages, enforcing deadlines.

    ``plan`` (the tests' inputs, JSON) is written to the child's stdin only once it
    reports that every cell ran. The notebook phase has ``timeout`` seconds from the
    start; each question ``timeout`` seconds from its "question" message and each test
    ``timeout + TEST_GRACE`` seconds from its "test" message (the runner kills a test's
    fork after ``timeout``: this is the backstop); the whole run at most
    ``timeout * (1 + n_questions) + 10``, where ``n_questions`` counts the tests too.
    """
    read_fd, write_fd = os.pipe()
    log_path = Path(job_file).parent / "runner.log"
    known_children = set(_children_of(os.getpid()))
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-I", "-m", "coursekit.grading.runner", str(job_file), str(write_fd)],
            stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, cwd=str(workdir),
            env=clean_environment(workdir), pass_fds=(write_fd,), start_new_session=True)
    os.close(write_fd)
    run = ChildRun()
    reader = _LineReader(run)
    start = time.monotonic()
    hard_deadline = start + timeout * (1 + n_questions) + 10
    phase, phase_deadline = "notebook", start + timeout
    os.set_blocking(read_fd, False)
    try:
        while True:
            now = time.monotonic()
            if process.poll() is not None:
                break
            deadline = min(phase_deadline, hard_deadline)
            if now >= deadline:
                run.timed_out = phase
                break
            if reader.eof:
                try:
                    process.wait(timeout=min(0.2, deadline - now))
                except subprocess.TimeoutExpired:
                    pass
                continue
            ready, _, _ = select.select([read_fd], [], [], min(0.2, deadline - now))
            if ready and reader.feed(_read_available(read_fd)):
                if reader.cells_done and run.plan_sent_at is None:
                    run.plan_sent_at = len(run.messages)
                    _send_plan(process, plan)
                question = reader.current_question
                if question is not None and phase != f"question {question}":
                    phase = f"question {question}"
                    phase_deadline = time.monotonic() + timeout
                if reader.test_started:  # each test has its own deadline
                    reader.test_started = False
                    phase_deadline = time.monotonic() + timeout + TEST_GRACE
            if run.too_much_output:
                break
        # drain what is left, briefly: an escaped grandchild may hold the pipe open
        drain_until = time.monotonic() + 0.3
        while not reader.eof and not run.too_much_output and time.monotonic() < drain_until:
            ready, _, _ = select.select([read_fd], [], [], 0.05)
            if ready:
                reader.feed(_read_available(read_fd))
    finally:
        kill_tree(process, uid, known_children)
        os.close(read_fd)
        try:
            process.stdin.close()
        except (OSError, ValueError):
            pass
    run.returncode = process.returncode
    try:
        with open(log_path, "rb") as log:
            log.seek(max(0, log_path.stat().st_size - 2000))
            run.log_tail = log.read().decode("utf-8", "replace")
    except OSError:
        pass
    return run


def _read_available(fd: int) -> bytes | None:
    try:
        return os.read(fd, 1 << 20)
    except BlockingIOError:
        return None


class _LineReader:
    """Split the child's byte stream into JSON messages without quadratic copying."""

    def __init__(self, run: ChildRun):
        self.run, self.pending, self.received = run, [], 0
        self.eof, self.current_question, self.cells_done = False, None, False
        self.test_started = False

    def feed(self, chunk: bytes | None) -> bool:
        """Consume a chunk; True if new messages arrived."""
        if chunk is None:
            return False
        if chunk == b"":
            self.eof = True
            return False
        self.received += len(chunk)
        if self.received > MAX_OUTPUT_BYTES:
            self.run.too_much_output = True
            return False
        if b"\n" not in chunk:
            self.pending.append(chunk)
            return False
        *lines, rest = b"".join(self.pending + [chunk]).split(b"\n")
        self.pending = [rest] if rest else []
        for line in lines:
            try:
                message = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if type(message) is dict and type(message.get("e")) is str:
                self.run.messages.append(message)
                if message["e"] == "question" and type(message.get("q")) is str:
                    self.current_question = message["q"]
                elif message["e"] == "test":
                    self.test_started = True
                elif message["e"] in ("cell", "cell_done"):
                    self.current_question = None
                elif message["e"] == "cells_done":
                    self.cells_done = True
                    break  # what follows must be read after the plan is sent
        return True
