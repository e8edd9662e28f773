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
ever holding what a student must not see. The main process rebuilds ``grades.csv``
after every finished submission. Re-running is idempotent: a submission whose file,
bundle and limits are unchanged keeps its results (``force=True`` regrades).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from coursekit.grading import sandbox, supervisor
from coursekit.grading.assign import BUNDLE_FILE, DEFAULT_BUNDLE_ROOT, load_bundle, plan_of
from coursekit.grading.engine import execute
from coursekit.grading.notebook import SubmissionError, read_submission, rebuild
from coursekit.grading.report import atomic_write, read_record, write_grades_csv, write_submission
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
SAFE_NAME = re.compile(r"[^A-Za-z0-9_.@+-]")


def find_submissions(folder: Path, assignment: str) -> list[tuple[str, Path]]:
    """``(submission name, notebook path)`` for ``DIR/<name>.ipynb`` and ``DIR/<name>/*.ipynb``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"submissions folder {folder} does not exist")
    found = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == ".ipynb":
            found[entry.stem] = entry
        elif entry.is_dir():
            notebooks = sorted(p for p in entry.rglob("*.ipynb")
                               if ".ipynb_checkpoints" not in p.parts)
            if notebooks:
                named = [p for p in notebooks if p.stem == assignment]
                found.setdefault(entry.name, (named or notebooks)[0])
    result = []
    for name, path in found.items():
        safe = SAFE_NAME.sub("_", name)[:100] or "submission"
        while safe in {n for n, _ in result}:
            safe += "_"
        result.append((safe, path))
    return result


def flag_suspicious(notebook: dict) -> list[str]:
    """Lines of answer cells that deserve a human look (not a verdict)."""
    flags = []
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("coursekit", {})
        if cell.get("cell_type") != "code" or meta.get("kind") != "answer":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for number, line in enumerate(source.splitlines(), 1):
            for pattern, reason in _SUSPICIOUS:
                if pattern.search(line):
                    flags.append(f"{meta.get('id')} line {number}: {reason}: "
                                 f"`{line.strip()[:100]}`")
    return flags


def fingerprint(submission: Path, bundle_dir: Path, limits: sandbox.Limits) -> str:
    digest = hashlib.sha256()
    for path in (submission, Path(bundle_dir) / BUNDLE_FILE):
        digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
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
        cells = read_submission(Path(job["submission"]))
        notebook, notes = rebuild(job["release"], cells)
        result["notes"] += notes
    except (SubmissionError, OSError) as reason:
        result["error"] = f"unreadable submission: {reason}"
        return result
    result["suspicious"] = flag_suspicious(notebook)
    uid = sandbox.SANDBOX_UID_BASE + os.getpid()
    run = execute(notebook, job["plan"], limits, sandboxed=True, caps=caps, uid=uid)
    code_ids = [c["metadata"]["coursekit"]["id"] for c in notebook["cells"]
                if c["cell_type"] == "code"]
    result["cell_errors"] = [f"{code_ids[i]}: {message}" for i, message in
                             sorted(run.cell_errors.items()) if i < len(code_ids)]
    result["notes"] += [_name_cells(note, code_ids) for note in run.notes]
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


def _name_cells(note: str, code_ids: list[str]) -> str:
    def replace(match):
        index = int(match.group(1)) - 1
        return code_ids[index] if 0 <= index < len(code_ids) else match.group(0)

    return re.sub(r"code cell (\d+)", lambda m: f"cell {replace(m)}", note)


def _worker_command(job_file: Path, result_file: Path) -> list[str]:
    return [sys.executable, "-m", "coursekit.grading.grade", str(job_file), str(result_file)]


def grade(assignment: str, submissions: Path, out: Path, bundle: Path | None = None,
          workers: int | None = None, timeout: float = 60.0, memory_mb: int = 3072,
          force: bool = False, quiet: bool = False, cluster: str | None = None,
          cluster_security: Path | None = None, cluster_retries: int = 2) -> dict:
    """Grade every submission in ``submissions`` into ``out``; returns a summary.

    ``cluster``: the address of a Dask scheduler (``tcp://HOST:PORT``, ``tls://...`` with
    ``cluster_security``) whose workers run the grader processes instead of the local pool
    (``coursekit.grading.cluster``; ``workers`` is then unused).
    """
    started = time.monotonic()
    bundle_dir = Path(bundle) if bundle else DEFAULT_BUNDLE_ROOT / assignment
    data = load_bundle(bundle_dir)
    if data["assignment"] != assignment:
        raise ValueError(f"the bundle in {bundle_dir} is for {data['assignment']!r}, "
                         f"not {assignment!r}")
    workers = (os.cpu_count() or 1) if workers is None else workers
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    limits = sandbox.Limits(timeout=timeout, memory_mb=memory_mb)
    missing = sandbox.missing_protections(sandbox.capabilities())
    if missing and not quiet and cluster is None:  # on a cluster each worker reports its own
        print("coursekit grade: warning: weaker sandbox on this machine: " + "; ".join(missing),
              file=sys.stderr)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    subs = find_submissions(submissions, assignment)
    names = [name for name, _ in subs]
    todo, skipped = [], 0
    for name, path in subs:
        mark = fingerprint(path, bundle_dir, limits)
        previous = read_record(out, name)
        if not force and previous is not None and previous.get("fingerprint") == mark:
            skipped += 1
        else:
            todo.append((name, path, mark))
    n_code = sum(1 for c in data["release"]["cells"] if c["cell_type"] == "code")
    n_questions = len(data["questions"])
    worker_timeout = (timeout * (1 + n_questions) + 20) * (n_code + n_questions + 1)
    with tempfile.TemporaryDirectory(prefix="coursekit-grade-") as jobs_dir:
        def run_worker(item):
            name, path, mark = item
            job = Path(jobs_dir) / f"{name}.json"
            result_file = Path(jobs_dir) / f"{name}.result.json"
            job.write_text(json.dumps(grading_job(data, path, name, limits)))
            worker = subprocess.Popen(_worker_command(job, result_file), stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                _, stderr = worker.communicate(timeout=worker_timeout)
                problem = None if worker.returncode == 0 else (
                    f"grader error (exit {worker.returncode}): "
                    f"{stderr.decode('utf-8', 'replace').strip().splitlines()[-1:]}")
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.communicate()
                problem = f"grader error: grading took longer than {worker_timeout:.0f} s"
            if worker.returncode != 0 and sandbox.capabilities()["root"]:
                # the worker could not clean up after its sandbox: do it for it
                supervisor.kill_uid(sandbox.SANDBOX_UID_BASE + worker.pid)
            if problem is None:
                try:
                    run = json.loads(result_file.read_text(encoding="utf-8"))
                except (OSError, ValueError) as error:
                    problem = f"grader error: no readable result from the grader process ({error})"
            if problem is not None:
                record = build_record(data, name, path, {}, problem,
                                      {"fingerprint": "", "notes": [], "suspicious": []})
            else:
                record = score_run(data, name, path, run, mark)
            write_submission(out, record)
            return name

        write_grades_csv(out, names)
        if cluster is not None:  # the same grader processes, on the workers of a Dask cluster
            try:
                from coursekit.grading.cluster import ClusterGrader
            except ImportError as error:
                raise ValueError("--cluster needs Dask's distributed, the cluster extra: pip "
                                 f"install -c constraints.txt -e '.[cluster]' ({error})") from None
            grader = ClusterGrader(cluster, security=cluster_security, retries=cluster_retries,
                                   quiet=quiet)
            where = {name: (path, mark) for name, path, mark in todo}
            for name, run in grader.run(data, [(n, p) for n, p, _ in todo], limits,
                                        worker_timeout):
                path, mark = where[name]
                record = score_run(data, name, path, run, mark) if isinstance(run, dict) else \
                    build_record(data, name, path, {}, run,
                                 {"fingerprint": "", "notes": [], "suspicious": []})
                write_submission(out, record)
                write_grades_csv(out, names)
                grader.write(f"  {name}: {record['score']:.4g}/{record['max_score']:.4g}")
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(run_worker, item) for item in
                       (todo if cluster is None else [])]
            for future in as_completed(futures):
                name = future.result()
                write_grades_csv(out, names)
                if not quiet:
                    record = read_record(out, name)
                    score = f"{record['score']:.4g}/{record['max_score']:.4g}" if record else "?"
                    print(f"  {name}: {score}", file=sys.stderr)
    return {"graded": len(todo), "skipped": skipped, "submissions": len(subs),
            "seconds": time.monotonic() - started,
            "grades_csv": str(write_grades_csv(out, names)),
            **({"workers": grader.throughput()} if cluster is not None else {})}


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
