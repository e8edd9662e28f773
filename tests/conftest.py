"""Shared pytest configuration for tests/.

`make test` runs pytest with --nbval over tests/ and notebooks/ together; the
notebooks under tests/ (e.g. adversarial submissions for the grader) are data,
never to be executed by nbval.
"""

import os
import shutil
from pathlib import Path

import pytest

collect_ignore_glob = ["*.ipynb", "**/*.ipynb"]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--no-first-run"]
INSTALL_CHROMIUM = ("the browser tests need it: install it with `apt-get install chromium` "
                    "(and the book extra: pip install -c constraints.txt -e '.[book]')")


def skip_or_fail_in_ci(message: str):
    """Skip a test whose tool is missing, but fail under CI, where it must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: these tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's) for every browser test of the session: Playwright's
    sync API may run only once at a time in a process, so the site and JupyterLab tests
    share it. CHROMIUM_PATH picks another Chromium build (e.g. on macOS)."""
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).is_file():
        skip_or_fail_in_ci(f"headless Chromium not found; {INSTALL_CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail_in_ci(f"playwright is not installed; {INSTALL_CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
