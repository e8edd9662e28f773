"""Exercises and autograding: authoring, student self-check, sandboxed grading.

Instructors declare questions in ``solutions/<assignment>/tests.py`` with
``Question``, ``call``, ``value`` and ``accuracy`` (see ``coursekit.grading.spec``
and ``solutions/README.md``); students run ``check = checker("<assignment>")`` and
``check("q1")``; the ``coursekit`` command assigns, checks and grades.

Modules: ``spec`` (authoring API), ``notebook`` (release / rebuild), ``assign``,
``check``, ``runner`` (the child), ``sandbox``, ``engine`` (runs with retries),
``scoring``, ``grade`` and ``report``.
"""

from coursekit.grading.check import checker
from coursekit.grading.spec import Question, accuracy, call, value

__all__ = ["Question", "accuracy", "call", "checker", "value"]
