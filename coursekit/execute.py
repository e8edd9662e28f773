"""Re-execute notebooks in place and store their outputs (``make execute``).

    python -m coursekit.execute notebooks/01_linear_models.ipynb [...]

Each notebook runs in a fresh kernel of this Python, in its own folder, on one
thread with this machine's own CPU code paths (``coursekit.utils.execution_env``;
``make test`` re-executes with other code paths forced), with widget state saved
so the website can show the frozen widgets. The time per notebook is printed
(the course's budget is 60 s each on one thread, in make test's configuration).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from coursekit.utils import CODE_PATHS, environment_for


def execute_notebook(path, timeout: int = 600, kernel_name: str = "python3",
                     code_paths: str = "native") -> float:
    """Execute the notebook at ``path`` in place; return the seconds it took.

    The kernel runs in ``coursekit.utils.environment_for(code_paths)``: one thread, and
    for ``"forced"`` the CPU code paths ``make test`` uses.
    """
    env = environment_for(code_paths)
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(path.parent.resolve())}},
                            store_widget_state=True)
    start = time.perf_counter()
    client.execute(env=env)
    # What JupyterLab writes on save under this Python, so opening a stored notebook and
    # saving it changes nothing (language_info comes from the kernel, as in JupyterLab).
    notebook.metadata["kernelspec"] = _kernelspec(kernel_name)
    seconds = time.perf_counter() - start
    nbformat.write(notebook, path)
    return seconds


def _kernelspec(kernel_name: str) -> dict:
    from jupyter_client.kernelspec import get_kernel_spec

    spec = get_kernel_spec(kernel_name)
    return {"display_name": spec.display_name, "language": spec.language, "name": kernel_name}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursekit.execute",
        description="Re-execute notebooks in place and store their outputs (make execute).")
    parser.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK.ipynb")
    parser.add_argument("--code-paths", choices=CODE_PATHS, default="native",
                        help="CPU code paths of the kernel (default native: stored outputs "
                             "are made with this machine's own; make test forces others)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        print(f"no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    for path in args.notebooks:
        print(f"{path}: executing ...", flush=True)
        seconds = execute_notebook(path, code_paths=args.code_paths)
        print(f"{path}: {seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
