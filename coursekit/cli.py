"""The coursekit command: assign, check and grade exercises.

    coursekit assign solutions --out exercises [--bundle build/grading] [--secret-file FILE]
    coursekit check work/exercises/01_linear_models_exercises.ipynb
    coursekit grade --assignment 01_linear_models --submissions DIR --out OUT
                    [--bundle DIR] [--workers N] [--timeout S] [--memory MB]

A wrong path or name is one line on stderr saying what was wrong and how to fix it,
with exit code 2 (no traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DESCRIPTION = "Write, self-check and grade the course's autograded exercises."
EPILOG = """examples:
  coursekit assign solutions --out exercises     (instructors: regenerate exercises/)
  coursekit check work/exercises/01_linear_models_exercises.ipynb
                                                 (students: run the public tests)
  coursekit grade --assignment 01_linear_models --submissions subs/ --out grades/

run `coursekit COMMAND --help` for the options of each command."""


class UsageError(ValueError):
    """A wrong path or name on the command line: one line, exit code 2."""


def need_file(path: str, what: str, example: str) -> Path:
    """``path`` as a Path, or ``UsageError`` saying what is wrong with it."""
    path = Path(path)
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.ipynb"))[:3]
        hint = f" (it holds {', '.join(inside)})" if inside and example.endswith(".ipynb") \
            else ""
        raise UsageError(f"{what} {path} is a folder, not a file{hint}: give the file, "
                         f"e.g. {example}")
    if not path.exists():
        raise UsageError(f"{what} {path} does not exist: check the path (relative to "
                         f"{Path.cwd()}), e.g. {example}")
    return path


def need_folder(path: str, what: str, example: str, create: bool = False) -> Path:
    """``path`` as a Path to a folder (existing, or creatable when ``create``)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{what} {path} is a file, not a folder: give a folder, "
                         f"e.g. {example}")
    if not create and not path.exists():
        raise UsageError(f"{what} {path} does not exist: check the path (relative to "
                         f"{Path.cwd()}), e.g. {example}")
    return path


def known_assignments() -> list[str]:
    from coursekit.grading.check import PUBLIC_DIR

    return sorted(p.stem for p in PUBLIC_DIR.glob("*.json"))


def _assign(args) -> int:
    from coursekit.grading import secret as secrets
    from coursekit.grading.assign import assign

    need_folder(args.solutions, "solutions folder", "solutions (holding 01_linear_models/)")
    need_folder(args.out, "--out", "exercises", create=True)
    need_folder(args.bundle, "--bundle", os.path.join("build", "grading"), create=True)
    if args.public:
        need_folder(args.public, "--public", "coursekit/grading/public", create=True)
    if args.secret_file:
        need_file(args.secret_file, "--secret-file", "~/course-secret.txt")
    secret, source = secrets.resolve_secret(args.secret_file)
    if source == "public default":
        print(f"coursekit assign: notice: {secrets.PUBLIC_NOTICE}", file=sys.stderr)
    else:
        print(f"coursekit assign: instructor secret from the {source} "
              f"(id {secrets.secret_id(secret)})", file=sys.stderr)
    extra = {"public_dir": Path(args.public)} if args.public else {}
    for summary in assign(Path(args.solutions), Path(args.out), Path(args.bundle),
                          secret=secret, **extra):
        print(f"{summary['assignment']}: {summary['questions']} questions, "
              f"{summary['points']:g} points, {summary['tests']} tests, public tests "
              f"{summary['public_share']:.1%} of the points -> "
              f"{summary['notebook']} (bundle {summary['bundle']})")
    return 0


def _check(args) -> int:
    from coursekit.grading.check import check_notebook

    path = need_file(args.notebook, "notebook", "work/exercises/01_linear_models_exercises.ipynb")
    report, problems = check_notebook(path, timeout=args.timeout)
    for line in problems:
        print(f"note: {line}")
    print(report.text(total=True))
    return 0 if report.passed else 1


def _grade(args) -> int:
    from coursekit.grading.grade import grade

    known = known_assignments()
    default_bundle = Path("build", "grading", args.assignment, "bundle.json")
    if args.bundle is None and known and args.assignment not in known \
            and not default_bundle.is_file():
        raise UsageError(f"unknown assignment {args.assignment!r}: use one of "
                         f"{', '.join(known)} (or --bundle DIR for another one)")
    need_folder(args.submissions, "--submissions", "submissions/ (holding alice.ipynb or "
                "alice/…)")
    need_folder(args.out, "--out", "grades/", create=True)
    if args.bundle:
        need_folder(args.bundle, "--bundle", os.path.join("build", "grading", args.assignment),
                    create=True)  # a missing bundle: load_bundle says how to make it
    summary = grade(assignment=args.assignment, submissions=Path(args.submissions),
                    out=Path(args.out), bundle=Path(args.bundle) if args.bundle else None,
                    workers=args.workers, timeout=args.timeout, memory_mb=args.memory,
                    force=args.force)
    print(f"graded {summary['graded']} submissions ({summary['skipped']} unchanged, skipped) "
          f"in {summary['seconds']:.1f} s -> {summary['grades_csv']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coursekit", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(title="commands", dest="command", required=True,
                                     metavar="COMMAND")

    assign = commands.add_parser(
        "assign", help="write student notebooks, public tests and grading bundles from "
                       "solutions/ (instructors)",
        description="Make the student version of each assignment in SOLUTIONS: "
                    "exercises/NAME_exercises.ipynb (answers replaced by `raise "
                    "NotImplementedError`), the public tests that `check` runs (package "
                    "data) and a grading bundle with the hidden tests (git-ignored). The "
                    "reference solution must earn full marks, or nothing is written.")
    assign.add_argument("solutions", help="folder of assignments (e.g. solutions), or one "
                                          "assignment folder holding NAME.ipynb and tests.py")
    assign.add_argument("--out", default="exercises", metavar="DIR",
                        help="where the student notebooks go (default: exercises)")
    assign.add_argument("--bundle", default=os.path.join("build", "grading"), metavar="DIR",
                        help="folder for the grading bundles, one sub-folder per assignment "
                             "(default: build/grading)")
    assign.add_argument("--public", default=None, metavar="DIR",
                        help="where the public tests go (default: the package's "
                             "coursekit/grading/public/)")
    assign.add_argument("--secret-file", default=None, metavar="FILE",
                        help="the instructor secret that draws hidden inputs and held-out "
                             "data (default: $COURSEKIT_SECRET, else a public default fit "
                             "only for self-study); keep it out of the repository")
    assign.set_defaults(run=_assign)

    check = commands.add_parser(
        "check", help="run the public tests on a saved exercise notebook (students)",
        description="Run a saved exercise notebook in a separate process and its public "
                    "tests, as check() does in the notebook: points per question (public "
                    "share, hidden tests graded later, question total) and the total. "
                    "Exit code 0 when every public test passes, 1 otherwise, 2 for a wrong "
                    "path. Save the notebook in JupyterLab first (Ctrl+S).")
    check.add_argument("notebook", help="your saved exercise notebook, e.g. "
                                        "work/exercises/01_linear_models_exercises.ipynb")
    check.add_argument("--timeout", type=float, default=300.0, metavar="S",
                       help="seconds the notebook may run, and again for each question's "
                            "tests (default: 300)")
    check.set_defaults(run=_check)

    grade = commands.add_parser(
        "grade", help="grade a folder of submissions in a sandbox (instructors)",
        description="Grade every submission (DIR/<student>.ipynb or DIR/<student>/*.ipynb) "
                    "in its own sandboxed process: OUT/grades.csv, and per student "
                    "feedback.md and Gradescope's results.json. Unchanged submissions are "
                    "not graded again. Needs the bundle that `coursekit assign` wrote.")
    grade.add_argument("--assignment", required=True, metavar="NAME",
                       help="which assignment, e.g. 01_linear_models")
    grade.add_argument("--submissions", required=True, metavar="DIR",
                       help="DIR holding <student>.ipynb or <student>/<any>.ipynb (in a "
                            "student's folder NAME_exercises.ipynb, or NAME.ipynb, is "
                            "preferred)")
    grade.add_argument("--out", required=True, metavar="DIR",
                       help="where grades.csv and each student's feedback go")
    grade.add_argument("--bundle", default=None, metavar="DIR",
                       help="grading bundle folder (default: build/grading/<assignment>)")
    grade.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                       help="submissions graded at once (default: the number of CPUs)")
    grade.add_argument("--timeout", type=float, default=60.0, metavar="S",
                       help="seconds for the notebook, and again for each question "
                            "(default: 60)")
    grade.add_argument("--memory", type=int, default=3072, metavar="MB",
                       help="address-space limit of each sandbox in MB (default: 3072)")
    grade.add_argument("--force", action="store_true",
                       help="regrade submissions whose results are already up to date")
    grade.set_defaults(run=_grade)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError) as error:  # UsageError, SubmissionError, unreadable files
        message = str(error) if not isinstance(error, OSError) or not error.filename else \
            f"{error.filename}: {error.strerror}"
        print(f"coursekit {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
