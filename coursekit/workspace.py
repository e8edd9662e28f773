"""A student's own copies of the course notebooks, in a git-ignored folder (``work/``).

The lecture notebooks (``notebooks/``) and exercises (``exercises/``) are tracked by git
and change when the course is updated; students work in copies, so ``git pull`` never
conflicts with their work. ``make lab`` runs :func:`sync` and opens JupyterLab on the copies.

- A notebook not yet copied is copied (sub-folders kept, so relative links still work).
- A copy the student never edited (same cell sources as when it was copied) is refreshed
  when the course's version changed, e.g. after ``git pull``.
- A copy under an exercise's old name (``exercises/NAME.ipynb``, before exercises were named
  ``NAME_exercises.ipynb``) is kept and reported when the student edited it (grading accepts
  both names), and removed when not (it holds none of their work).
- A copy the student edited is kept and reported; :func:`fresh` (``make fresh
  NB=work/exercises/NAME.ipynb``) moves it aside as ``NAME.mine-<time>.ipynb`` and copies
  the course's version anew.

Edits are told apart from runs by the cells' sources only: running cells (outputs,
execution counts) and JupyterLab's metadata changes do not count as an edit.

    python -m coursekit.workspace sync [--root .] [--work work]
    python -m coursekit.workspace fresh work/exercises/02_mlp_backprop_exercises.ipynb
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

SOURCES = ("notebooks", "exercises")
#: exercise notebooks are ``exercises/NAME_exercises.ipynb`` (as ``coursekit assign`` writes)
EXERCISE_SUFFIX = "_exercises"
MANIFEST = ".coursekit-copies.json"


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sources_digest(path: Path) -> str:
    """SHA-256 of a notebook's cell types and sources (not outputs, not metadata)."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = [(cell.get("cell_type"), "".join(cell.get("source", "")))
             for cell in notebook.get("cells", [])]
    return hashlib.sha256(json.dumps(cells).encode("utf-8")).hexdigest()


@dataclass
class SyncReport:
    """What :func:`sync` did, as paths relative to the work folder."""

    copied: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # edited by the student; the course changed
    unchanged: list[str] = field(default_factory=list)
    #: (old, new): the student's copy under an exercise's name before the rename, kept
    renamed: list[tuple[str, str]] = field(default_factory=list)
    #: old-name copies the student never edited, removed (the new name replaces them)
    retired: list[str] = field(default_factory=list)

    def lines(self, work: Path) -> list[str]:
        out = []
        if self.copied:
            out.append(f"copied {len(self.copied)} notebook(s) into {work}/")
        if self.refreshed:
            out.append("updated to the course's new version (you had not edited them): "
                       + ", ".join(self.refreshed))
        if self.retired:
            out.append("removed unedited copies under the exercises' old names (now "
                       "NAME_exercises.ipynb): " + ", ".join(self.retired))
        for old, new in self.renamed:
            out.append(f"kept your {work / old}: exercises are now named apart from their "
                       f"lectures, this one is {work / new} (a fresh copy). Keep working in "
                       f"yours (coursekit check and grading accept both names) or copy your "
                       f"answer cells into the new one")
        for name in self.kept:
            out.append(f"kept your edited {work / name}; the course's version changed. For a "
                       f"fresh copy (yours is kept beside it): make fresh NB={work / name}")
        return out


def _load_manifest(work: Path) -> dict:
    path = work / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a damaged manifest: treat every copy as edited (nothing is overwritten)
    return data if isinstance(data, dict) else {}


def _save_manifest(work: Path, manifest: dict) -> None:
    tmp = work / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(work / MANIFEST)


def _course_notebooks(root: Path):
    for folder in SOURCES:
        for path in sorted((root / folder).rglob("*.ipynb")):
            if ".ipynb_checkpoints" not in path.parts:
                yield path.relative_to(root).as_posix(), path


def _record(source: Path) -> dict:
    """What the manifest remembers of a copy: the course file it came from, and its sources."""
    return {"course": file_digest(source), "sources": sources_digest(source)}


def sync(root=".", work="work") -> SyncReport:
    """Bring the student's copies in ``work`` up to date with the course in ``root``."""
    root, work = Path(root).resolve(), Path(root).resolve() / work
    if not any((root / folder).is_dir() for folder in SOURCES):
        raise FileNotFoundError(f"{root} has no notebooks/ or exercises/ folder: run this in "
                                f"the course repository")
    work.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(work)
    report = SyncReport()
    for name, source in _course_notebooks(root):
        copy = work / name
        record = manifest.get(name)
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
            manifest[name] = _record(source)
            report.copied.append(name)
            continue
        if not isinstance(record, dict) or record.get("course") == file_digest(source):
            report.unchanged.append(name)  # the course did not change (or the copy is foreign)
        elif sources_digest(copy) == record.get("sources"):
            shutil.copy2(source, copy)  # not edited by the student: take the new version
            manifest[name] = _record(source)
            report.refreshed.append(name)
        else:
            report.kept.append(name)
    _old_exercise_names(root, work, manifest, report)
    _save_manifest(work, manifest)
    return report


def _old_exercise_names(root: Path, work: Path, manifest: dict, report: SyncReport) -> None:
    """Copies under an exercise's old name (``exercises/NAME.ipynb``, before exercises were
    renamed ``NAME_exercises.ipynb``): removed if never edited, else kept and reported."""
    for path in sorted((root / "exercises").glob(f"*{EXERCISE_SUFFIX}.ipynb")):
        new = path.relative_to(root).as_posix()
        old = f"exercises/{path.name[: -len(EXERCISE_SUFFIX + '.ipynb')]}.ipynb"
        copy = work / old
        if (root / old).exists() or not copy.is_file():
            continue
        record = manifest.get(old)
        try:
            unedited = isinstance(record, dict) and sources_digest(copy) == record.get("sources")
        except (OSError, ValueError):
            unedited = False
        if unedited:
            copy.unlink()
            manifest.pop(old, None)
            report.retired.append(old)
        else:
            report.renamed.append((old, new))


def fresh(copy, root=".", work="work") -> Path:
    """Move the student's ``copy`` aside (``NAME.mine-<time>.ipynb``) and copy the course's
    version in its place; return where the old copy went."""
    root = Path(root).resolve()
    work_dir = root / work
    copy = Path(copy)
    copy = (copy if copy.is_absolute() else Path.cwd() / copy).resolve()
    try:
        name = copy.relative_to(work_dir).as_posix()
    except ValueError:
        raise ValueError(f"{copy} is not a notebook in {work_dir}/; give a path such as "
                         f"{work}/exercises/02_mlp_backprop_exercises.ipynb") from None
    source = root / name
    if not source.is_file():
        raise FileNotFoundError(f"the course has no {name}; copies exist only for notebooks "
                                f"in {', '.join(SOURCES)}/")
    aside = copy
    if copy.exists():
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = copy.with_name(f"{copy.stem}.mine-{stamp}{copy.suffix}")
        copy.rename(aside)
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, copy)
    manifest = _load_manifest(work_dir)
    manifest[name] = _record(source)
    _save_manifest(work_dir, manifest)
    return aside


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursekit.workspace",
        description="Your own copies of the course notebooks (work/, ignored by git).")
    parser.add_argument("--root", default=".", help="the course repository (default: .)")
    parser.add_argument("--work", default="work", help="folder of your copies (default: work)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sync", help="copy new notebooks, update the ones you have not edited")
    one = sub.add_parser("fresh", help="a fresh copy of one notebook (yours is kept beside it)")
    one.add_argument("notebook", help="e.g. work/exercises/02_mlp_backprop_exercises.ipynb")
    args = parser.parse_args(argv)
    try:
        if args.command == "sync":
            report = sync(args.root, args.work)
            for line in report.lines(Path(args.work)):
                print(line)
        else:
            aside = fresh(args.notebook, args.root, args.work)
            print(f"fresh copy: {args.notebook}" + (f" (yours is now {aside})"
                                                    if aside != Path(args.notebook) else ""))
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
