"""Build the course website (what ``make book`` runs).

    .venv/bin/python book/build.py [--path-output DIR] [--all] [--strict]

Steps, each cheap when already done:

1. ``npm ci`` in book/ when book/node_modules is missing or older than
   package-lock.json (require.js, the Jupyter widgets HTML manager, MathJax).
2. Copy the files the pages load from those packages into book/_local_static/
   (``widgets/``, ``mathjax/``), which Sphinx serves as ``_static/``: the site
   never asks a CDN for anything.
3. Link ../notebooks to book/notebooks and ../exercises to book/exercises (a copy
   where links are not possible), so the chapters and exercise sheets are the
   repository's notebooks, not a second copy in git.
4. ``jupyter-book build book`` with the jupyter-book of this Python's
   environment. The pages show the notebooks' stored outputs.

The site ends up in book/_build/html (or DIR/_build/html with --path-output).
"""

from __future__ import annotations

import argparse
import contextlib
import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

BOOK_DIR = Path(__file__).resolve().parent
REPO_DIR = BOOK_DIR.parent
NOTEBOOKS_DIR = REPO_DIR / "notebooks"
NODE_MODULES = BOOK_DIR / "node_modules"
LOCAL_STATIC = BOOK_DIR / "_local_static"
# The site's own JavaScript (committed), copied next to the npm files.
WIDGETS_SETUP_JS = BOOK_DIR / "js" / "widgets-setup.js"
BOOK_NOTEBOOKS = BOOK_DIR / "notebooks"
EXERCISES_DIR = REPO_DIR / "exercises"
BOOK_EXERCISES = BOOK_DIR / "exercises"

# MathJax files the site needs: the TeX-to-HTML bundle and what it loads on
# demand (TeX extensions, CHTML fonts, the menu, accessibility). The SVG and
# MathML-input bundles are left out: they are unused and triple the size.
MATHJAX_IGNORE = ("*svg*", "*-full*", "mml-*", "tex-mml-*", "node-main.js", "*.map")
# From the widgets HTML manager: the AMD bundle and the icon fonts it references.
WIDGETS_IGNORE = ("*.map", "embed.js", "libembed-amd.js", "*.embed.js")


def ensure_npm_packages(book_dir: Path = BOOK_DIR) -> None:
    """Run ``npm ci`` in ``book_dir`` unless node_modules matches package-lock.json."""
    lock = book_dir / "package-lock.json"
    # npm writes node_modules/.package-lock.json on every install.
    installed = book_dir / "node_modules" / ".package-lock.json"
    if installed.is_file() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "book/build.py: npm is needed once to install the website's JavaScript "
            "(require.js, @jupyter-widgets/html-manager, MathJax) into book/node_modules; "
            "install Node.js (e.g. `apt-get install npm`) and run `make book` again."
        )
    print("book/build.py: npm ci (book/node_modules)", flush=True)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                   cwd=book_dir, check=True)
    installed.touch()


def _sync_tree(source: Path, target: Path, ignore: tuple[str, ...],
               extra: tuple[str, ...] = ()) -> None:
    """Make ``target`` a copy of ``source`` minus ``ignore`` (top-level files named in
    ``extra`` may also be there); do nothing when it already is."""
    if target.is_dir():
        if _trees_equal(source, target, ignore, extra):
            return
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*ignore))


def _trees_equal(source: Path, target: Path, ignore: tuple[str, ...],
                 extra: tuple[str, ...]) -> bool:
    """True when every kept file of ``source`` is in ``target`` with the same size
    and no other file is there (a cheap check: npm files never change in place)."""
    wanted = {}
    ignored = shutil.ignore_patterns(*ignore)
    for root, dirs, files in os.walk(source):
        skip = ignored(root, dirs + files)
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            if name not in skip:
                path = Path(root, name)
                wanted[path.relative_to(source)] = path.stat().st_size
    present = {
        path.relative_to(target): path.stat().st_size
        for path in target.rglob("*") if path.is_file()
    }
    for name in extra:
        present.pop(Path(name), None)
    return wanted == present


def prepare_static(node_modules: Path = NODE_MODULES, static_dir: Path = LOCAL_STATIC) -> Path:
    """Copy require.js, the widgets manager (+ widgets-setup.js) and MathJax into ``static_dir``."""
    widgets_source = node_modules / "@jupyter-widgets" / "html-manager" / "dist"
    require_js = node_modules / "requirejs" / "require.js"
    mathjax_source = node_modules / "mathjax" / "es5"
    for needed in (widgets_source / "embed-amd.js", require_js, mathjax_source / "tex-chtml.js"):
        if not needed.is_file():
            raise SystemExit(f"book/build.py: {needed} is missing; delete book/node_modules "
                             "and run `make book` again to reinstall the npm packages.")
    static_dir.mkdir(exist_ok=True)
    _sync_tree(widgets_source, static_dir / "widgets", WIDGETS_IGNORE,
               extra=(require_js.name, WIDGETS_SETUP_JS.name))
    for source in (require_js, WIDGETS_SETUP_JS):
        target = static_dir / "widgets" / source.name
        if not target.is_file() or not filecmp.cmp(source, target, shallow=False):
            shutil.copy2(source, target)
    _sync_tree(mathjax_source, static_dir / "mathjax", MATHJAX_IGNORE)
    return static_dir


def link_folder(notebooks_dir: Path = NOTEBOOKS_DIR, link: Path = BOOK_NOTEBOOKS) -> Path:
    """Make ``link`` (git-ignored) show ``notebooks_dir``: a symlink, else a copy."""
    notebooks_dir = Path(notebooks_dir).resolve()
    if not notebooks_dir.is_dir():
        raise SystemExit(f"book/build.py: no folder of notebooks at {notebooks_dir}")
    if link.is_symlink():
        if link.resolve() == notebooks_dir:
            return link
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)  # an earlier copy: refresh it
    try:
        link.symlink_to(os.path.relpath(notebooks_dir, link.parent), target_is_directory=True)
    except OSError:  # e.g. Windows without the right to create links
        shutil.copytree(notebooks_dir, link, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return link


@contextlib.contextmanager
def _exclusive(lock_file: Path):
    """Hold a lock on ``lock_file`` (POSIX): two builds at once (pytest -n, make book
    during a test run) must not rewrite book/_local_static/ under each other."""
    try:
        import fcntl
    except ImportError:  # Windows: no concurrent builds expected
        yield
        return
    lock_file.parent.mkdir(exist_ok=True)
    with open(lock_file, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def jupyter_book_command() -> list[str]:
    """The jupyter-book of the environment this Python runs in."""
    script = Path(sys.executable).parent / ("jupyter-book.exe" if os.name == "nt" else "jupyter-book")
    if not script.exists():
        raise SystemExit(f"book/build.py: {script} not found; install the book extra: "
                         "pip install -c constraints.txt -e '.[book]' (make venv does).")
    return [str(script)]


def build(path_output: Path | None = None, *, fresh: bool = False, strict: bool = False,
          notebooks_dir: Path = NOTEBOOKS_DIR) -> Path:
    """Run every step; return the folder of the built HTML site.

    ``fresh`` rebuilds every page (``--all``); ``strict`` turns Sphinx warnings
    into a failed build (``-W --keep-going``, all warnings listed first).
    """
    with _exclusive(LOCAL_STATIC / ".build.lock"):
        ensure_npm_packages()
        prepare_static()
        link_folder(notebooks_dir, BOOK_NOTEBOOKS)
        link_folder(EXERCISES_DIR, BOOK_EXERCISES)
    command = jupyter_book_command() + ["build", str(BOOK_DIR), "--builder", "html"]
    if path_output is not None:
        command += ["--path-output", str(path_output)]
    if fresh:
        command.append("--all")
    if strict:
        command += ["--warningiserror", "--keep-going"]
    subprocess.run(command, check=True)
    return Path(path_output or BOOK_DIR) / "_build" / "html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path-output", type=Path, default=None,
                        help="build into DIR/_build/html instead of book/_build/html")
    parser.add_argument("--all", action="store_true", help="rebuild every page")
    parser.add_argument("--strict", action="store_true", help="fail on any Sphinx warning")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS_DIR,
                        help="folder of chapter notebooks (default: the repository's notebooks/)")
    args = parser.parse_args(argv)
    try:
        html = build(args.path_output, fresh=args.all, strict=args.strict,
                     notebooks_dir=args.notebooks)
    except subprocess.CalledProcessError as error:
        print(f"book/build.py: {' '.join(map(str, error.cmd))} failed "
              f"(exit status {error.returncode})", file=sys.stderr)
        return 1
    print(f"book/build.py: the site is in {html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
