"""Grading on a Dask cluster: ``coursekit grade ... --cluster tcp://HOST:PORT``.

The coordinating process (``coursekit grade``) connects to a Dask scheduler
(``distributed``, futures API: the same code runs on a laptop, over SSH, on SLURM or
Kubernetes) and sends each submission to a worker:

- **What a worker gets**: the job of ``grade.grading_job`` (the release notebook, the
  inputs of each test, the limits; scattered once to every accepted worker) and, per
  task, the submission's bytes (workers need not share a file system). Expected
  values, tolerances and points never leave the coordinator, which scores
  (``grade.score_run``) and writes every file.
- **What a task does**: writes the job and the submission to a temporary folder of
  the worker and starts the same grader process the local pool starts (``python -m
  coursekit.grading.grade JOB RESULT``) as a subprocess, so the subreaper, the uid drop,
  Landlock, the network namespace and the limits happen in that process, never in the
  long-lived worker. It returns JSON text: the grader's result file as it was written
  (not a pickled object), the worker's address, and what the sandbox cannot apply on
  that worker (``sandbox.missing_protections``, probed once per worker in a
  subprocess); the coordinator prints one warning per worker, as local grading prints
  one for its machine.
- **Version handshake**: before any work, ``client.run(environment)`` asks every worker
  for coursekit's version, the run format (``grade.RUN_FORMAT``), a hash of the grader's
  code (``coursekit/grading/*.py``) and the installed numpy and torch versions. A worker that differs from the coordinator is refused with
  a message naming it and the difference; work is restricted to the accepted workers
  (``workers=``), so a refused worker -- or one that joins later, unchecked -- never
  grades. If none is accepted the run stops before grading anything (``ClusterError``).
- **Faults**: a worker that dies mid-submission costs nothing: Dask reschedules the task
  on another accepted worker; the coordinator watches which worker runs each task and
  counts the deaths (``retries``, ``--cluster-retries``, default 2); a submission whose
  workers died more often than that, or whose task failed more often (``KilledWorker``,
  a lost connection), is recorded as a grader fault with the reason (and, like every
  fault, regraded by the next run). Each submission is yielded exactly once per run,
  even when a worker ran it twice. If every accepted worker leaves, the run stops with
  a ``ClusterError``; what was graded is recorded and a new run resumes from there
  (``grade()``'s own up-to-date check skips it).

Dask's own messages are pickled: the workers must be trusted instructor machines and
the scheduler unreachable by students (see the README, "Grading at scale").

Only this module imports ``distributed`` (the ``cluster`` extra); ``grade()`` imports it
when ``--cluster`` is given.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import distributed

DEFAULT_RETRIES = 2
WATCH_SECONDS = 1.0  # how often the coordinator looks for workers that left
KEY_PREFIX = "coursekit-grade"
TOPIC = "coursekit-grade-started"  # events: which worker started which task
CONNECT_TIMEOUT = 30.0


class ClusterError(ValueError):
    """The cluster cannot grade (unreachable, no worker accepted, every worker gone)."""


# ------------------------------------------------------------------- configuration
def load_security(path: Path | str) -> distributed.security.Security:
    """A ``distributed.security.Security`` from a YAML or JSON file of its arguments.

    E.g. ``{"tls_ca_file": "ca.pem", "tls_client_cert": "cert.pem", "tls_client_key":
    "key.pem", "require_encryption": true}``.
    """
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))  # JSON is YAML too
    except (OSError, yaml.YAMLError) as error:
        raise ClusterError(f"--cluster-security {path}: cannot read it ({error})") from None
    if not isinstance(data, dict):
        raise ClusterError(f"--cluster-security {path}: expected a mapping of "
                           "distributed.security.Security arguments (tls_ca_file, "
                           "tls_client_cert, tls_client_key, require_encryption, ...), got "
                           f"{type(data).__name__}")
    try:
        return distributed.security.Security(**data)
    except (TypeError, ValueError) as error:
        raise ClusterError(f"--cluster-security {path}: {error}") from None


def environment() -> dict:
    """What must be the same on the coordinator and every worker (run on each worker)."""
    import coursekit
    from coursekit.grading.grade import RUN_FORMAT

    def installed(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {"coursekit": coursekit.__version__, "run format": RUN_FORMAT,
            "grader code": grader_code(), "numpy": installed("numpy"),
            "torch": installed("torch")}


def grader_code() -> str:
    """A short hash of ``coursekit/grading/*.py``: the same version number can hide two
    commits; the grader's code must be the same on every machine."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def differences(local: dict, remote) -> list[str]:
    """How a worker's ``environment()`` differs from the coordinator's (empty: the same)."""
    if not isinstance(remote, dict):
        return [f"it could not report its versions ({type(remote).__name__}: {remote})"]
    return [f"{key} {remote.get(key, 'missing')!s} (the coordinator has {value!s})"
            for key, value in local.items() if remote.get(key) != value]


def accept_workers(reports: dict, local: dict, names: dict | None = None
                   ) -> tuple[list[str], list[str]]:
    """``(accepted addresses, refusal messages)``; ``ClusterError`` if none is accepted."""
    names = names or {}
    accepted, refused = [], []
    for address in sorted(reports):
        diff = differences(local, reports[address])
        label = address if names.get(address) in (None, address) else \
            f"{address} ({names[address]})"
        if diff:
            refused.append(f"worker {label} refused: {'; '.join(diff)}")
        else:
            accepted.append(address)
    if not accepted:
        raise ClusterError("no worker of the cluster can grade: " + (
            " | ".join(refused) if refused else "the scheduler has no workers") +
            " (install the coordinator's pinned environment on the workers)")
    return accepted, refused


# ---------------------------------------------------------------- worker side
_MISSING: list[str] | None = None
_MISSING_LOCK = threading.Lock()
_PROBE = ("import json; from coursekit.grading import sandbox; "
          "print(json.dumps(sandbox.missing_protections(sandbox.capabilities())))")


def missing_protections_here() -> list[str]:
    """``sandbox.missing_protections`` as a grader process on this machine sees them.

    Probed once per worker process, in a subprocess (the probe forks; a worker has threads).
    """
    global _MISSING
    with _MISSING_LOCK:
        if _MISSING is None:
            try:
                out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True,
                                     text=True, timeout=120, check=True,
                                     stdin=subprocess.DEVNULL).stdout
                _MISSING = [str(line) for line in json.loads(out.strip().splitlines()[-1])]
            except (OSError, subprocess.SubprocessError, ValueError, IndexError) as error:
                _MISSING = [f"the sandbox could not be probed on this worker ({error})"]
        return list(_MISSING)


def grade_on_worker(common: str, name: str, filename: str, data: bytes, timeout: float,
                    key: str = "") -> str:
    """The Dask task: grade one submission in a grader subprocess; returns JSON text.

    ``common`` is the JSON of ``grading_job`` without the submission (the same for every
    task), ``data`` the submission's bytes, ``filename`` its name. It first tells the
    coordinator (an event on ``TOPIC``) that this worker started the task ``key``.
    """
    started = time.time()
    try:
        this = distributed.get_worker()
        worker = this.address
        this.log_event(TOPIC, {"key": key, "worker": worker})
    except ValueError:  # called outside a worker (tests)
        worker = "local"
    reply = {"worker": worker, "missing": missing_protections_here(), "result": None,
             "problem": None}
    with tempfile.TemporaryDirectory(prefix="coursekit-grade-") as tmp:
        folder = Path(tmp)
        submission = folder / "submission" / (Path(filename).name or "submission.ipynb")
        submission.parent.mkdir()
        submission.write_bytes(data)
        job = {**json.loads(common), "submission": str(submission), "name": name}
        from coursekit.grading.grade import run_grader_process

        reply["result"], reply["problem"] = run_grader_process(job, folder, timeout)
    reply["seconds"] = time.time() - started
    return json.dumps(reply)


# ----------------------------------------------------------- coordinator side
class ClusterGrader:
    """Send submissions to the workers of a Dask scheduler; yield what comes back.

        grader = ClusterGrader("tcp://10.0.0.5:8786", retries=2)
        for name, run in grader.run(bundle, [(name, path), ...], limits, process_timeout):
            ...  # run: what run_submission returned (a dict), or a problem (a str)
        grader.throughput()  # per worker: submissions, submissions/min, seconds each
    """

    def __init__(self, address: str, security=None, retries: int = DEFAULT_RETRIES,
                 quiet: bool = False, connect_timeout: float = CONNECT_TIMEOUT):
        if not isinstance(address, str) or "://" not in address:
            raise ClusterError(f"--cluster needs a scheduler address such as "
                               f"tcp://HOST:8786 or tls://HOST:8786, got {address!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ClusterError(f"--cluster-retries must be a whole number ≥ 0, got {retries!r}")
        if security is not None and not isinstance(security, distributed.security.Security):
            security = load_security(security)
        if address.startswith("tls://") and security is None:
            raise ClusterError(f"{address} is a TLS address: give its certificates with "
                               "--cluster-security FILE (YAML/JSON of "
                               "distributed.security.Security arguments)")
        self.address, self.security, self.retries = address, security, retries
        self.quiet, self.connect_timeout = quiet, connect_timeout
        self.refused: list[str] = []
        self.accepted: list[str] = []
        self.stats: dict[str, dict] = defaultdict(lambda: {"submissions": 0, "seconds": 0.0})
        self.seconds = 0.0
        self._bar = None
        self._warned: set[str] = set()

    def write(self, line: str) -> None:
        """A line on stderr that does not break the progress bar (nothing when quiet)."""
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    def _connect(self) -> distributed.Client:
        try:
            return distributed.Client(self.address, security=self.security,
                                      timeout=self.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as error:
            raise ClusterError(f"cannot reach the Dask scheduler at {self.address}: "
                               f"{type(error).__name__}: {error}") from None

    def _handshake(self, client: distributed.Client) -> list[str]:
        reports = client.run(environment, on_error="return")
        info = client.scheduler_info(n_workers=-1)["workers"]
        names = {address: str(w.get("name", address)) for address, w in info.items()}
        accepted, refused = accept_workers(reports, environment(), names)
        for line in refused:
            self.write(f"coursekit grade: {line}")
        self.accepted, self.refused = accepted, refused
        return accepted

    def run(self, bundle: dict, todo: list[tuple[str, Path]], limits, process_timeout: float
            ) -> Iterator[tuple[str, dict | str]]:
        """Yield ``(name, run)`` once for every submission of ``todo``.

        ``run`` is the grader process's result (a dict, for ``score_run``) or a problem
        (a str: a grader fault, for ``build_record``'s error).
        """
        from tqdm.auto import tqdm

        from coursekit.grading.grade import grading_job

        if not todo:
            return
        started = time.monotonic()
        client = self._connect()
        active: dict = {}  # future -> name
        try:
            accepted = self._handshake(client)
            info = client.scheduler_info(n_workers=-1)["workers"]
            threads = sum(int(info[w].get("nthreads", 1)) for w in accepted if w in info)
            window = max(4, 2 * threads)
            common = grading_job(bundle, todo[0][1], "", limits)
            del common["submission"], common["name"]
            [shared] = client.scatter([json.dumps(common)], workers=accepted, broadcast=True,
                                      hash=False)
            paths = dict(todo)
            pending = deque(name for name, _ in todo)
            names_of_keys: dict[str, str] = {}
            failures: Counter = Counter()
            lost: dict[str, list[str]] = defaultdict(list)  # name -> workers that died on it
            counted: set[str] = set()  # names whose current attempt already lost a worker
            starts: dict[str, list[str]] = defaultdict(list)  # key -> workers that started it
            seen: set[tuple[str, str]] = set()  # (key, worker) deaths already counted

            def on_start(event) -> None:  # runs in the client's thread
                message = event[1] if isinstance(event, tuple) else event
                if isinstance(message, dict) and message.get("key") in names_of_keys:
                    starts[message["key"]].append(str(message.get("worker")))

            client.subscribe_topic(TOPIC, on_start)
            wake = threading.Event()  # set when a task finishes: no busy polling
            watched = time.monotonic()
            done: set[str] = set()
            self._bar = tqdm(total=len(todo), unit="submission", file=sys.stderr,
                             disable=self.quiet, desc="grading on the cluster")

            def fault(name: str, reason: str) -> str:
                return (f"grader error: {reason}; given up after {self.retries} "
                        f"{'retry' if self.retries == 1 else 'retries'} (--cluster-retries)")

            while pending or active:
                while pending and len(active) < window:
                    name = pending.popleft()
                    try:
                        data = Path(paths[name]).read_bytes()
                    except OSError as error:
                        done.add(name)
                        self._bar.update()
                        yield name, f"unreadable submission: {error}"
                        continue
                    key = f"{KEY_PREFIX}-{name}-{uuid.uuid4().hex[:12]}"
                    names_of_keys[key] = name
                    counted.discard(name)
                    future = client.submit(grade_on_worker, shared, name, Path(paths[name]).name,
                                           data, process_timeout, key, key=key, workers=accepted,
                                           allow_other_workers=False, pure=False)
                    future.add_done_callback(lambda _: wake.set())
                    active[future] = name
                wake.clear()
                finished = [f for f in active if f.done()]
                if not finished:
                    wake.wait(WATCH_SECONDS)
                    finished = [f for f in active if f.done()]
                for future in finished:
                    name = active.pop(future)
                    status = future.status
                    if status == "finished":
                        reply = json.loads(future.result())
                    else:
                        error = future.exception() if status == "error" else status
                    future.release()
                    starts.pop(future.key, None)
                    if name in done:  # a second result for the same submission: dedupe
                        continue
                    if status != "finished":
                        if name not in counted:
                            failures[name] += 1
                        if failures[name] <= self.retries:
                            pending.appendleft(name)
                            continue
                        done.add(name)
                        self._bar.update()
                        yield name, fault(name, f"its task failed on the cluster "
                                                f"({type(error).__name__}: {error})")
                        continue
                    done.add(name)
                    self._account(reply)
                    self._bar.update()
                    if reply.get("problem"):
                        yield name, str(reply["problem"])
                    else:
                        yield name, json.loads(reply["result"])
                # a worker that vanished while it ran a task (it had started it: its event
                # came) cost that submission a try; tasks only queued there cost nothing
                if time.monotonic() - watched < WATCH_SECONDS:
                    continue
                watched = time.monotonic()
                processing = client.processing()  # every worker connected now
                current = {future.key: owner for future, owner in active.items()}
                for key, workers in list(starts.items()):
                    name = current.get(key)
                    dead = [w for w in list(workers) if w not in processing and (key, w) not in seen]
                    if name is None or name in done or not dead:
                        continue
                    worker = dead[0]
                    seen.add((key, worker))
                    failures[name] += 1
                    counted.add(name)
                    lost[name].append(worker)
                    self.write(f"coursekit grade: worker {worker} left while grading {name}"
                               + (" (retrying elsewhere)" if failures[name] <= self.retries
                                  else ""))
                    if failures[name] > self.retries:
                        for future, owner in list(active.items()):
                            if owner == name:
                                future.cancel()
                                del active[future]
                        done.add(name)
                        self._bar.update()
                        deaths = len(lost[name])
                        yield name, fault(name, ("its worker" if deaths == 1 else
                                                 f"{deaths} workers") + " died while grading it "
                                          f"({', '.join(lost[name])})")
                alive = [w for w in accepted if w in processing]
                self._bar.set_postfix(workers=len(alive), refresh=False)
                if not alive and (pending or active):
                    left = len(pending) + len(active)
                    raise ClusterError(
                        f"every accepted worker has left the cluster ({', '.join(accepted)}); "
                        f"{left} submission{'s' if left != 1 else ''} not graded. Start "
                        "workers with the coordinator's environment and run the same command "
                        "again: what was graded is recorded and is not graded twice")
        finally:
            if active:
                client.cancel(list(active))
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            client.close()
            self.seconds = time.monotonic() - started
            if not self.quiet and self.stats:
                for line in self.throughput_lines():
                    print(line, file=sys.stderr)

    def _account(self, reply: dict) -> None:
        worker = str(reply.get("worker"))
        self.stats[worker]["submissions"] += 1
        self.stats[worker]["seconds"] += float(reply.get("seconds") or 0.0)
        missing = reply.get("missing") or []
        if missing and worker not in self._warned:
            self._warned.add(worker)
            self.write(f"coursekit grade: warning: weaker sandbox on worker {worker}: "
                       + "; ".join(missing))

    def throughput(self) -> dict[str, dict]:
        """Per worker: submissions, submissions per minute of the run, seconds each."""
        minutes = max(self.seconds, 1e-9) / 60
        return {worker: {"submissions": s["submissions"],
                         "per_minute": round(s["submissions"] / minutes, 2),
                         "seconds_each": round(s["seconds"] / max(1, s["submissions"]), 3)}
                for worker, s in sorted(self.stats.items())}

    def throughput_lines(self) -> list[str]:
        lines = [f"coursekit grade: {sum(s['submissions'] for s in self.stats.values())} "
                 f"submissions on {len(self.stats)} workers in {self.seconds:.1f} s"]
        for worker, s in self.throughput().items():
            lines.append(f"  {worker}: {s['submissions']} submissions, {s['per_minute']:.1f}/min, "
                         f"{s['seconds_each']:.2f} s each")
        return lines
