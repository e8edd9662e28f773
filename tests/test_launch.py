"""Launching the course elsewhere: Binder's environment is checked statically (nothing is
downloaded here): it parses, takes torch's CPU wheel at the pinned version, installs the
course with the student's dependencies only, and every pin agrees with constraints.txt."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)", line)
        if match:
            pins[match.group(1).lower().split("[")[0]] = match.group(2)
    return pins


def test_binder_installs_the_cpu_torch_and_the_course_only():
    lines = [line.split("#")[0].strip() for line in
             (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    lines = [line for line in lines if line]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    assert "-c ../constraints.txt" in lines and (ROOT / "constraints.txt").is_file()
    assert "." in lines  # the course itself, without [test] or [book]
    assert not any("[test" in line or "[book" in line for line in lines)
    torch = _pins(ROOT / "binder" / "requirements.txt")["torch"]
    assert torch.endswith("+cpu")
    assert torch.removesuffix("+cpu") == _pins(ROOT / "constraints.txt")["torch"] == "2.13.0"
    for name, version in _pins(ROOT / "binder" / "requirements.txt").items():
        if name != "torch":
            assert _pins(ROOT / "constraints.txt").get(name) == version, name
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_github_workflow_is_valid_runs_ci_in_debian_and_publishes_the_site():
    workflow = ROOT / ".github" / "workflows" / "ci.yml"
    checker = Path(sys.executable).parent / "check-jsonschema"
    if not checker.exists():
        pytest.skip("check-jsonschema is in the test extra: pip install -e '.[test]'")
    result = subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows",
                             str(workflow)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    text = workflow.read_text()
    assert "container: debian:" in text and "bash .ci/run" in text
    assert "path: book/_build/html" in text and "actions/deploy-pages@" in text
    assert "download.pytorch.org/whl/cpu" in text
