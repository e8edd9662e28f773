"""The coursekit command: assign, check and grade exercises.

    coursekit assign solutions --out exercises [--bundle build/grading] [--secret-file FILE]
    coursekit check work/exercises/01_linear_models_exercises.ipynb
    coursekit grade --assignment 01_linear_models --submissions DIR --out OUT
                    [--bundle DIR] [--workers N] [--timeout S] [--memory MB] [--only NAME]
                    [--roster CSV] [--due T --grace 15m --late-penalty 10%/day ...]
                    [--cluster tcp://HOST:PORT [--cluster-security FILE] [--cluster-retries N]]
    coursekit feedback --out OUT --to FOLDER
    coursekit release --out DIR

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


def _overrides(values: list[str]) -> list[tuple]:
    """``student,question,score,reason`` strings, or CSV files of such rows (with a header)."""
    import csv

    result = []
    for value in values or []:
        if value.endswith(".csv") and Path(value).is_file():
            with open(value, newline="", encoding="utf-8-sig") as handle:
                rows = [[r.get("student"), r.get("question"), r.get("score"), r.get("reason")]
                        for r in csv.DictReader(handle)]
            where = value
        else:
            rows, where = list(csv.reader([value])), "--override"
        for row in rows:
            if len(row) != 4 or not all(row):
                raise ValueError(f"{where}: an override is student,question,score,reason "
                                 f"(e.g. alice,q3,2.5,\"partial credit for the plot\"), got "
                                 f"{','.join(map(str, row))!r}")
            try:
                result.append((row[0], row[1], float(row[2]), row[3]))
            except ValueError:
                raise ValueError(f"{where}: the score of {row[0]} {row[1]} must be a number, "
                                 f"got {row[2]!r}") from None
    return result


def _grade(args) -> int:
    from coursekit.grading.grade import grade
    from coursekit.grading.report import return_feedback

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
                    force=args.force, only=args.only, roster=args.roster, due=args.due,
                    grace=args.grace, late_penalty=args.late_penalty, late_cap=args.late_cap,
                    timestamps=args.timestamps, times_from_files=args.times_from_files,
                    policy=args.policy, overrides=_overrides(args.override),
                    manual=args.import_manual, export_manual=args.export_manual,
                    manual_questions=[q for q in (args.manual_questions or "").split(",") if q],
                    cluster=args.cluster, cluster_security=Path(args.cluster_security)
                    if args.cluster_security else None, cluster_retries=args.cluster_retries)
    rescored = (f", {summary['rescored']} re-scored for a new time or late policy"
                if summary["rescored"] else "")
    print(f"graded {summary['graded']} submissions ({summary['skipped']} unchanged, skipped)"
          f"{rescored} in {summary['seconds']:.1f} s -> {summary['grades_csv']}; class report "
          f"{summary['report_md']}")
    if summary["rejected"]:
        print(f"rejected (not notebooks): {', '.join(summary['rejected'])}")
    if args.return_feedback:
        folders = return_feedback(Path(args.out), Path(args.return_feedback))
        print(f"feedback of {len(folders)} students -> {args.return_feedback}")
    return 0


def _feedback(args) -> int:
    from coursekit.grading.report import return_feedback

    folders = return_feedback(Path(args.out), Path(args.to))
    print(f"feedback of {len(folders)} students -> {args.to}")
    return 0


def _release(args) -> int:
    from coursekit.grading.release import write_release

    summary = write_release(Path(args.out), Path(args.repo))
    print(f"student release: {summary['files']} files -> {args.out} (left out: "
          f"{', '.join(summary['excluded'])})")
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
        "grade", help="grade submissions in a sandbox into a gradebook",
        description="Grade a folder of submitted notebooks in sandboxes. OUT/gradebook.sqlite "
        "is the record (append-only: every run adds what it graded; resubmissions are "
        "versions); grades.csv, tests.csv, canvas.csv, scores.csv, report.md/.html and each "
        "student's feedback.md and results.json are derived from it after each run. "
        "Unchanged submissions are skipped, so an interrupted run resumes. A second grade "
        "on the same OUT while one runs stops with exit status 2.")
    grade.add_argument("--assignment", required=True, metavar="NAME",
                       help="which assignment, e.g. 01_linear_models")
    grade.add_argument("--submissions", required=True, metavar="DIR",
                       help="DIR holding <student>.ipynb or <student>/<any>.ipynb (in a "
                            "student's folder NAME_exercises.ipynb, or NAME.ipynb, is "
                            "preferred; and "
                            "optionally timestamps.csv, grading.toml); other files are "
                            "listed as rejected")
    grade.add_argument("--out", required=True, metavar="DIR",
                       help="where the gradebook, exports and feedback go")
    grade.add_argument("--bundle", default=None, metavar="DIR",
                       help="grading bundle folder (default: build/grading/<assignment>)")
    grade.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                       help="grader processes at once (default: the number of CPUs)")
    grade.add_argument("--timeout", type=float, default=60.0, metavar="S",
                       help="seconds for the notebook, and again for each question (default: 60)")
    grade.add_argument("--memory", type=int, default=3072, metavar="MB",
                       help="address-space limit of each sandbox in MB (default: 3072)")
    grade.add_argument("--force", action="store_true",
                       help="regrade submissions whose results are already up to date")
    grade.add_argument("--only", metavar="NAME", default=None,
                       help="regrade this one student (name as submitted or its folder name); "
                            "everyone else keeps their grades")
    grade.add_argument("--roster", metavar="CSV", default=None,
                       help="student_id,name,email: writes scores.csv (student_id,score) and "
                            "fills canvas.csv; a submission matches when its name is the ID "
                            "or the e-mail's local part; unmatched ones are listed")
    late = grade.add_argument_group(
        "deadlines", "override grading.toml in the submissions folder (keys due, grace, "
        "late_penalty, late_cap, policy); times from timestamps.csv (name,time with a UTC "
        "offset) or --times-from-files; a late submission loses --late-penalty per started "
        "24 h after --due, at most --late-cap")
    late.add_argument("--due", default=None, help="e.g. 2026-12-01T23:59+01:00 (offset required)")
    late.add_argument("--grace", default=None, help="e.g. 15m, 2h (default 0)")
    late.add_argument("--late-penalty", default=None, help="e.g. 10%%/day (default 0)")
    late.add_argument("--late-cap", default=None, help="largest penalty, e.g. 50%% (default 100%%)")
    late.add_argument("--timestamps", default=None, metavar="CSV",
                      help="submission times (default: SUBMISSIONS/timestamps.csv if present)")
    late.add_argument("--times-from-files", action="store_true",
                      help="use each notebook file's modification time as its submission time")
    late.add_argument("--policy", choices=("latest-on-time", "latest"), default=None,
                      help="which version counts (default latest-on-time: the latest "
                           "submitted on time, else the latest with its penalty)")
    manual = grade.add_argument_group("manual grading and overrides")
    manual.add_argument("--override", action="append", metavar="S,Q,SCORE,REASON",
                        help='set a question\'s points with a reason, e.g. '
                             'alice,q3,2.5,"plot fine, axis unlabelled" (repeatable), or a '
                             'CSV file student,question,score,reason; kept in the gradebook')
    manual.add_argument("--import-manual", metavar="CSV", default=None,
                        help="hand-graded scores: student,question,score,comment (comments "
                             "reach the feedback)")
    manual.add_argument("--export-manual", metavar="DIR", default=None,
                        help="write each hand-graded answer of every student (free-text "
                             "answer cells, and --manual-questions) into DIR/<item>.html/.md "
                             "with their outputs, and DIR/scores.csv to fill in and import")
    manual.add_argument("--manual-questions", metavar="Q1,Q2", default=None,
                        help="questions whose answer cells are graded by hand (plots, "
                             "explanations), for --export-manual")
    grade.add_argument("--return-feedback", metavar="FOLDER", default=None,
                       help="after grading, copy every student's feedback into "
                            "FOLDER/<student>/ (for upload)")
    cluster = grade.add_argument_group(
        "grading on a Dask cluster (needs the cluster extra: pip install -e '.[cluster]')",
        "Each submission goes to a worker of a Dask scheduler, which runs the same sandboxed "
        "grader process as local grading; expected values and points stay here, where every "
        "file is written. Workers must be trusted instructor machines with this environment "
        "(coursekit, numpy and torch versions are checked; a worker that differs is refused), "
        "and the scheduler must be unreachable by students: Dask's messages are pickled.")
    cluster.add_argument("--cluster", default=None, metavar="ADDRESS",
                         help="scheduler address, tcp://HOST:PORT or tls://HOST:PORT "
                              "(default: grade on this machine with --workers processes)")
    cluster.add_argument("--cluster-security", default=None, metavar="FILE",
                         help="YAML or JSON file of distributed.security.Security arguments "
                              "(tls_ca_file, tls_client_cert, tls_client_key, "
                              "require_encryption); required for tls://")
    cluster.add_argument("--cluster-retries", type=int, default=2, metavar="N",
                         help="times a submission is retried on another worker when the one "
                              "grading it dies or its task fails, before it is recorded as a "
                              "grader fault (default: 2)")
    grade.set_defaults(run=_grade)

    feedback = commands.add_parser(
        "feedback", help="return every student's feedback into a folder per student",
        description="Copy OUT/<student>/feedback.md (and results.json) of every graded "
                    "student into TO/<student>/, for upload to an LMS.")
    feedback.add_argument("--out", required=True, help="the grading output folder")
    feedback.add_argument("--to", required=True, help="destination folder")
    feedback.set_defaults(run=_feedback)

    release = commands.add_parser(
        "release", help="write the tree students get (no solutions, hidden tests, bundles)",
        description="Copy the repository's tracked files into OUT, leaving out solutions/, "
                    "the grading tests that hold answers, grading bundles and secrets; for "
                    "instructors who grade for credit.")
    release.add_argument("--out", required=True, help="destination folder (must be empty or "
                                                       "absent)")
    release.add_argument("--repo", default=".", help="repository root (default: .)")
    release.set_defaults(run=_release)
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
