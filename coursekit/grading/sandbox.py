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

The parent side (running the child with deadlines, killing its process tree) is
``coursekit.grading.supervisor``.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_REC, MS_PRIVATE = 0x4000, 0x40000
PR_SET_KEEPCAPS = 8
CAP_DAC_READ_SEARCH = 2
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(__import__("platform").machine())
SANDBOX_UID_BASE = 1_500_000_000  # + grader pid: unique per concurrent grader process


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


def _probe_root() -> tuple[bool, bool]:
    """(can drop to another uid, can make network + mount namespaces), tried in a fork.

    Root inside a container often lacks CAP_SYS_ADMIN: unshare is then refused."""
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return False, False
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            libc = _libc()
            if (libc.unshare(CLONE_NEWNET | CLONE_NEWNS) != 0
                    or libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0):
                code |= 2
            os.setresgid(SANDBOX_UID_BASE, SANDBOX_UID_BASE, SANDBOX_UID_BASE)
            os.setresuid(SANDBOX_UID_BASE, SANDBOX_UID_BASE, SANDBOX_UID_BASE)
        except BaseException:  # noqa: BLE001 - any failure means "cannot"
            code |= 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 3
    return not code & 1, not code & 2


_CAPABILITIES: dict = {}


def capabilities() -> dict:
    """What this machine lets the grader do (probed once per process).

    ``root``: can drop the child to an unprivileged uid (so the process limit applies);
    ``namespaces``: can give it no network and a size-limited tmpfs;
    ``landlock``: can confine its file access.
    """
    if not _CAPABILITIES:
        uid_drop, namespaces = _probe_root()
        _CAPABILITIES.update(root=uid_drop, namespaces=namespaces and uid_drop,
                             landlock=landlock_abi() > 0)
    return dict(_CAPABILITIES)


def missing_protections(caps: dict) -> list[str]:
    """One line per protection the grader cannot apply here (for the single warning)."""
    missing = []
    if not caps["root"]:
        missing.append("not running as root: no uid drop (the process limit then counts "
                       "all of this user's processes), no network namespace, no "
                       "size-limited tmpfs")
    elif not caps.get("namespaces", True):
        missing.append("namespaces are not permitted here (no CAP_SYS_ADMIN): the child "
                       "keeps network access and writes to an unlimited folder")
    if not caps["landlock"]:
        missing.append("Landlock is not available: the child can read and write files "
                       "outside its working directory")
    return missing


def _package_folder() -> str:
    import coursekit

    return str(Path(coursekit.__file__).resolve().parent)


def readable_paths() -> list[str]:
    """Folders the child may read: interpreter, installed packages, coursekit, system libs."""
    paths = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)),
             _package_folder()}
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
        "namespaces": bool(caps["root"] and caps.get("namespaces", True)),
        "landlock": caps["landlock"],
        "readable": readable_paths(),
        "readable_package": _package_folder(),
    }


# ------------------------------------------------------------------- child side
def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _landlock_rights(abi: int) -> tuple[int, int]:
    """(all rights handled at this ABI, read-only rights), as ``FSAccess`` flag values."""
    from functools import reduce
    from operator import or_

    from landlock.plumbing import FSAccess as A

    abi_1 = [A.EXECUTE, A.WRITE_FILE, A.READ_FILE, A.READ_DIR, A.REMOVE_DIR, A.REMOVE_FILE,
             A.MAKE_CHAR, A.MAKE_DIR, A.MAKE_REG, A.MAKE_SOCK, A.MAKE_FIFO, A.MAKE_BLOCK,
             A.MAKE_SYM]
    later = [(2, A.REFER), (3, A.TRUNCATE), (5, A.IOCTL_DEV)]
    handled = reduce(or_, abi_1 + [flag for since, flag in later if abi >= since])
    read_only = A.EXECUTE | A.READ_FILE | A.READ_DIR
    return int(handled), int(read_only)


def _file_rights(abi: int) -> int:
    """The rights that apply to a file (not a directory) at this ABI."""
    from landlock.plumbing import FSAccess as A

    return int(A.EXECUTE | A.WRITE_FILE | A.READ_FILE | (A.TRUNCATE if abi >= 3 else 0))


def _apply_landlock(config: dict) -> None:
    import landlock
    from landlock.plumbing import FSAccess

    abi = landlock_abi()
    handled, read_only = _landlock_rights(abi)
    file_rights = _file_rights(abi)
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
                       len(processes_of_uid(os.getuid())) + config["processes"]))
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
        confined = config["landlock"] and not warnings
        keep_read = SYS_CAPSET is not None and (confined or not _world_readable(
            [sys.base_prefix, sys.prefix, config["readable_package"]]))
        if keep_read and not confined:
            warnings.append("the interpreter is not readable by an unprivileged user and "
                            "Landlock is off: the child keeps the right to read every file")
        if keep_read:
            _check(libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), "prctl keepcaps")
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if keep_read:
            _set_capabilities(libc, 1 << CAP_DAC_READ_SEARCH)
    return warnings


def _world_readable(paths) -> bool:
    """Whether any user can reach and read these folders (every ancestor searchable)."""
    for path in paths:
        path = Path(path).resolve()
        for folder in [path, *path.parents]:
            try:
                mode = folder.stat().st_mode
            except OSError:
                return False
            if not mode & stat.S_IXOTH or (folder == path and not mode & stat.S_IROTH):
                return False
    return True


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


def processes_of_uid(uid: int) -> list[int]:
    """Process ids whose real uid is ``uid`` (psutil's scan of /proc)."""
    import psutil

    pids = []
    for process in psutil.process_iter(["uids"]):
        uids = process.info.get("uids")
        if uids is not None and uids.real == uid:
            pids.append(process.pid)
    return pids
