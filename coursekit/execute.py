"""Re-execute notebooks in place and store their outputs (``make execute``).

    python -m coursekit.execute notebooks/01_linear_models.ipynb [...]

Each notebook runs in a fresh kernel of this Python, in its own folder, on one
thread with this machine's own CPU code paths (``coursekit.utils.execution_env``;
``make test`` re-executes with other code paths forced), with widget state saved
so the website can show the frozen widgets. The time per notebook is printed
(the course's budget is 60 s each on one thread, in make test's configuration).

    python -m coursekit.execute --install-cell notebooks/*.ipynb

inserts (or refreshes) the install cell at the top of each notebook instead, without
executing anything: the cell that installs the course where it is missing (Colab, a bare
Jupyter) and does nothing, printing nothing, where it is installed. It is idempotent.

With ``COURSEKIT_FRAMES=1`` in the kernel's environment (set here, never under nbval),
widgets precompute frames of their main controls so that the website can switch them
without a kernel (``coursekit.widgets.base``); a notebook whose metadata says
``{"coursekit": {"frames": false}}`` (the widgets gallery: eleven widgets on one page would
pass the 10 MB page limit) keeps static previews.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from coursekit.utils import CODE_PATHS, environment_for

REPOSITORY = Path(__file__).resolve().parents[1]
#: The tag of the install cell (its source is ``install_cell_source()``).
INSTALL_TAG = "install"
#: Environment variable that makes widgets precompute frames for the website.
FRAMES_ENV = "COURSEKIT_FRAMES"

INSTALL_CELL_TEMPLATE = '''\
# Installs the course where it is missing (Colab, a bare Jupyter) and does nothing otherwise.
# COURSEKIT_SOURCE is what pip installs: the course's repository, a wheel or a local checkout.
import importlib.util, os, subprocess, sys  # noqa: E401
COURSEKIT_SOURCE = os.environ.get("COURSEKIT_SOURCE", "{source}")
def _pip_install(*args):
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *args],
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError("pip install failed:\\n" + done.stdout + done.stderr)
if importlib.util.find_spec("coursekit") is None:
    if importlib.util.find_spec("torch") is None:  # Colab has torch; never the CUDA build
        _pip_install("torch=={torch}", "--index-url", "{torch_index}")
    _pip_install(COURSEKIT_SOURCE)  # the course, without extras
    importlib.invalidate_caches()'''
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def repository_setting(config=None) -> tuple[str, str]:
    """``(url, branch)`` of ``repository:`` in book/_config.yml (the one address setting)."""
    import re

    config = Path(config or REPOSITORY / "book" / "_config.yml")
    text = config.read_text(encoding="utf-8")
    block = re.search(r"^repository:\n((?:[ \t]+.*\n|\s*\n)+)", text, re.M)
    if block is None:
        raise ValueError(f"{config}: no repository: section")
    values = dict(re.findall(r"^[ \t]+(url|branch):[ \t]*(\S+)", block.group(1), re.M))
    return values["url"], values.get("branch", "main")


def pinned_version(name: str, constraints=None) -> str:
    """The ``==`` pin of ``name`` in constraints.txt."""
    for line in Path(constraints or REPOSITORY / "constraints.txt").read_text().splitlines():
        package, _, version = line.split("#")[0].strip().partition("==")
        if package.strip().lower() == name:
            return version.strip()
    raise ValueError(f"{name} is not pinned in constraints.txt")


def install_cell_source(source: str | None = None) -> str:
    """The install cell's code; ``source`` defaults to ``git+URL@BRANCH`` of book/_config.yml."""
    if source is None:
        url, branch = repository_setting()
        source = f"git+{url.rstrip('/')}.git@{branch}"
    return INSTALL_CELL_TEMPLATE.format(source=source, torch=pinned_version("torch"),
                                        torch_index=TORCH_CPU_INDEX)


def ensure_install_cell(notebook, source: str | None = None) -> bool:
    """Put the current install cell first in ``notebook`` (an nbformat node); return whether
    anything changed. An older install cell (tagged ``install``) is replaced, not duplicated."""
    code = install_cell_source(source)
    cells = notebook.cells
    old = [i for i, cell in enumerate(cells)
           if INSTALL_TAG in cell.get("metadata", {}).get("tags", [])]
    if (old == [0] and cells[0].cell_type == "code" and cells[0].source == code
            and not cells[0].get("outputs")):
        return False
    for index in reversed(old):
        del cells[index]
    cell = nbformat.v4.new_code_cell(code)
    # the website does not show it (a page needs no install); nbval compares its (empty) output
    cell.metadata["tags"] = [INSTALL_TAG, "remove-cell"]
    cell.pop("id", None)
    if notebook.nbformat_minor >= 5:
        import uuid

        cell["id"] = uuid.uuid4().hex[:8]
    cells.insert(0, cell)
    return True


def add_install_cells(paths, source: str | None = None) -> list[Path]:
    """Insert/refresh the install cell in each notebook file; return those that changed."""
    changed = []
    for path in map(Path, paths):
        notebook = nbformat.read(path, as_version=4)
        if ensure_install_cell(notebook, source):
            nbformat.write(notebook, path)
            changed.append(path)
    return changed


def execute_notebook(path, timeout: int = 600, kernel_name: str = "python3",
                     code_paths: str = "native") -> float:
    """Execute the notebook at ``path`` in place; return the seconds it took.

    The kernel runs in ``coursekit.utils.environment_for(code_paths)``: one thread, and
    for ``"forced"`` the CPU code paths ``make test`` uses.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    # a page of many widgets (the gallery) opts out of frames with metadata
    # {"coursekit": {"frames": false}}: its static previews keep it under the page budget
    frames = notebook.metadata.get("coursekit", {}).get("frames", True)
    env = {**environment_for(code_paths), **({FRAMES_ENV: "1"} if frames else {})}
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
    parser.add_argument("--install-cell", action="store_true",
                        help="insert or refresh the install cell at the top of each notebook "
                             "(nothing is executed)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        print(f"no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.install_cell:
        changed = add_install_cells(args.notebooks)
        for path in args.notebooks:
            print(f"{path}: {'install cell updated' if path in changed else 'up to date'}")
        return 0
    for path in args.notebooks:
        print(f"{path}: executing ...", flush=True)
        seconds = execute_notebook(path, code_paths=args.code_paths)
        print(f"{path}: {seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
