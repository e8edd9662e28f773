"""Exercises and autograding: authoring, student self-check, sandboxed grading.

Instructors declare questions in ``solutions/<assignment>/tests.py`` with
``Question``, ``call``, ``value``, ``accuracy`` and ``raises``, hidden inputs drawn
from ``secret_rng`` (see ``coursekit.grading.spec``, ``coursekit.grading.secret`` and
``solutions/README.md``); students run ``check = checker("<assignment>")`` and
``check("q1")``; the ``coursekit`` command assigns, checks and grades.

Modules: ``spec`` (authoring API), ``secret`` (the instructor secret), ``notebook``
(release / rebuild), ``bundle`` (the record types, validated files), ``assign``,
``check``, ``runner`` (the child), ``sandbox`` (its confinement), ``supervisor``
(running it with deadlines), ``engine`` (runs with retries), ``messages`` (the
wording of feedback, shared by ``check`` and the grader), ``scoring``, ``grade`` and
``report``.
"""

__all__ = ["Question", "accuracy", "call", "checker", "raises", "secret_rng", "value"]


def __getattr__(name):
    # lazy, so that the grading child (which imports submodules) and a notebook's
    # setup cell load only what they use
    if name == "checker":
        from coursekit.grading.check import checker

        return checker
    if name in ("Question", "accuracy", "call", "raises", "value"):
        from coursekit.grading import spec

        return getattr(spec, name)
    if name == "secret_rng":
        from coursekit.grading.secret import secret_rng

        return secret_rng
    raise AttributeError(f"module 'coursekit.grading' has no attribute {name!r}")
