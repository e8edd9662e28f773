"""The ``coursekit`` command: ``assign``, ``check`` and ``grade`` exercises.

    coursekit assign solutions/ --out exercises/ [--bundle build/grading] [--secret-file FILE]
    coursekit check exercises/01_linear_models.ipynb
    coursekit grade --assignment 01_linear_models --submissions DIR --out OUT
                    [--bundle DIR] [--workers N] [--timeout S] [--memory MB]
                    [--cluster tcp://HOST:PORT [--cluster-security FILE] [--cluster-retries N]]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _assign(args) -> int:
    from coursekit.grading import secret as secrets
    from coursekit.grading.assign import assign

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

    report, problems = check_notebook(Path(args.notebook), timeout=args.timeout)
    for line in problems:
        print(f"note: {line}")
    print(report.text())
    print(f"public tests: {report.points:.3g}/{report.max_points:.3g} points")
    return 0 if report.passed else 1


def _grade(args) -> int:
    from coursekit.grading.grade import grade

    summary = grade(assignment=args.assignment, submissions=Path(args.submissions),
                    out=Path(args.out), bundle=Path(args.bundle) if args.bundle else None,
                    workers=args.workers, timeout=args.timeout, memory_mb=args.memory,
                    force=args.force, cluster=args.cluster,
                    cluster_security=Path(args.cluster_security) if args.cluster_security
                    else None, cluster_retries=args.cluster_retries)
    print(f"graded {summary['graded']} submissions ({summary['skipped']} unchanged, skipped) "
          f"in {summary['seconds']:.1f} s -> {summary['grades_csv']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coursekit", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    assign = commands.add_parser("assign", help="write student notebooks, public tests and "
                                                "grading bundles from solutions/")
    assign.add_argument("solutions", help="folder of assignments (or one assignment folder)")
    assign.add_argument("--out", default="exercises", help="student notebooks (default: "
                                                            "exercises)")
    assign.add_argument("--bundle", default=os.path.join("build", "grading"),
                        help="folder for grading bundles (default: build/grading)")
    assign.add_argument("--public", default=None, metavar="DIR",
                        help="where the public tests go (default: the package's "
                             "coursekit/grading/public/)")
    assign.add_argument("--secret-file", default=None, metavar="FILE",
                        help="the instructor secret that draws hidden inputs and held-out "
                             "data (default: $COURSEKIT_SECRET, else a public default fit "
                             "only for self-study); keep it out of the repository")
    assign.set_defaults(run=_assign)

    check = commands.add_parser("check", help="run the public tests on a saved notebook")
    check.add_argument("notebook")
    check.add_argument("--timeout", type=float, default=300.0)
    check.set_defaults(run=_check)

    grade = commands.add_parser("grade", help="grade submissions in a sandbox")
    grade.add_argument("--assignment", required=True, help="e.g. 01_linear_models")
    grade.add_argument("--submissions", required=True,
                       help="DIR holding <student>.ipynb or <student>/<any>.ipynb")
    grade.add_argument("--out", required=True, help="where grades.csv and feedback go")
    grade.add_argument("--bundle", default=None,
                       help="grading bundle folder (default: build/grading/<assignment>)")
    grade.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    grade.add_argument("--timeout", type=float, default=60.0,
                       help="seconds for the notebook, and again for each question")
    grade.add_argument("--memory", type=int, default=3072, help="address-space limit in MB")
    grade.add_argument("--force", action="store_true",
                       help="regrade submissions whose results are already up to date")
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
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ValueError as error:
        print(f"coursekit {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
