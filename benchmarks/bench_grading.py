"""Time `coursekit grade` on chapter-01 submissions: local pool and a local Dask cluster.

    .venv/bin/python benchmarks/bench_grading.py [--submissions 200] [--workers 2]
                                                 [--runners local,cluster]

The submissions are the honest, varied ones of the grading tests (reference
answers, other correct answers, wrong answers, lost metadata, reordered cells);
every one is graded in the full sandbox. The same submissions are graded by the
local pool (``--workers`` grader processes at once) and by a Dask cluster of
``--workers`` workers of one thread each (a scheduler and workers started here as
separate processes on 127.0.0.1, ``dask worker --no-nanny``; their start is not
timed, the client's connection and version handshake are). Prints and saves
(benchmarks/results/grading.json, one row per runner and size) the wall time, seconds
per submission, throughput, the CPU seconds per submission of every process involved
(grader processes, workers, scheduler, this coordinator), and the cluster's overhead per
submission over the local pool (goal: at most 10 %). The goal of the local pool: 100
submissions in under 3 minutes.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from grading_support import honest_submissions, make_bundle, read_grades  # noqa: E402
from results_table import RESULTS, save_table  # noqa: E402

from coursekit.grading import sandbox  # noqa: E402
from coursekit.grading.grade import grade  # noqa: E402

GOAL_SECONDS = 180.0  # for 100 submissions, local pool
GOAL_OVERHEAD = 0.10  # cluster over local, per submission
COLUMNS = ["submissions", "runner", "workers", "wall s", "wall s per submission",
           "submissions/min", "CPU s per submission", "grades as expected"]


def _cpu() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _cpu_of(pids: list[int]) -> float:
    """CPU seconds the processes ``pids`` (and their finished children) used so far."""
    import psutil

    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system + times.children_user + times.children_system
    return total


def _run(runner: str, root: Path, paths: dict, expected: dict, workers: int) -> dict:
    out = root / f"out-{runner}"
    cluster, options, startup = None, {"workers": workers}, 0.0
    cpu = _cpu()
    if runner == "cluster":
        from test_grading_cluster import Cluster  # the tests' scheduler + workers

        (root / "dask").mkdir()
        cluster = Cluster(root / "dask")
        for k in range(workers):
            cluster.add_worker(f"w{k + 1}")
        cluster.wait_for({f"w{k + 1}" for k in range(workers)})
        options = {"cluster": cluster.address}
        startup = _cpu_of([p.pid for p in cluster.processes.values()])
    try:
        start = time.perf_counter()
        summary = grade("01_linear_models", root / "submissions", out, bundle=paths["bundle"],
                        timeout=60, quiet=True, **options)
        seconds = time.perf_counter() - start
    finally:
        if cluster is not None:
            cluster.stop()  # the workers' CPU (and their grader processes') is counted then
    cpu = _cpu() - cpu - startup  # the cluster's start (not timed in wall) is not counted
    grades = read_grades(out)
    correct = sum(grades.get(name) == points for name, points in expected.items())
    graded = max(1, summary["graded"])
    return {"runner": runner, "seconds": seconds, "graded": summary["graded"],
            "per_submission": seconds / graded, "per_minute": 60 * graded / seconds,
            "cpu_per_submission": cpu / graded, "correct": correct,
            "workers": summary.get("workers"), "startup_cpu": startup}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runners", default="local,cluster",
                        help="comma-separated: local (the process pool), cluster (Dask)")
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args(argv)
    runners = [r.strip() for r in args.runners.split(",") if r.strip()]
    if not set(runners) <= {"local", "cluster"}:
        parser.error(f"--runners takes local and/or cluster, got {args.runners!r}")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = Path(tmp)
        paths = make_bundle(root)
        expected = honest_submissions(paths["release"], root / "submissions", args.submissions)
        for runner in runners:
            results.append(_run(runner, root, paths, expected, args.workers))
    caps = sandbox.capabilities()
    protections = "netns+tmpfs+uid drop" if caps["root"] else "no root protections"
    protections += ", Landlock" if caps["landlock"] else ", no Landlock"
    rows = [[args.submissions, r["runner"], args.workers, round(r["seconds"], 1),
             round(r["per_submission"], 3), round(r["per_minute"], 1),
             round(r["cpu_per_submission"], 3), f"{r['correct']}/{len(expected)}"]
            for r in results]
    print(f"grading benchmark (chapter 01, {args.submissions} submissions, {protections})")
    widths = [max(len(str(c)), *(len(str(row[i])) for row in rows)) for i, c in
              enumerate(COLUMNS)]
    print(" | ".join(f"{c:>{w}}" for c, w in zip(COLUMNS, widths)))
    for row in rows:
        print(" | ".join(f"{str(v):>{w}}" for v, w in zip(row, widths)))
    by = {r["runner"]: r for r in results}
    notes = [f"sandbox: {protections}; goal: 100 submissions on the local pool in < "
             f"{GOAL_SECONDS:.0f} s; cluster overhead per submission ≤ {GOAL_OVERHEAD:.0%}"]
    status = 0
    if "local" in by and "cluster" in by:
        wall = by["cluster"]["per_submission"] / by["local"]["per_submission"] - 1
        cpu = by["cluster"]["cpu_per_submission"] / by["local"]["cpu_per_submission"] - 1
        line = (f"N={args.submissions}: cluster overhead per submission: wall "
                f"{wall:+.1%} ({by['cluster']['per_submission'] - by['local']['per_submission']:+.3f}"
                f" s), CPU {cpu:+.1%} — goal ≤ {GOAL_OVERHEAD:.0%}: "
                f"{'met' if wall <= GOAL_OVERHEAD else 'MISSED'} (wall)")
        print(line)
        notes.append(line)
    if by.get("cluster", {}).get("workers"):
        line = (f"N={args.submissions}: starting the scheduler and {args.workers} workers "
                f"took {by['cluster']['startup_cpu']:.1f} CPU s (not counted above)")
        print(line)
        notes.append(line)
        line = f"N={args.submissions}: per cluster worker: " + "; ".join(
            f"{w['submissions']} submissions, {w['per_minute']:.1f}/min, "
            f"{w['seconds_each']:.2f} s each" for w in by["cluster"]["workers"].values())
        print(line)
        notes.append(line)
    if any(r["correct"] != len(expected) for r in results):
        status = 1
    if not args.no_save:
        previous = RESULTS / "grading.json"
        kept = []
        if previous.exists():  # keep the rows of other sizes and runners
            measured = {(row[0], row[1]) for row in rows}
            old = json.loads(previous.read_text(encoding="utf-8"))
            if old.get("columns") == COLUMNS:
                kept = [row for row in old["rows"] if (row[0], row[1]) not in measured]
                notes += [n for n in old.get("notes", "").split("\n")
                          if n.startswith("N=") and not n.startswith(f"N={args.submissions}:")]
        save_table("grading", "Grading throughput: local pool and a local Dask cluster "
                   "(chapter 01, full sandbox)", COLUMNS,
                   sorted(kept + rows, key=lambda row: (row[0], row[1])),
                   notes="\n".join(notes))
    return status


if __name__ == "__main__":
    sys.exit(main())
