"""The install cell at the top of every notebook (``python -m coursekit.execute --install-cell``):
it installs the course where it is missing (Colab, a bare Jupyter) — torch's CPU wheel only
when torch is absent, the course without extras — and does nothing, printing nothing, where
the course is installed. Tested for real in a fresh venv (offline, from local wheels)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from coursekit import execute

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
# Notebooks still without the install cell (empty: every notebook has it).
PENDING: set[str] = set()


def _pending(path: Path):
    if path.stem in PENDING:
        return pytest.param(path, id=path.stem, marks=pytest.mark.xfail(
            strict=True, reason="install cell added by the lead at merge time"))
    return pytest.param(path, id=path.stem)


@pytest.mark.parametrize("notebook", [_pending(p) for p in NOTEBOOKS])
def test_every_notebook_starts_with_the_current_install_cell(notebook):
    cells = nbformat.read(notebook, as_version=4).cells
    first = cells[0]
    assert first.cell_type == "code" and execute.INSTALL_TAG in first.metadata.get("tags", []), (
        f"{notebook.name} does not start with the install cell: run "
        f"`python -m coursekit.execute --install-cell {notebook.relative_to(REPO)}`")
    assert first.source == execute.install_cell_source(), (
        f"{notebook.name}: the install cell is outdated: run "
        f"`python -m coursekit.execute --install-cell {notebook.relative_to(REPO)}`")
    assert not first.outputs, "the install cell prints nothing locally"
    assert sum(execute.INSTALL_TAG in c.metadata.get("tags", []) for c in cells) == 1


def test_install_cell_takes_the_configured_repository_and_the_pinned_cpu_torch():
    url, branch = execute.repository_setting()
    code = execute.install_cell_source()
    assert f'"git+{url}.git@{branch}"' in code
    assert f'"torch=={execute.pinned_version("torch")}"' in code
    assert '"--index-url", "https://download.pytorch.org/whl/cpu"' in code
    assert "[test" not in code and "[book" not in code
    compile(code, "install cell", "exec")


def test_install_cell_tool_is_idempotent_and_replaces_an_old_cell(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"),
                                               nbformat.v4.new_code_cell("x = 1")])
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, path)
    assert execute.main(["--install-cell", str(path)]) == 0
    once = path.read_text()
    assert execute.add_install_cells([path]) == []  # second run: nothing to change
    assert path.read_text() == once
    cells = nbformat.read(path, as_version=4).cells
    assert [c.cell_type for c in cells] == ["code", "markdown", "code"]
    assert cells[0].metadata.tags == ["install", "remove-cell"]
    old = nbformat.read(path, as_version=4)
    old.cells = [old.cells[1], old.cells[0], old.cells[2]]  # moved, outdated
    old.cells[1].source = "# an older install cell"
    nbformat.write(old, path)
    assert execute.add_install_cells([path]) == [path]
    cells = nbformat.read(path, as_version=4).cells
    assert [c.source for c in cells][1:] == ["# Title", "x = 1"]
    assert cells[0].source == execute.install_cell_source()


def _run_cell(code: str, present: set[str]):
    """Run the cell's code with only the modules in ``present`` installed (as find_spec sees
    it); return (pip commands it ran, what it printed)."""
    import importlib.util

    calls = []

    def fake_run(command, **kwargs):
        calls.append(command[command.index("install") + 1:])
        return subprocess.CompletedProcess(command, 0, "", "")

    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        if name in ("coursekit", "torch"):
            return real_find_spec(name) if name in present else None
        return real_find_spec(name, *args)

    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(out):
        patch.setattr(subprocess, "run", fake_run)
        patch.setattr(importlib.util, "find_spec", find_spec)
        exec(code, {})
    return calls, out.getvalue()


def test_install_cell_does_nothing_and_prints_nothing_where_the_course_is_installed():
    calls, printed = _run_cell(execute.install_cell_source(), {"coursekit", "torch"})
    assert calls == [] and printed == ""
    # and for real, in this venv: nothing printed, nothing installed, quickly
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", execute.install_cell_source("/nonexistent")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    assert time.perf_counter() - start < 10


def test_install_cell_on_colab_keeps_its_torch_and_elsewhere_takes_the_cpu_wheel():
    code = execute.install_cell_source("git+https://example.org/course.git@main")
    calls, _ = _run_cell(code, {"torch"})  # Colab: torch is there, coursekit is not
    assert calls == [["-q", "git+https://example.org/course.git@main"]]
    calls, _ = _run_cell(code, set())  # a bare Jupyter: neither
    torch = execute.pinned_version("torch")
    assert calls == [["-q", f"torch=={torch}", "--index-url", execute.TORCH_CPU_INDEX],
                     ["-q", "git+https://example.org/course.git@main"]]


# Local wheels this machine's pip uses offline; elsewhere set COURSEKIT_WHEELHOUSE=dir1:dir2.
LOCAL_WHEELS = ("/opt/wheels", "/opt/pypi/files", "/opt/pypi-more/files")


def _repack_missing_dependencies(wheelhouse: list[str], out: Path) -> None:
    """A wheel in ``out`` of each requirement of coursekit that ``wheelhouse`` lacks, repacked
    from this venv's installed copy (here: landlock, which the local wheels do not hold)."""
    import csv
    import importlib.metadata as metadata
    import re
    import zipfile

    def norm(name):
        return re.sub(r"[-_.]+", "_", name).lower()

    have = {norm(f.name.split("-")[0]) for d in wheelhouse for f in Path(d).iterdir()}
    for requirement in metadata.requires("coursekit") or []:
        if "extra ==" in requirement:
            continue
        name = re.match(r"[A-Za-z0-9_.\-]+", requirement).group(0)
        if norm(name) in have:
            continue
        dist = metadata.distribution(name)
        info = Path(dist._path)
        tag = next(line.split(":", 1)[1].strip()
                   for line in (info / "WHEEL").read_text().splitlines() if line.startswith("Tag:"))
        wheel = out / f"{norm(dist.metadata['Name'])}-{dist.version}-{tag}.whl"
        with zipfile.ZipFile(wheel, "w") as archive, open(info / "RECORD") as record:
            for row in csv.reader(record):
                path = info.parent / row[0]
                if row and path.is_file() and "__pycache__" not in row[0]:
                    archive.write(path, row[0])


@pytest.mark.slow
def test_install_cell_installs_the_course_in_a_fresh_venv(tmp_path):
    """Measured: 147 s CPU (26 min wall on a 2-core machine shared by nine), about 1.5 GB."""
    wheelhouse = [d for d in (os.environ.get("COURSEKIT_WHEELHOUSE", "").split(os.pathsep)
                              if os.environ.get("COURSEKIT_WHEELHOUSE") else LOCAL_WHEELS)
                  if Path(d).is_dir()]
    if not wheelhouse:
        pytest.skip("no local wheels to install from offline (set COURSEKIT_WHEELHOUSE)")
    (tmp_path / "wheels").mkdir()
    _repack_missing_dependencies(wheelhouse, tmp_path / "wheels")
    wheelhouse.append(str(tmp_path / "wheels"))
    # the checkout as pip sees it (a copy: pip's in-tree build would leave files in the repo)
    import shutil

    source = tmp_path / "checkout"
    shutil.copytree(REPO / "coursekit", source / "coursekit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy2(REPO / name, source / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    # offline: only local wheels, the newest of each there (as on Colab, no constraints file)
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": " ".join(wheelhouse),
           "COURSEKIT_SOURCE": str(source)}
    env.pop("PYTHONPATH", None)
    probe = "import importlib.util as u; print(u.find_spec('coursekit'), u.find_spec('torch'))"
    assert subprocess.run([str(python), "-c", probe], capture_output=True, text=True, env=env,
                          cwd=tmp_path, check=True).stdout.split() == ["None", "None"]
    start = time.perf_counter()
    cell = execute.install_cell_source() + "\nimport coursekit, torch\nprint(torch.__version__)"
    done = subprocess.run([str(python), "-c", cell], capture_output=True, text=True,
                          env=env, timeout=3600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"fresh venv: the install cell took {time.perf_counter() - start:.0f} s")
    assert done.stdout.strip() == execute.pinned_version("torch") + "+cpu"
    installed = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"], env=env,
                               capture_output=True, text=True, check=True).stdout.lower()
    assert "coursekit==" in installed and "pytest==" not in installed  # no [test] extra
    assert "jupyter-book" not in installed and "nvidia" not in installed  # no CUDA build
    # a second run of the cell: the course is there now, so it prints and installs nothing
    again = subprocess.run([str(python), "-c", execute.install_cell_source("/nonexistent")],
                           capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == again.stderr == ""
