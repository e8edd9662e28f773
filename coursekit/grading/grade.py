"""``coursekit grade``: grade a folder of submissions, in parallel, in sandboxes.

Each submission is run by its own grader process (``python -m
coursekit.grading.grade JOB.json RESULT.json``), so a crash while grading one never
touches another; up to ``workers`` of them run at once. The work is split in two:

1. the grader process (``run_submission``) receives only the release notebook, the
   inputs of each test and the limits (``grading_job``); it reads the submission
   (unreadable → an error in its result), rebuilds the release notebook with the
   student's answer cells (``notebook.rebuild``), becomes a child subreaper and runs
   the notebook in a sandboxed child under a uid of its own (``engine.execute`` →
   ``runner`` + ``sandbox`` + ``supervisor``), and writes the outcomes as JSON;
2. the coordinating process scores those outcomes against the bundle's expected values
   (``score_run``: expected values, tolerances and points never leave it), and writes
   ``feedback.md`` and ``results.json`` atomically.

So a grader process can run on another machine (a cluster) without
ever holding what a student must not see. ``grade`` is "make jobs → run them
(``run_local`` yields ``(key, run result)``) → ``score_run`` → record": each record goes
into the gradebook (``gradebook.py``, the SQLite record of every run), with its
submission time and late penalty (``deadlines.py``) and its integrity flags
(``integrity.py``); ``grades.csv`` is re-derived after every finished submission, and
every export and the class report (``report.py``) after the run. Re-running is
idempotent: a submission whose file, bundle, limits and coursekit version are unchanged
is skipped, from the gradebook (``force=True`` regrades; ``only=NAME`` regrades one).
Non-notebook files in the submissions folder are listed as rejected.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from pathlib import Path

from coursekit.grading import sandbox, supervisor
from coursekit.grading.assign import BUNDLE_FILE, DEFAULT_BUNDLE_ROOT, load_bundle, plan_of
from coursekit.grading.check import EXERCISE_SUFFIX
from coursekit.grading.engine import execute
from coursekit.grading.messages import cell_label, name_code_cells
from coursekit.grading.notebook import (
    MAX_SUBMISSION_BYTES,
    SubmissionError,
    read_submission,
    rebuild,
)
from coursekit.grading.report import atomic_write, write_submission
from coursekit.grading.scoring import score_test
from coursekit.grading.values import decode, encode

SUSPICIOUS = [
    (r"\bget_ipython\b", "uses get_ipython (IPython internals)"),
    (r"\bsys\.modules\b", "touches sys.modules"),
    (r"\b__builtins__\b|\bbuiltins\b", "touches builtins"),
    (r"\bctypes\b", "uses ctypes"),
    (r"\bos\._exit\b", "calls os._exit"),
    (r"\bsys\.exit\b", "calls sys.exit"),
    (r"\bsignal\b", "uses signal"),
    (r"\bos\.(fork|setsid|kill|system|exec\w*|spawn\w*)\b", "starts or controls processes"),
    (r"\bsubprocess\b|\bmultiprocessing\b", "starts processes"),
    (r"\bsocket\b|\burllib\b|\bhttp\.client\b|\brequests\b", "uses the network"),
    (r"\b__import__\b|\bimportlib\b", "imports dynamically"),
    (r"\b(open|Path|os\.open|os\.remove|os\.unlink|shutil\.\w+)\(\s*[rbf]*['\"](/|\.\.|~)",
     "accesses files outside its working directory"),
    (r"\bos\.(chdir|listdir|walk|scandir)\b|\bglob\b", "explores the file system"),
]
_SUSPICIOUS = [(re.compile(pattern), reason) for pattern, reason in SUSPICIOUS]
SAFE_NAME = re.compile(r"[^\w.@+-]")  # Unicode letters stay; spaces, slashes go


NOT_SUBMISSIONS = {"timestamps.csv", "grading.toml", "roster.csv"}


def scan_submissions(folder: Path, assignment: str) -> tuple[list[tuple[str, str, Path]],
                                                               list[tuple[str, str]]]:
    """``([(name, folder name, notebook path)], [(rejected file, reason)])``.

    A submission is ``DIR/<name>.ipynb`` or ``DIR/<name>/**/*.ipynb`` (the one named
    ``<assignment>.ipynb`` or ``<assignment>_exercises.ipynb`` if there are several, else the
    first). ``name`` keeps its Unicode (NFC); the folder name is a sanitized copy for the
    output folder. Any other file (a ``.py``, a ``.pdf``), or a folder holding no notebook,
    is rejected with a reason (``timestamps.csv``, ``grading.toml``, ``roster.csv`` and hidden
    files are settings, not submissions).
    """
    import unicodedata

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"submissions folder {folder} does not exist")
    found, rejected = {}, []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in NOT_SUBMISSIONS:
            continue
        if entry.is_file() and entry.suffix == ".ipynb":
            found.setdefault(unicodedata.normalize("NFC", entry.stem), entry)
        elif entry.is_dir():
            notebooks = sorted(p for p in entry.rglob("*.ipynb")
                               if ".ipynb_checkpoints" not in p.parts)
            if notebooks:
                # the exercise's name (NAME_exercises.ipynb), else its name before the rename
                named = [p for stem in (assignment + EXERCISE_SUFFIX, assignment)
                         for p in notebooks if p.stem == stem]
                found.setdefault(unicodedata.normalize("NFC", entry.name), (named or notebooks)[0])
            else:
                files = sorted(str(p.relative_to(folder)) for p in entry.rglob("*") if p.is_file())
                rejected.append((entry.name + "/", "a folder without a notebook (.ipynb)"
                                 + (f": {', '.join(files[:5])}" if files else ": empty")))
        elif entry.is_file():
            kind = entry.suffix.lower() or "no extension"
            rejected.append((entry.name, f"not a notebook ({kind}): only .ipynb files are "
                                         "graded; ask for the notebook"))
    result, used = [], set()
    for name, path in found.items():
        safe = SAFE_NAME.sub("_", name)[:100].strip("._") or "submission"
        while safe in used:
            safe += "_"
        used.add(safe)
        result.append((name, safe, path))
    return result, rejected


def find_submissions(folder: Path, assignment: str) -> list[tuple[str, Path]]:
    """``(folder name, notebook path)`` for ``DIR/<name>.ipynb`` and ``DIR/<name>/*.ipynb``."""
    return [(safe, path) for _, safe, path in scan_submissions(folder, assignment)[0]]


def flag_suspicious(notebook: dict) -> list[str]:
    """Lines of answer cells that deserve a human look (not a verdict)."""
    flags = []
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("coursekit", {})
        if cell.get("cell_type") != "code" or meta.get("kind") not in ("answer", "added"):
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for number, line in enumerate(source.splitlines(), 1):
            for pattern, reason in _SUSPICIOUS:
                if pattern.search(line):
                    flags.append(f"{cell_label(meta, source)}, line {number}: {reason}: "
                                 f"`{line.strip()[:100]}`")
    return flags


_DIGESTS: dict[tuple, bytes] = {}


def _file_digest(path: Path) -> bytes:
    """SHA-256 of a file, cached by (path, size, mtime): the bundle is hashed once a run."""
    info = path.stat()
    key = (str(path.resolve()), info.st_size, info.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = hashlib.sha256(path.read_bytes()).digest()
    return _DIGESTS[key]


def fingerprint(submission: Path, bundle_dir: Path, limits: sandbox.Limits) -> str:
    digest = hashlib.sha256()
    digest.update(hashlib.sha256(Path(submission).read_bytes()).digest())
    digest.update(_file_digest(Path(bundle_dir) / BUNDLE_FILE))
    digest.update(json.dumps(vars(limits), sort_keys=True).encode())
    import coursekit

    digest.update(coursekit.__version__.encode())
    return digest.hexdigest()


def _question_status(tests: list[dict]) -> str:
    if all(t["status"] == "passed" for t in tests):
        return "passed"
    if any(t["points"] > 0 for t in tests):
        return "partial"
    return "error" if all(t["status"] == "error" for t in tests) else "failed"


def build_record(bundle: dict, name: str, path: Path, outcomes: dict, error: str | None,
                 extra: dict) -> dict:
    questions = []
    for record in bundle["questions"]:
        tests = []
        for test in record["tests"]:
            if error is not None:
                score = {"key": test["key"], "label": test["label"],
                         "visibility": test["visibility"], "points": 0.0,
                         "max_points": test["points"], "status": "error",
                         "message": "not graded: " + error.split(":")[0]}
            else:
                score = vars(score_test(test, outcomes.get((record["id"], test["key"]))))
                score = dict(score)
            tests.append(score)
        questions.append({"id": record["id"], "title": record["title"],
                          "points": round(sum(t["points"] for t in tests), 6),
                          "max_points": record["points"], "status": _question_status(tests),
                          "tests": tests})
    return {"assignment": bundle["assignment"], "submission": name, "file": str(path),
            "score": round(sum(q["points"] for q in questions), 6),
            "max_score": sum(q["max_points"] for q in questions),
            "questions": questions, "error": error, **extra}


RUN_FORMAT = 1  # version of the grader process's result (the wire format of a run)


def grading_job(bundle: dict, submission: Path, name: str, limits: sandbox.Limits) -> dict:
    """What a grader process needs: the release, the inputs of each test, the limits.

    Expected values, tolerances and points stay with the coordinating process, which scores
    (``score_run``): a grader process -- local or on another machine -- never sees them.
    """
    return {"release": bundle["release"], "plan": plan_of(bundle["questions"]),
            "submission": str(Path(submission).resolve()), "name": name,
            "limits": vars(limits)}


def run_submission(job: dict) -> dict:
    """Run one submission in sandboxes (in its own grader process); no scoring.

    Returns JSON-compatible data: the outcome of each planned test (values encoded as the
    child sent them), the notes, cell errors, suspicious lines and warnings of the run.
    """
    supervisor.set_subreaper()
    caps = sandbox.capabilities()
    limits = sandbox.Limits(**job["limits"])
    result = {"format": RUN_FORMAT, "error": None, "outcomes": [], "notes": [],
              "cell_errors": [], "suspicious": [], "warnings": [], "runs": 0}
    try:
        size = Path(job["submission"]).stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            result["notes"].append(
                f"your notebook is {size / 2**20:.1f} MiB, over {MAX_SUBMISSION_BYTES // 2**20} "
                "MiB: it was graded with its outputs stripped (only the code is run); clear "
                "large outputs before you submit")
        cells = read_submission(Path(job["submission"]))
        notebook, notes = rebuild(job["release"], cells)
        result["notes"] += notes
    except (SubmissionError, OSError) as reason:
        result["error"] = f"unreadable submission: {reason}"
        return result
    result["suspicious"] = flag_suspicious(notebook)
    uid = sandbox.SANDBOX_UID_BASE + os.getpid()
    run = execute(notebook, job["plan"], limits, sandboxed=True, caps=caps, uid=uid)
    labels = [cell_label(c["metadata"].get("coursekit"), c["source"]) for c in notebook["cells"]
              if c["cell_type"] == "code"]
    result["cell_errors"] = run.cell_error_lines(notebook)
    result["notes"] += [name_code_cells(note, labels) for note in run.notes]
    result["warnings"] = run.warnings
    result["runs"] = run.runs
    for (qid, key), outcome in run.outcomes.items():
        wire = {k: v for k, v in outcome.items() if k != "value"}
        if "value" in outcome:
            wire["value"] = encode(outcome["value"])
        result["outcomes"].append({"q": qid, "t": key, **wire})
    return result


def score_run(bundle: dict, name: str, path: Path, run: dict, mark: str = "") -> dict:
    """The record of one submission: ``run`` (from ``run_submission``) scored against the bundle.

    ``run`` crossed a process (or machine) boundary: anything malformed in it becomes an error
    of the test it belongs to, never an exception here.
    """
    if not isinstance(run, dict) or run.get("format") != RUN_FORMAT:
        found = run.get("format") if isinstance(run, dict) else type(run).__name__
        return build_record(bundle, name, path, {}, "grader error: the grader process returned "
                            f"a result of format {found!r}, expected {RUN_FORMAT} (a coursekit "
                            "version mismatch?)", {"fingerprint": "", "notes": [],
                                                   "suspicious": []})
    outcomes = {}
    for item in run.get("outcomes") or []:
        if not isinstance(item, dict):
            continue
        outcome = {k: v for k, v in item.items() if k not in ("q", "t", "value")}
        if "value" in item:
            try:
                outcome["value"] = decode(item["value"])
            except (ValueError, TypeError) as error:
                outcome = {"error": f"unreadable result: {error}"}
        outcomes[(item.get("q"), item.get("t"))] = outcome
    extra = {"fingerprint": mark, **{k: list(run.get(k) or []) for k in
                                     ("notes", "cell_errors", "suspicious", "warnings")},
             "runs": int(run.get("runs") or 0)}
    return build_record(bundle, name, path, outcomes, run.get("error"), extra)


def grade_one(bundle_dir: Path, submission: Path, name: str, out: Path,
              limits: sandbox.Limits, print_fingerprint: str = "") -> dict:
    """Grade one submission in this process and write its results (run, score, write)."""
    bundle = load_bundle(bundle_dir)
    run = run_submission(grading_job(bundle, submission, name, limits))
    record = score_run(bundle, name, submission, run, print_fingerprint)
    write_submission(out, record)
    return record


def _worker_command(job_file: Path, result_file: Path) -> list[str]:
    return [sys.executable, "-m", "coursekit.grading.grade", str(job_file), str(result_file)]


def _failed_run(problem: str) -> dict:
    """A run result saying the grader process failed (scored as an error of every test)."""
    return {"format": RUN_FORMAT, "error": problem, "outcomes": [], "notes": [],
            "cell_errors": [], "suspicious": [], "warnings": [], "runs": 0}


def run_grader_process(job: dict, folder: Path, timeout: float) -> tuple[str | None, str | None]:
    """Run one grader process (``python -m coursekit.grading.grade JOB RESULT``) in ``folder``.

    Returns ``(result JSON text, None)`` or ``(None, problem)``. The local pool and each
    worker of a cluster (``coursekit.grading.cluster``) grade through this one function.
    """
    job_file, result_file = folder / "job.json", folder / "result.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    process = subprocess.Popen(_worker_command(job_file, result_file), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _, stderr = process.communicate(timeout=timeout)
        problem = None if process.returncode == 0 else (
            f"grader error (exit {process.returncode}): "
            f"{stderr.decode('utf-8', 'replace').strip().splitlines()[-1:]}")
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        problem = f"grader error: grading took longer than {timeout:.0f} s"
    if process.returncode != 0 and sandbox.capabilities()["root"]:
        # the grader process could not clean up after its sandbox: do it for it
        supervisor.kill_uid(sandbox.SANDBOX_UID_BASE + process.pid)
    if problem is not None:
        return None, problem
    try:
        text = result_file.read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, ValueError) as error:
        return None, f"grader error: no readable result from the grader process ({error})"
    return text, None


def run_local(jobs: list[tuple[str, dict]], workers: int, worker_timeout: float):
    """Run ``(key, job)`` pairs in grader processes, ``workers`` at once; yields
    ``(key, run result)`` as each finishes (a failed process yields ``_failed_run``)."""
    with tempfile.TemporaryDirectory(prefix="coursekit-grade-") as jobs_dir:
        def run_worker(index, job):
            folder = Path(jobs_dir) / str(index)
            folder.mkdir()
            text, problem = run_grader_process(job, folder, worker_timeout)
            return _failed_run(problem) if problem is not None else json.loads(text)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(run_worker, i, job): key for i, (key, job) in enumerate(jobs)}
            for future in as_completed(futures):
                yield futures[future], future.result()


def run_cluster(jobs: list[tuple[int, dict]], address: str, security: Path | None,
                retries: int, limits: sandbox.Limits, bundle: dict, worker_timeout: float,
                quiet: bool, summary: dict):
    """``run_local``'s twin on a Dask cluster: yields ``(key, run result)``; the workers
    run the same grader processes (``coursekit.grading.cluster``). Per-worker throughput
    goes into ``summary["workers"]``."""
    try:
        from coursekit.grading.cluster import ClusterGrader
    except ImportError as error:
        raise ValueError("--cluster needs Dask's distributed, the cluster extra: pip "
                         f"install -c constraints.txt -e '.[cluster]' ({error})") from None
    grader = ClusterGrader(address, security=security, retries=retries, quiet=quiet)
    keys = {job["name"]: key for key, job in jobs}
    todo = [(job["name"], Path(job["submission"])) for _, job in jobs]
    for name, run in grader.run(bundle, todo, limits, worker_timeout):
        yield keys[name], run if isinstance(run, dict) else _failed_run(run)
    summary["workers"] = grader.throughput()


def answer_cells(release: dict, path: Path) -> dict[str, str]:
    """``{answer cell id: the student's source}`` as grading pastes them (empty if unreadable)."""
    try:
        notebook, _ = rebuild(release, read_submission(Path(path)))
    except (SubmissionError, OSError):
        return {}
    return {c["metadata"]["coursekit"]["id"]: c["source"] for c in notebook["cells"]
            if c["metadata"]["coursekit"]["kind"] == "answer"}


def _robust_z(value: float, similarity: dict) -> str:
    if similarity["robust_sd"] <= 0:
        return "far"
    return f"{(value - similarity['median']) / similarity['robust_sd']:.1f} robust sd"


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _timed(record: dict, student: str, submitted, policy) -> dict:
    """``record`` with the student's name, submission time, lateness and penalty."""
    from coursekit.grading import deadlines

    late, seconds, penalty = policy.assess(submitted)
    raw = record["score"] if "raw_score" not in record else record["raw_score"]
    return {**record, "student": student, "submitted_at": deadlines.utc(submitted),
            "late": late, "late_seconds": seconds, "penalty": penalty, "raw_score": raw,
            "score": round(raw * (1 - penalty), 6)}


def grade(assignment: str, submissions: Path, out: Path, bundle: Path | None = None,
          workers: int | None = None, timeout: float = 60.0, memory_mb: int = 3072,
          force: bool = False, quiet: bool = False, only: str | None = None,
          roster: Path | None = None, due=None, grace=None, late_penalty=None, late_cap=None,
          timestamps: Path | None = None, times_from_files: bool = False,
          policy: str | None = None, overrides=(), manual: Path | None = None,
          export_manual: Path | None = None, manual_questions=(), cluster: str | None = None,
          cluster_security: Path | None = None, cluster_retries: int = 2) -> dict:
    """Grade every submission in ``submissions`` into ``out``; returns a summary.

    Make jobs → run them (``run_local``: a pool of grader processes) → ``score_run`` →
    record in the gradebook; then derive every export from the gradebook.
    ``only``: grade that one student (by name as submitted or folder name), always afresh;
    everyone else keeps their grades. Deadlines (``due``, ``grace``, ``late_penalty``,
    ``late_cap``, ``policy``) override ``grading.toml`` in the submissions folder;
    ``overrides``: ``(student, question, score, reason)`` tuples; ``manual``: a
    ``student,question,score,comment`` CSV of hand-graded scores (blank scores skipped);
    ``export_manual``: a folder for the answers graded by hand (``manual.py``).
    ``cluster``: the address of a Dask scheduler (``tcp://HOST:PORT``, ``tls://...`` with
    ``cluster_security``) whose workers run the grader processes instead of the local pool
    (``run_cluster``; ``workers`` is then unused; ``cluster_retries`` tries per submission
    when a worker dies).
    """
    from coursekit.grading import deadlines, integrity
    from coursekit.grading.gradebook import POLICIES, Gradebook, nfc
    from coursekit.grading.report import write_exports, write_grades_table

    started = time.monotonic()
    bundle_dir = Path(bundle) if bundle else DEFAULT_BUNDLE_ROOT / assignment
    data = load_bundle(bundle_dir)
    if data["assignment"] != assignment:
        raise ValueError(f"the bundle in {bundle_dir} is for {data['assignment']!r}, "
                         f"not {assignment!r}")
    workers = (os.cpu_count() or 1) if workers is None else workers
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    submissions = Path(submissions)
    config = deadlines.load_config(submissions) if submissions.is_dir() else {}
    late_policy = deadlines.make_policy(config, due, grace, late_penalty, late_cap)
    policy = policy or config.get("policy") or POLICIES[0]
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    times_file = Path(timestamps) if timestamps else submissions / deadlines.TIMESTAMPS_FILE
    times = deadlines.read_timestamps(times_file) if times_file.is_file() else {}
    roster_rows = None
    if roster:
        from coursekit.grading.report import read_roster

        roster_rows = read_roster(Path(roster))
    limits = sandbox.Limits(timeout=timeout, memory_mb=memory_mb)
    question_ids = [q["id"] for q in data["questions"]]
    extra_scores = [(s, q, float(v), r, "override") for s, q, v, r in overrides]
    if manual:
        with open(manual, newline="", encoding="utf-8-sig") as handle:
            for number, row in enumerate(csv.DictReader(handle), 2):
                if not (row.get("score") or "").strip():  # not graded yet
                    continue
                try:
                    extra_scores.append((row["student"], row["question"], float(row["score"]),
                                         row.get("comment") or "graded by hand", "manual"))
                except (KeyError, TypeError, ValueError):
                    raise ValueError(f"{manual} line {number}: expected "
                                     "student,question,score,comment") from None
    for student, question, *_ in extra_scores:
        if question not in question_ids:
            raise ValueError(f"override of {student}: no question {question!r} in "
                             f"{assignment} (questions: {', '.join(question_ids)})")
    subs, rejected = scan_submissions(submissions, assignment)
    if only is not None:
        chosen = [s for s in subs if s[0] == nfc(only) or s[1] == only]
        if not chosen:
            raise ValueError(f"--only {only}: no such submission in {submissions} "
                             f"({len(subs)} found, e.g. {', '.join(s[0] for s in subs[:3])})")
        subs = chosen
    policy_text = (f"{policy} (the latest version submitted on time counts; if none is on "
                   "time, the latest, with its penalty)" if policy == "latest-on-time" else
                   f"{policy} (the latest version counts, with its penalty if late)") + \
        f"; {late_policy.describe()}"
    out = Path(out)
    with Gradebook(out, assignment) as book:  # first: a second run stops here, in one line
        missing = sandbox.missing_protections(sandbox.capabilities())
        if missing and not quiet and cluster is None:  # on a cluster each worker reports its own
            print("coursekit grade: warning: weaker sandbox on this machine: "
                  + "; ".join(missing), file=sys.stderr)
        run_id = book.start_run(_sha256(bundle_dir / BUNDLE_FILE), {
            "submissions": str(submissions), "limits": vars(limits), "only": only,
            "force": force, "policy": policy, "late": late_policy.as_dict()})
        book.add_rejected(run_id, rejected)
        for student, question, value, reason, source in extra_scores:
            book.add_override(run_id, student, question, value, reason, source)
        todo, skipped, rescored = [], 0, 0
        for name, safe, path in subs:
            mark = fingerprint(path, bundle_dir, limits)
            submitted = deadlines.file_time(path) if times_from_files else times.get(name)
            previous = None if (force or only is not None) else book.find(name, mark)
            if previous is None:
                todo.append((name, safe, path, mark, submitted))
                continue
            if submitted is None and previous["submitted_at"]:  # unknown now: keep the known
                submitted = datetime.fromisoformat(previous["submitted_at"])
            record = _timed(previous["record"], name, submitted, late_policy)
            record.pop("overrides", None)
            if (record["submitted_at"], record["penalty"]) == (
                    previous["submitted_at"], previous["penalty"]):
                skipped += 1
            else:  # same file, new time or late policy: re-scored, not re-run
                book.add_grading(run_id, {**record, "submission": safe},
                                 sha256=previous["sha256"], answers=previous["answers"],
                                 reused_from=previous["id"])
                rescored += 1
        n_code = sum(1 for c in data["release"]["cells"] if c["cell_type"] == "code")
        worker_timeout = (timeout * (1 + len(question_ids)) + 20) * (n_code + len(question_ids) + 1)
        jobs = [(i, grading_job(data, item[2], item[1], limits)) for i, item in enumerate(todo)]
        write_grades_table(out, book.counted(policy), question_ids)
        extra: dict = {}
        runs = (run_local(jobs, workers, worker_timeout) if cluster is None else
                run_cluster(jobs, cluster, cluster_security, cluster_retries, limits, data,
                            worker_timeout, quiet, extra))
        for index, run in runs:
            name, safe, path, mark, submitted = todo[index]
            record = score_run(data, safe, path, run, mark)
            answers = answer_cells(data["release"], path)
            record["flags"] = integrity.submission_flags(data["questions"], answers,
                                                         data["release"])
            record = _timed(record, name, submitted, late_policy)
            book.add_grading(run_id, record, sha256=_sha256(path), answers=answers)
            write_grades_table(out, book.counted(policy), question_ids)
            if not quiet:
                print(f"  {name}: {record['score']:.4g}/{record['max_score']:.4g}",
                      file=sys.stderr)
        counted = book.counted(policy)
        similarity = integrity.similar_pairs(
            {c.student: c.grading["answers"] for c in counted if c.grading["answers"]},
            data["release"])
        book.add_flags(run_id, [
            {"kind": "similar", "student": ", ".join(members),
             "detail": f"{len(members)} submissions with similar answer code (pairwise "
                       f"{low:.2f}–{high:.2f}, {_robust_z(low, similarity)} above the class "
                       f"median {similarity['median']:.2f}; flagged from "
                       f"{similarity['threshold']:.2f})"}
            for members, low, high in integrity.groups(similarity["flagged"])])
        paths = write_exports(out, book, assignment, policy, policy_text, roster_rows,
                              similarity)
        if export_manual:
            from coursekit.grading.manual import export_manual as write_manual

            paths["manual"] = Path(export_manual)
            write_manual(Path(export_manual), data, book.counted(policy), list(manual_questions))
        book.finish_run(run_id)
    return {"graded": len(todo), "skipped": skipped, "rescored": rescored,
            "submissions": len(subs), "rejected": [f for f, _ in rejected],
            "seconds": time.monotonic() - started, "grades_csv": str(paths["grades"]),
            "run": run_id, "similarity": similarity, **extra,
            **{k: str(v) for k, v in paths.items()}}


def main(argv=None) -> None:
    """Grader-process entry: ``python -m coursekit.grading.grade JOB.json RESULT.json``.

    Runs the submission of the job (``grading_job``) and writes what ``run_submission``
    returns to RESULT.json (atomically); scoring is the caller's.
    """
    argv = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    result = run_submission(job)
    atomic_write(Path(argv[1]), json.dumps(result, allow_nan=False))


if __name__ == "__main__":
    main()
