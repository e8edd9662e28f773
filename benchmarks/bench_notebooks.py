"""Time each lecture notebook, executed from scratch in a fresh kernel.

    .venv/bin/python benchmarks/bench_notebooks.py [--native] [NOTEBOOK ...]

The course's budget is 60 s per notebook (90 s at most) in make test's
configuration: one thread, CPU code paths forced (``--native``: this machine's
own). The notebooks are executed into a temporary copy: the stored outputs are
untouched.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from coursekit.execute import execute_notebook

BUDGET_S, LIMIT_S = 60.0, 90.0


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[1]
    code_paths = "native" if "--native" in argv else "forced"
    argv = [a for a in argv if a != "--native"]
    paths = [Path(p) for p in argv] or sorted((root / "notebooks").glob("*.ipynb"))
    print(f"code paths: {code_paths}, one thread")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            copy = Path(tmp) / path.name
            shutil.copy(path, copy)
            seconds = execute_notebook(copy, code_paths=code_paths)
            verdict = "ok" if seconds <= BUDGET_S else ("over budget" if seconds <= LIMIT_S else "TOO SLOW")
            rows.append((path.name, seconds, verdict))
            print(f"{path.name:45s} {seconds:6.1f} s  {verdict}", flush=True)
    total = sum(seconds for _, seconds, _ in rows)
    print(f"{'total':45s} {total:6.1f} s")
    return 1 if any(verdict == "TOO SLOW" for *_, verdict in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
