"""Time `coursekit grade` on 100 chapter-01 submissions with 2 workers (goal: < 3 minutes).

    .venv/bin/python benchmarks/bench_grading.py [--submissions 100] [--workers 2]

The submissions are the honest, varied ones of the grading tests (reference
answers, other correct answers, wrong answers, lost metadata, reordered cells);
every one is graded in the full sandbox. Prints a results table: wall time,
seconds per submission, throughput, and whether every grade came out as expected.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from grading_support import honest_submissions, make_bundle, read_grades  # noqa: E402

from coursekit.grading import sandbox  # noqa: E402
from coursekit.grading.grade import grade  # noqa: E402

GOAL_SECONDS = 180.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = Path(tmp)
        paths = make_bundle(root)
        expected = honest_submissions(paths["release"], root / "submissions", args.submissions)
        start = time.perf_counter()
        summary = grade("01_linear_models", root / "submissions", root / "out",
                        bundle=paths["bundle"], workers=args.workers, timeout=60, quiet=True)
        seconds = time.perf_counter() - start
        grades = read_grades(root / "out")
    correct = sum(grades.get(name) == points for name, points in expected.items())
    caps = sandbox.capabilities()
    protections = "netns+tmpfs+uid drop" if caps["root"] else "no root protections"
    protections += ", Landlock" if caps["landlock"] else ", no Landlock"
    rows = [
        ("submissions graded", f"{summary['graded']}"),
        ("workers", f"{args.workers}"),
        ("sandbox", protections),
        ("wall time", f"{seconds:.1f} s"),
        ("wall time per submission", f"{seconds / max(1, summary['graded']):.2f} s"),
        ("throughput", f"{60 * summary['graded'] / seconds:.0f} submissions/min"),
        ("grades as expected", f"{correct}/{len(expected)}"),
        ("goal", f"< {GOAL_SECONDS:.0f} s: {'met' if seconds < GOAL_SECONDS else 'MISSED'}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'grading benchmark (chapter 01)':<{width}} | value")
    print(f"{'-' * width}-+-{'-' * 28}")
    for name, value in rows:
        print(f"{name:<{width}} | {value}")
    return 0 if correct == len(expected) else 1


if __name__ == "__main__":
    sys.exit(main())
