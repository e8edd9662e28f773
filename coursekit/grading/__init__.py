"""Exercises and autograding: authoring, student self-check, sandboxed grading.

Instructors declare questions in ``solutions/<assignment>/tests.py`` with
``Question``, ``call``, ``value`` and ``accuracy`` (see ``coursekit.grading.spec``
and ``solutions/README.md``); students run ``check = checker("<assignment>")`` and
``check("q1")``; the ``coursekit`` command assigns, checks and grades.

Modules: ``spec`` (authoring API), ``notebook`` (release / rebuild), ``assign``,
``check``, ``runner`` (the child), ``sandbox`` (its confinement), ``supervisor``
(running it with deadlines), ``engine`` (runs with retries),
``scoring``, ``grade`` and ``report``.
"""

__all__ = ["Question", "accuracy", "call", "checker", "value"]


def __getattr__(name):
    # lazy, so that the grading child (which imports submodules) and a notebook's
    # setup cell load only what they use
    if name == "checker":
        from coursekit.grading.check import checker

        return checker
    if name in ("Question", "accuracy", "call", "value"):
        from coursekit.grading import spec

        return getattr(spec, name)
    raise AttributeError(f"module 'coursekit.grading' has no attribute {name!r}")
