"""Sandboxing the grading child (Linux), and running it with a deadline.

Child side, ``apply_in_child(config)``, run by ``coursekit.grading.runner`` before
any notebook code:

1. as root: a new network namespace (no network, not even loopback) and a new
   mount namespace with a size-limited tmpfs over the working directory;
2. resource limits: CPU seconds, address space, file size, open files,
   processes (threads count too), no core files;
3. Landlock (where the kernel has it): read only the interpreter, the installed
   packages and coursekit's own folder (never the repository with solutions/),
   the system's shared libraries and CPU information, the job folder; write only
   the working directory;
4. as root: drop to an unprivileged uid/gid, so the process limit applies and
   root-owned files (grades, bundle) are out of reach even without Landlock.

Each step that is impossible here (not root, old kernel) is skipped; the grader
prints one warning per missing protection (``capabilities()``).

Parent side: ``run_child(...)`` starts the runner in its own session with a clean
environment, reads its JSON lines with deadlines, and on timeout or exit kills the
whole process tree: the session, then every process of the sandbox uid, then any
orphan the grader inherited as a child subreaper.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_REC, MS_PRIVATE = 0x4000, 0x40000
PR_SET_CHILD_SUBREAPER = 36
PR_SET_KEEPCAPS = 8
CAP_DAC_READ_SEARCH = 2
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(__import__("platform").machine())
SANDBOX_UID_BASE = 1_500_000_000  # + grader pid: unique per concurrent grader process
MAX_OUTPUT_BYTES = 256 * 2**20


@dataclass
class Limits:
    """Resource limits of one grading child."""

    timeout: float = 60.0  # wall seconds for the notebook, and again for each question
    memory_mb: int = 3072  # address space; `import torch` alone needs about 1 GB
    file_mb: int = 64  # largest file the child may write (and tmpfs size, x4)
    open_files: int = 256
    processes: int = 64  # processes + threads of the sandbox uid

    def __post_init__(self):
        for name in ("timeout", "memory_mb", "file_mb", "open_files", "processes"):
            number = getattr(self, name)
            if isinstance(number, bool) or not isinstance(number, (int, float)) or number <= 0:
                raise ValueError(f"{name} must be a positive number, got {number!r}")
        if self.memory_mb < 512:
            raise ValueError(f"memory_mb must be at least 512 (Python with NumPy needs it), "
                             f"got {self.memory_mb}")


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where Landlock is unavailable."""
    try:
        import landlock

        return int(landlock.landlock_abi_version())
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return 0


def capabilities() -> dict:
    """What this machine lets the grader do: root (netns, uid drop, tmpfs), Landlock."""
    return {"root": os.geteuid() == 0 and sys.platform.startswith("linux"),
            "landlock": landlock_abi() > 0}


def missing_protections(caps: dict) -> list[str]:
    """One line per protection the grader cannot apply here (for the single warning)."""
    missing = []
    if not caps["root"]:
        missing.append("not running as root: no network namespace, no uid drop (the process "
                       "limit is per user), no size-limited tmpfs")
    if not caps["landlock"]:
        missing.append("Landlock is not available: the child can read and write files "
                       "outside its working directory")
    return missing


def readable_paths() -> list[str]:
    """Folders the child may read: interpreter, installed packages, coursekit, system libs."""
    import coursekit

    paths = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)),
             str(Path(coursekit.__file__).resolve().parent)}
    for entry in sys.path:  # site-packages only: never the repository root or cwd
        if entry and "site-packages" in entry and os.path.isdir(entry):
            paths.add(entry)
    for system in ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib",
                   "/etc/ld.so.cache", "/etc/localtime", "/usr/share/zoneinfo",
                   "/proc/cpuinfo", "/proc/meminfo", "/proc/self", "/sys/devices/system/cpu",
                   "/dev/urandom"):
        if os.path.exists(system):
            paths.add(system)
    return sorted(paths)


def child_config(workdir: Path, jobdir: Path, limits: Limits, uid: int | None,
                 n_questions: int, caps: dict) -> dict:
    """The sandbox part of a runner job (plain JSON)."""
    return {
        "workdir": str(workdir), "jobdir": str(jobdir),
        "cpu_seconds": int(limits.timeout * (1 + n_questions)) + 5,
        "memory_bytes": int(limits.memory_mb) * 2**20,
        "file_bytes": int(limits.file_mb) * 2**20,
        "open_files": int(limits.open_files), "processes": int(limits.processes),
        "uid": uid if caps["root"] else None,
        "namespaces": caps["root"],
        "landlock": caps["landlock"],
        "readable": readable_paths(),
    }


# ------------------------------------------------------------------- child side
def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _landlock_rights(abi: int) -> tuple[int, int]:
    """(all rights handled at this ABI, read-only rights)."""
    handled = (1 << 13) - 1  # ABI 1: execute .. make_sym
    if abi >= 2:
        handled |= 1 << 13  # refer
    if abi >= 3:
        handled |= 1 << 14  # truncate
    if abi >= 5:
        handled |= 1 << 15  # ioctl_dev
    read_only = (1 << 0) | (1 << 2) | (1 << 3)  # execute, read_file, read_dir
    return handled, read_only


def _apply_landlock(config: dict) -> None:
    import landlock
    from landlock.plumbing import FSAccess

    abi = landlock_abi()
    handled, read_only = _landlock_rights(abi)
    file_rights = (1 << 0) | (1 << 1) | (1 << 2) | ((1 << 14) if abi >= 3 else 0)
    ruleset = landlock.Ruleset(restrict_rules=FSAccess(handled))
    for path in config["readable"] + [config["jobdir"]]:
        rights = read_only if os.path.isdir(path) else read_only & file_rights
        ruleset.allow(path, rules=FSAccess(rights))
    ruleset.allow(config["workdir"], rules=FSAccess(handled))
    ruleset.allow("/dev/null", rules=FSAccess(file_rights))
    ruleset.apply()


def apply_in_child(config: dict | None) -> list[str]:
    """Sandbox the calling process (irreversibly); returns what could not be applied."""
    if not config:
        return []
    warnings = []
    libc = _libc()
    workdir = config["workdir"]
    if config["namespaces"]:
        _check(libc.unshare(CLONE_NEWNET | CLONE_NEWNS), "unshare")
        _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount private")
        options = f"size={4 * config['file_bytes']},mode=0700,uid={config['uid']},gid={config['uid']}"
        _check(libc.mount(b"tmpfs", workdir.encode(), b"tmpfs", 0, options.encode()),
               "mount tmpfs")
    limits = [(resource.RLIMIT_CPU, config["cpu_seconds"]),
              (resource.RLIMIT_AS, config["memory_bytes"]),
              (resource.RLIMIT_FSIZE, config["file_bytes"]),
              (resource.RLIMIT_NOFILE, config["open_files"]),
              (resource.RLIMIT_CORE, 0)]
    if config["uid"] is not None:
        limits.append((resource.RLIMIT_NPROC, config["processes"]))
    else:  # the limit counts all processes of this user: allow what already runs, plus ours
        limits.append((resource.RLIMIT_NPROC,
                       len(_processes_of_uid(os.getuid())) + config["processes"]))
    for which, value in limits:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:  # an unprivileged process cannot raise it
            value = min(value, hard)
        resource.setrlimit(which, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized writes fail instead of killing
    if config["landlock"]:
        try:
            _apply_landlock(config)
        except Exception as error:  # noqa: BLE001
            warnings.append(f"Landlock could not be applied: {error}")
    if config["uid"] is not None:
        uid = config["uid"]
        # keep one capability, reading files, because the interpreter may live where the
        # unprivileged uid cannot look (e.g. /root/.pyenv); Landlock decides what is read
        keep_read = config["landlock"] and not warnings and SYS_CAPSET is not None
        if keep_read:
            _check(libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), "prctl keepcaps")
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if keep_read:
            _set_capabilities(libc, 1 << CAP_DAC_READ_SEARCH)
    return warnings


def _set_capabilities(libc, mask: int) -> None:
    """Make ``mask`` (bits of the first 32 capabilities) both permitted and effective."""

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (Data * 2)(Data(mask, mask, 0), Data(0, 0, 0))
    _check(libc.syscall(SYS_CAPSET, ctypes.byref(header), data), "capset")


# ------------------------------------------------------------------ parent side
def set_subreaper() -> bool:
    """Make this process inherit orphaned descendants (so escaped ones can be killed)."""
    try:
        return _libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _processes_of_uid(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                for line in handle:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            pids.append(int(entry))
                        break
        except (OSError, ValueError):
            continue
    return pids


def _children_of(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return children


def _reap(pids) -> None:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def kill_uid(uid: int, rounds: int = 50) -> None:
    """SIGKILL every process of ``uid`` (a helper that becomes ``uid`` runs kill(-1))."""
    for _ in range(rounds):
        pids = _processes_of_uid(uid)
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
    reports that every cell ran. The notebook phase has ``timeout`` seconds from the start; each question gets
    ``timeout`` seconds from its "question" message; the whole run at most
    ``timeout * (1 + n_questions) + 10``.
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
                elif message["e"] in ("cell", "cell_done"):
                    self.current_question = None
                elif message["e"] == "cells_done":
                    self.cells_done = True
                    break  # what follows must be read after the plan is sent
        return True
