"""``coursekit release``: the tree students get, for instructors who grade for credit.

A copy of the repository's tracked files (``git ls-files``, like ``git archive``) minus
what must stay with the instructor:

- ``solutions/`` (reference solutions and ``tests.py`` with the hidden tests);
- ``tests/`` and ``benchmarks/bench_grading.py`` (the grading tests hold reference and
  wrong answers to the exercises);
- grading bundles and secrets, wherever they are (``bundle.json``, ``*.secret``,
  ``secret*.txt``; ``build/`` is never tracked);
- any other notebook that still holds a ``### BEGIN SOLUTION`` block with code in it.

What ``make lab`` needs stays: ``Makefile``, ``pyproject.toml``, ``constraints.txt``,
``coursekit/`` (with the public tests in ``coursekit/grading/public/``), ``notebooks/``,
``exercises/``, ``experiments/``, ``book/``.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
from pathlib import Path

EXCLUDED_DIRS = ("solutions/", "tests/", "build/")
EXCLUDED_FILES = ("benchmarks/bench_grading.py",)
EXCLUDED_PATTERNS = ("bundle.json", "*.secret", "secret*.txt", ".coursekit-secret*")
# a solution block with at least one line of code between the markers
_SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION[^\n]*\n(?:\s*\"?,?\s*\n)*\s*\"?[ \t]*[^\s#\"][^\n]*"
                             r"[\s\S]*?### END SOLUTION")


def tracked_files(repo: Path) -> list[str]:
    try:
        listing = subprocess.run(["git", "-C", str(repo), "ls-files", "-z"], check=True,
                                 capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise ValueError(f"{repo} is not a git repository (git ls-files failed: {error}); "
                         "run coursekit release in the course repository") from None
    return sorted(p for p in listing.decode("utf-8").split("\0") if p)


def excluded(path: str) -> str | None:
    """Why ``path`` stays with the instructor, or None."""
    if path.startswith(EXCLUDED_DIRS):
        return path.split("/")[0] + "/"
    if path in EXCLUDED_FILES:
        return path
    name = path.rsplit("/", 1)[-1]
    for pattern in EXCLUDED_PATTERNS:
        if fnmatch.fnmatch(name, pattern):
            return pattern
    return None


def write_release(out: Path, repo: Path = Path(".")) -> dict:
    """Copy the student tree into ``out`` (absent or empty); returns a summary."""
    out, repo = Path(out), Path(repo).resolve()
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty: give a new folder for the release")
    reasons: dict[str, int] = {}
    copied = 0
    for path in tracked_files(repo):
        source = repo / path
        reason = excluded(path)
        if reason is None and path.endswith(".ipynb") and source.is_file():
            try:
                if _SOLUTION_BLOCK.search(source.read_text(encoding="utf-8")):
                    reason = "notebooks with solution blocks"
            except UnicodeDecodeError:
                pass
        if reason is not None:
            reasons[reason] = reasons.get(reason, 0) + 1
            continue
        if not source.is_file():
            continue
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        copied += 1
    os.chmod(out, 0o755)
    return {"files": copied, "excluded": [f"{k} ({v})" for k, v in sorted(reasons.items())]}
