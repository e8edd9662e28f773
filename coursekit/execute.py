"""Re-execute notebooks in place and store their outputs (``make execute``).

    python -m coursekit.execute notebooks/01_linear_models.ipynb [...]

Each notebook runs in a fresh kernel of this Python, in its own folder,
single-threaded (as `make test` runs it), with widget state saved so the
website can show the frozen widgets. The time per
notebook is printed (the course's budget is 60 s each on two CPU cores).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute_notebook(path, timeout: int = 600, kernel_name: str = "python3") -> float:
    """Execute the notebook at ``path`` in place; return the seconds it took."""
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(path.parent.resolve())}},
                            store_widget_state=True)
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nbformat.write(notebook, path)
    return seconds


SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def main(argv=None) -> int:
    # Stored outputs are computed single-threaded, as `make test` recomputes them.
    for name, value in SINGLE_THREAD.items():
        os.environ.setdefault(name, value)
    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print("usage: python -m coursekit.execute NOTEBOOK.ipynb [...]", file=sys.stderr)
        return 2
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"{path}: executing ...", flush=True)
        print(f"{path}: {execute_notebook(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
