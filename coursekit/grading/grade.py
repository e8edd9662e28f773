"""``coursekit grade``: grade a folder of submissions, in parallel, in sandboxes.

Each submission is graded by its own grader process (``python -m
coursekit.grading.grade JOB.json``), so a crash while grading one never touches
another; up to ``workers`` of them run at once. A grader process:

1. reads the submission (unreadable → 0 points with the reason), rebuilds the
   release notebook with only the student's answer cells (``notebook.rebuild``);
2. becomes a child subreaper and runs the notebook in a sandboxed child under a
   uid of its own (``engine.execute`` → ``runner`` + ``sandbox`` + ``supervisor``);
3. scores each outcome against the bundle's expected values (which never leave
   this process), flags suspicious code, writes ``feedback.md`` and
   ``results.json`` atomically.

The main process rebuilds ``grades.csv`` after every finished submission.
Re-running is idempotent: a submission whose file, bundle and limits are unchanged
keeps its results (``force=True`` regrades).
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
from coursekit.grading.check import EXERCISE_SUFFIX
from coursekit.grading.engine import execute
from coursekit.grading.notebook import SubmissionError, read_submission, rebuild
from coursekit.grading.report import read_record, write_grades_csv, write_submission
from coursekit.grading.scoring import score_test

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
                # the exercise's name (NAME_exercises.ipynb), else its name before the rename
                named = [p for stem in (assignment + EXERCISE_SUFFIX, assignment)
                         for p in notebooks if p.stem == stem]
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


def grade_one(bundle_dir: Path, submission: Path, name: str, out: Path,
              limits: sandbox.Limits, print_fingerprint: str = "") -> dict:
    """Grade one submission and write its results (runs in its own grader process)."""
    supervisor.set_subreaper()
    bundle = load_bundle(bundle_dir)
    caps = sandbox.capabilities()
    extra = {"fingerprint": print_fingerprint, "notes": [], "cell_errors": [], "suspicious": [],
             "warnings": [], "runs": 0}
    try:
        cells = read_submission(submission)
        notebook, notes = rebuild(bundle["release"], cells)
        extra["notes"] += notes
    except (SubmissionError, OSError) as reason:
        record = build_record(bundle, name, submission, {}, f"unreadable submission: {reason}",
                              extra)
        write_submission(out, record)
        return record
    extra["suspicious"] = flag_suspicious(notebook)
    uid = sandbox.SANDBOX_UID_BASE + os.getpid()
    run = execute(notebook, plan_of(bundle["questions"]), limits, sandboxed=True, caps=caps,
                  uid=uid)
    code_ids = [c["metadata"]["coursekit"]["id"] for c in notebook["cells"]
                if c["cell_type"] == "code"]
    extra["cell_errors"] = [f"{code_ids[i]}: {message}" for i, message in
                            sorted(run.cell_errors.items()) if i < len(code_ids)]
    extra["notes"] += [_name_cells(note, code_ids) for note in run.notes]
    extra["warnings"] = run.warnings
    extra["runs"] = run.runs
    record = build_record(bundle, name, submission, run.outcomes, None, extra)
    write_submission(out, record)
    return record


def _name_cells(note: str, code_ids: list[str]) -> str:
    def replace(match):
        index = int(match.group(1)) - 1
        return code_ids[index] if 0 <= index < len(code_ids) else match.group(0)

    return re.sub(r"code cell (\d+)", lambda m: f"cell {replace(m)}", note)


def _worker_command(job_file: Path) -> list[str]:
    return [sys.executable, "-m", "coursekit.grading.grade", str(job_file)]


def grade(assignment: str, submissions: Path, out: Path, bundle: Path | None = None,
          workers: int | None = None, timeout: float = 60.0, memory_mb: int = 3072,
          force: bool = False, quiet: bool = False) -> dict:
    """Grade every submission in ``submissions`` into ``out``; returns a summary."""
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
    if missing and not quiet:
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
            job.write_text(json.dumps({"bundle": str(bundle_dir.resolve()),
                                       "submission": str(Path(path).resolve()), "name": name,
                                       "out": str(out.resolve()), "limits": vars(limits),
                                       "fingerprint": mark}))
            worker = subprocess.Popen(_worker_command(job), stdin=subprocess.DEVNULL,
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
            if problem is not None:
                record = build_record(data, name, path, {}, problem,
                                      {"fingerprint": "", "notes": [], "suspicious": []})
                write_submission(out, record)
            return name

        write_grades_csv(out, names)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(run_worker, item) for item in todo]
            for future in as_completed(futures):
                name = future.result()
                write_grades_csv(out, names)
                if not quiet:
                    record = read_record(out, name)
                    score = f"{record['score']:.4g}/{record['max_score']:.4g}" if record else "?"
                    print(f"  {name}: {score}", file=sys.stderr)
    return {"graded": len(todo), "skipped": skipped, "submissions": len(subs),
            "seconds": time.monotonic() - started,
            "grades_csv": str(write_grades_csv(out, names))}


def main(argv=None) -> None:
    """Grader-process entry: ``python -m coursekit.grading.grade JOB.json``."""
    argv = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(argv[0]).read_text())
    grade_one(Path(job["bundle"]), Path(job["submission"]), job["name"], Path(job["out"]),
              sandbox.Limits(**job["limits"]), job["fingerprint"])


if __name__ == "__main__":
    main()
