"""The package's layers (pyproject's [tool.importlinter] contracts), checked by import-linter.

Dependencies point one way: data, nn <- viz <- widgets; grading stands alone; nn never
imports torch or matplotlib, not even inside a function. A second test proves a contract
can fail: a copy of the package with one lazy ``import torch`` added to ``coursekit.nn``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())"]


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(LINT + ["--no-cache"], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


def test_import_contracts_are_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_a_lazy_torch_import_in_nn_breaks_a_contract(tmp_path):
    shutil.copytree(ROOT / "coursekit", tmp_path / "coursekit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.json", "*.npz"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / "coursekit" / "nn" / "init.py", "a") as handle:
        handle.write("\n\ndef _sneaky():\n    import torch\n    return torch\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "nn is the NumPy reference" in result.stdout and "BROKEN" in result.stdout


def test_importing_the_widgets_loads_no_torch():
    code = "import sys, coursekit.widgets; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT).stdout.strip()
    assert out == "False"


def test_coursekit_nn_never_imports_torch_at_run_time():
    code = ("import sys, coursekit.nn, coursekit.nn.functional, coursekit.nn.autograd, "
            "coursekit.nn.lenet, coursekit.gradcheck; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT).stdout.strip()
    assert out == "[]", out
