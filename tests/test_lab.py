"""The student's path in JupyterLab itself: `make lab`, open the landing notebook, save it,
and git still sees a clean checkout; a later course commit pulls and merges.

Runs in temporary clones (the real checkout is never touched): ``upstream.git`` (the
course's repository), ``student`` (a student's clone, where `make lab` runs, with this
checkout's .venv linked in) and ``teacher`` (where the next commit is made). JupyterLab
gets a free port, a random token and its own config, runtime and settings folders; the
test shuts it down through its API and checks that no kernel it started is left.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LANDING = "notebooks/00_introduction.ipynb"
NEWS_QUESTION = "Would you like to get notified about official Jupyter news?"

pytestmark = pytest.mark.slow


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=Course Bot", "-c",
                           "user.email=course@example.invalid", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str, method: str = "GET"):
    request = urllib.request.Request(url, method=method,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def _processes_mentioning(text: str) -> list[int]:
    """Pids whose command line mentions ``text`` (our temporary folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found


@pytest.fixture
def clones(tmp_path):
    """upstream.git, a student's clone with this checkout's .venv, a teacher's clone."""
    if not (REPO / ".venv" / "bin" / "jupyter").is_file():
        pytest.skip("needs the course's .venv with JupyterLab (make lab installs it)")
    upstream = tmp_path / "upstream.git"
    _git(tmp_path, "clone", "--quiet", "--bare", str(REPO), str(upstream))
    student, teacher = tmp_path / "student", tmp_path / "teacher"
    for clone in (student, teacher):
        _git(tmp_path, "clone", "--quiet", str(upstream), str(clone))
    (student / ".venv").symlink_to(REPO / ".venv")
    # .gitignore's ".venv/" matches the folder a real install makes, not this link
    with open(student / ".git" / "info" / "exclude", "a") as exclude:
        exclude.write("/.venv\n")
    return {"upstream": upstream, "student": student, "teacher": teacher}


def _start_lab(student: Path, tmp_path: Path, port: int, token: str) -> subprocess.Popen:
    """`make lab` as a student runs it (the install step is taken as done: -o STAMP)."""
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-user-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
           "HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    log = open(tmp_path / "lab.log", "w")
    return subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/.installed-course", "lab",
         f"PORT={port}", f"LAB_ARGS=--no-browser --IdentityProvider.token={token}"],
        cwd=student, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True)


def _wait_for_server(lab: subprocess.Popen, base: str, token: str, log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert lab.poll() is None, f"make lab exited: {log.read_text()[-2000:]}"
        try:
            _get(f"{base}/api/status", token)
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not start in 180 s: {log.read_text()[-2000:]}")


def _wait_for_idle_kernel(base: str, token: str) -> None:
    """The landing notebook's kernel started and idle (its kernelspec was found)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        sessions = _get(f"{base}/api/sessions", token)
        if sessions and all(s["kernel"]["execution_state"] == "idle" for s in sessions):
            assert [s["path"] for s in sessions] == [LANDING]
            return
        time.sleep(0.5)
    pytest.fail(f"the notebook's kernel did not become idle: {sessions}")


def _stop_lab(lab: subprocess.Popen, base: str, token: str, tmp_path: Path) -> None:
    try:
        _get(f"{base}/api/shutdown", token, method="POST")  # stops its kernels too
    except OSError:
        pass
    try:
        lab.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
    deadline = time.monotonic() + 20
    while _processes_mentioning(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = _processes_mentioning(str(tmp_path))
    for pid in left:  # only processes started for this test's folder
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left running after JupyterLab stopped: {left}"


def test_open_save_in_jupyterlab_leaves_git_clean_and_a_pull_merges(clones, browser,
                                                                    tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    student, teacher = clones["student"], clones["teacher"]
    port, token = _free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    lab = _start_lab(student, tmp_path, port, token)
    try:
        _wait_for_server(lab, base, token, tmp_path / "lab.log")
        copy = student / "work" / LANDING
        assert copy.is_file(), "make lab did not copy the notebooks into work/"
        before = copy.stat().st_mtime_ns
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            # what make lab opens: / redirects to its default_url, the landing notebook
            page.goto(f"{base}/?token={token}", timeout=120_000)
            try:
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            except Exception:
                page.screenshot(path=str(tmp_path / "lab.png"))
                raise
            assert page.locator(".lm-TabBar-tab", has_text="00_introduction.ipynb").count()
            _wait_for_idle_kernel(base, token)
            page.locator(".jp-Notebook .jp-Cell").first.click()
            page.keyboard.press("Control+s")
            deadline = time.monotonic() + 60
            while copy.stat().st_mtime_ns == before and time.monotonic() < deadline:
                page.wait_for_timeout(250)
            assert copy.stat().st_mtime_ns != before, "Ctrl+S did not save the notebook"
            try:  # JupyterLab asks once the app is restored, well within these 5 s
                page.get_by_text(NEWS_QUESTION).wait_for(timeout=5000)
                pytest.fail(f"the news pop-up appeared: {NEWS_QUESTION}")
            except sync_api.TimeoutError:
                pass
        finally:
            page.close()
    finally:
        _stop_lab(lab, base, token, tmp_path)

    saved = json.loads(copy.read_text(encoding="utf-8"))
    assert saved["metadata"]["kernelspec"]["name"] == "python3"
    assert _git(student, "status", "--porcelain") == "", "opening and saving changed git files"

    # the course changes upstream; the student's git pull merges and make lab's sync
    # refreshes the copy they opened and saved but never edited
    landing = teacher / LANDING
    notebook = json.loads(landing.read_text(encoding="utf-8"))
    notebook["cells"].append({"cell_type": "markdown", "id": "course-update", "metadata": {},
                              "source": ["A line the course added later."]})
    landing.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n",
                       encoding="utf-8")
    _git(teacher, "commit", "--quiet", "-am", "the course adds a line to the landing page")
    _git(teacher, "push", "--quiet", "origin", "HEAD")
    _git(student, "pull", "--quiet", "--no-rebase", "origin",
         _git(teacher, "rev-parse", "--abbrev-ref", "HEAD").strip())
    assert _git(student, "status", "--porcelain") == ""
    assert "A line the course added later." in (student / LANDING).read_text(encoding="utf-8")
    sync = subprocess.run([sys.executable, "-m", "coursekit.workspace", "sync"], cwd=student,
                          capture_output=True, text=True, timeout=120)
    assert sync.returncode == 0, sync.stderr
    assert f"updated to the course's new version (you had not edited them): {LANDING}" \
        in sync.stdout
    assert "A line the course added later." in copy.read_text(encoding="utf-8")
