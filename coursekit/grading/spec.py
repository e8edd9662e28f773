"""How an instructor declares questions and tests (in ``solutions/<assignment>/tests.py``).

    from coursekit.grading import Question, accuracy, call, value

    QUESTIONS = [
        Question("q1", points=2, title="Closed-form least squares",
                 public=[call("fit_least_squares", X_small, y_small)],
                 hidden=[call("fit_least_squares", X_big, y_big, rtol=1e-6)]),
    ]

Four kinds of test, each naming something the student's notebook defines:

- ``call(name, *args, kwargs=None, ..., warnings=None)``: call the student's function
  on these inputs; compare with what the reference solution returns on the same
  inputs. ``warnings="error"``: a warning raised during the call fails the test.
- ``raises(name, *args, kwargs=None, exception=ValueError)``: the call must raise
  ``exception`` (or a subclass); returning, or raising another type, fails.
- ``value(name, ...)``: read the student's variable; compare with the reference's.
- ``accuracy(name, X, y, thresholds=...)``: ``name`` is a trained model (an object
  with ``.predict``, or a function); its predictions on ``X`` are scored against
  the labels ``y``; the credit is the largest fraction in ``thresholds`` whose
  accuracy is reached.

Expected values are computed at ``coursekit assign`` time by running the
reference solution (or given explicitly with ``expected=``).

Points: when a question has public and hidden tests, its public tests together
carry ``public_share`` of its points (default ``DEFAULT_PUBLIC_SHARE``, 5 %) and its
hidden tests the rest, each group split in proportion to ``weight``; a question with
one group only splits all its points by ``weight``. ``coursekit assign`` refuses an
assignment whose public tests carry more than ``MAX_PUBLIC_SHARE`` (10 %) of its
points: their expected values are visible, so they can be hard-coded.

Hidden inputs come from ``secret_rng`` (``coursekit.grading.secret``).
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from coursekit.grading.values import to_plain

ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,39}$")
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_NOT_GIVEN = object()
DEFAULT_PUBLIC_SHARE = 0.05
MAX_PUBLIC_SHARE = 0.10
WARNING_MODES = (None, "error")


@dataclass
class GradedTest:
    """One test: what to evaluate in the student's namespace and how to score it."""

    kind: str  # "call" | "value" | "accuracy" | "raises"
    target: str  # a name in the notebook's namespace (dotted attributes allowed)
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    rtol: float = 1e-5
    atol: float = 1e-8
    weight: float = 1.0
    thresholds: dict | None = None  # accuracy -> fraction of the weight
    expected: object = _NOT_GIVEN
    note: str = ""  # shown to students in messages (e.g. "a 1-D input")
    warnings: str | None = None  # "error": a warning during the call fails the test

    @property
    def has_expected(self) -> bool:
        return self.expected is not _NOT_GIVEN

    def label(self) -> str:
        """How the test is named in messages (no inputs, safe for hidden tests)."""
        if self.kind == "raises":
            names = " or ".join(name.rsplit(".", 1)[-1] for name in self.expected)
            what = f"{self.target}(...) raises {names}"
        else:
            what = {"call": f"{self.target}(...)", "value": self.target,
                    "accuracy": f"accuracy of {self.target}"}[self.kind]
        return f"{what} {self.note}".strip()


def _check_target(target) -> str:
    if not isinstance(target, str) or not NAME_PATTERN.match(target):
        raise ValueError(
            f"target must be the name of a function or variable in the notebook "
            f"(e.g. 'fit_least_squares'), got {target!r}")
    return target


def _check_tolerance(name: str, tol) -> float:
    tol = float(tol)
    if not tol >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {tol}")
    return tol


def _check_weight(weight) -> float:
    weight = float(weight)
    if not weight > 0:
        raise ValueError(f"weight must be > 0, got {weight}")
    return weight


def _plain_inputs(args, kwargs):
    try:
        return to_plain(list(args)), to_plain(dict(kwargs))
    except TypeError as error:
        raise ValueError(f"test inputs must be numbers, arrays, strings or lists/dicts "
                         f"of them: {error}") from None


def _check_warnings(warnings) -> str | None:
    if warnings not in WARNING_MODES:
        raise ValueError(f"warnings must be None (warnings are ignored) or \"error\" (a "
                         f"warning fails the test), got {warnings!r}")
    return warnings


def call(target: str, *args, kwargs: dict | None = None, rtol: float = 1e-5,
         atol: float = 1e-8, weight: float = 1.0, expected=_NOT_GIVEN, note: str = "",
         warnings: str | None = None) -> GradedTest:
    """Test ``target(*args, **kwargs)`` against the reference's result on the same inputs.

    ``warnings="error"``: any warning raised while the call runs (e.g. NumPy's
    ``RuntimeWarning: overflow encountered in exp``) fails the test, and the
    feedback names it; NumPy's floating-point error state is reset to "warn" for
    the call, so an ``np.seterr(all="ignore")`` elsewhere does not hide it.
    """
    plain_args, plain_kwargs = _plain_inputs(args, kwargs or {})
    return GradedTest("call", _check_target(target), plain_args, plain_kwargs,
                _check_tolerance("rtol", rtol), _check_tolerance("atol", atol),
                _check_weight(weight), None,
                expected if expected is _NOT_GIVEN else to_plain(expected), note,
                _check_warnings(warnings))


def _exception_name(exception) -> str:
    if not (isinstance(exception, type) and issubclass(exception, Exception)):
        raise ValueError(f"exception must be an exception class such as ValueError or "
                         f"TypeError (or a tuple of them), got {exception!r:.60}")
    module = exception.__module__
    return exception.__qualname__ if module == "builtins" else f"{module}.{exception.__qualname__}"


def raises(target: str, *args, kwargs: dict | None = None, exception=ValueError,
           weight: float = 1.0, note: str = "") -> GradedTest:
    """Test that ``target(*args, **kwargs)`` raises ``exception`` (or a subclass of it).

    ``exception`` is an exception class or a tuple of them (any one passes). Returning
    normally, or raising another type, fails with a message that says which; for
    public tests the student's exception message is shown too.
    """
    classes = exception if isinstance(exception, tuple) else (exception,)
    if not classes:
        raise ValueError("exception must name at least one exception class")
    names = [_exception_name(cls) for cls in classes]
    plain_args, plain_kwargs = _plain_inputs(args, kwargs or {})
    return GradedTest("raises", _check_target(target), plain_args, plain_kwargs, 0.0, 0.0,
                _check_weight(weight), None, names, note)


def value(target: str, rtol: float = 1e-5, atol: float = 1e-8, weight: float = 1.0,
          expected=_NOT_GIVEN, note: str = "") -> GradedTest:
    """Test the student's variable ``target`` against the reference's."""
    return GradedTest("value", _check_target(target), [], {}, _check_tolerance("rtol", rtol),
                _check_tolerance("atol", atol), _check_weight(weight), None,
                expected if expected is _NOT_GIVEN else to_plain(expected), note)


def accuracy(target: str, X, y, thresholds: dict, weight: float = 1.0, note: str = "",
             warnings: str | None = None) -> GradedTest:
    """Score ``target.predict(X)`` (or ``target(X)``) against labels ``y``.

    ``thresholds`` maps a minimum accuracy to the fraction of this test's weight it
    earns, e.g. ``{0.80: 0.5, 0.85: 1.0}``: 84 % earns half, 85 % or more all of it.
    ``warnings="error"`` as for ``call``. For hidden tests, draw ``X, y`` from
    ``secret_rng`` (held-out data no student can reach).
    """
    if not isinstance(thresholds, dict) or not thresholds:
        raise ValueError(f"thresholds must be a non-empty dict {{min_accuracy: fraction}}, "
                         f"got {thresholds!r}")
    clean = {}
    for level, fraction in thresholds.items():
        level, fraction = float(level), float(fraction)
        if not (0 <= level <= 1 and 0 < fraction <= 1):
            raise ValueError(f"thresholds must map accuracies in [0, 1] to fractions in "
                             f"(0, 1], got {level}: {fraction}")
        clean[level] = fraction
    plain_args, _ = _plain_inputs([X], {})
    labels = to_plain(y)
    if type(labels) is not np.ndarray or labels.ndim != 1:
        raise ValueError(f"y must be a 1-D array of labels, got {y!r:.60}")
    if type(plain_args[0]) is not np.ndarray or len(plain_args[0]) != len(labels):
        raise ValueError("X must be an array with one row per label in y")
    return GradedTest("accuracy", _check_target(target), plain_args, {}, 0.0, 0.0,
                _check_weight(weight), dict(sorted(clean.items())), labels, note,
                _check_warnings(warnings))


@dataclass
class Question:
    """A graded question: an id (e.g. "q1"), its points, public and hidden tests.

    ``public_share``: the fraction of the points its public tests carry together
    when it has hidden tests too (see the module docstring). ``forbidden``: packages its
    answer must not import (``("sklearn", "torch")``); ``coursekit grade`` flags an import
    of them for a human look (``grading/integrity.py``), never a score change.

    ``inject``: names of functions (or classes) that other questions' answers define
    and this question's answer may call, e.g. ``inject=["linear_backward"]`` for a
    q6 that reuses q4. While this question's tests run, the grader puts the
    *reference's* definitions of these names in place (taken from the solution
    notebook at assign time, kept in the bundle only), so a mistake in q4 costs q4
    alone. ``check()`` does not inject (students never see the reference).
    """

    id: str
    points: float
    title: str = ""
    public: list = field(default_factory=list)
    hidden: list = field(default_factory=list)
    public_share: float = DEFAULT_PUBLIC_SHARE
    inject: list = field(default_factory=list)
    forbidden: tuple = ()  # packages the answer must not import (flagged, not penalized)

    def __post_init__(self):
        if not isinstance(self.id, str) or not ID_PATTERN.match(self.id):
            raise ValueError(f"Question id must look like 'q1' (letters, digits, _ . -), "
                             f"got {self.id!r}")
        self.points = float(self.points)
        if not self.points >= 0:
            raise ValueError(f"Question {self.id}: points must be >= 0, got {self.points}")
        for kind in ("public", "hidden"):
            tests = list(getattr(self, kind))
            for test in tests:
                if not isinstance(test, GradedTest):
                    raise TypeError(f"Question {self.id}: {kind} must hold tests made with "
                                    f"call(), value(), accuracy() or raises(), "
                                    f"got {test!r:.60}")
            setattr(self, kind, tests)
        if not self.public and not self.hidden:
            raise ValueError(f"Question {self.id} has no tests; give public= or hidden=")
        self.inject = [self.inject] if isinstance(self.inject, str) else list(self.inject)
        for name in self.inject:
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"Question {self.id}: inject must list names of functions "
                                 f"that other answers define, got {name!r}")
        forbidden = (self.forbidden,) if isinstance(self.forbidden, str) else self.forbidden
        self.forbidden = tuple(forbidden)
        if not all(isinstance(m, str) and NAME_PATTERN.match(m) for m in self.forbidden):
            raise ValueError(f"Question {self.id}: forbidden must list package names such as "
                             f"('sklearn', 'torch'), got {self.forbidden!r}")
        self.public_share = float(self.public_share)
        if not 0 < self.public_share < 1:
            raise ValueError(f"Question {self.id}: public_share must be a fraction between 0 "
                             f"and 1 (e.g. 0.05), got {self.public_share}")

    def tests(self):
        """``(visibility, index, test)`` for every test, public first."""
        return [("public", i, t) for i, t in enumerate(self.public)] + [
            ("hidden", i, t) for i, t in enumerate(self.hidden)]

    def test_points(self, test: GradedTest) -> float:
        """The points ``test`` carries (``public_share`` for the public group, see above)."""
        if self.public and self.hidden:
            group = self.public if any(t is test for t in self.public) else self.hidden
            share = self.public_share if group is self.public else 1 - self.public_share
            return self.points * share * test.weight / sum(t.weight for t in group)
        total = sum(t.weight for _, _, t in self.tests())
        return self.points * test.weight / total

    def public_points(self) -> float:
        return sum(self.test_points(t) for t in self.public)


def load_questions(tests_file: Path, secret: str | None = None,
                   assignment: str | None = None) -> list[Question]:
    """Import an instructor's ``tests.py`` and return its ``QUESTIONS`` (validated).

    While it runs, ``secret_rng`` uses ``secret`` and ``assignment`` (by default the
    secret ``resolve_secret()`` finds and the folder's name).
    """
    from coursekit.grading import secret as secrets

    tests_file = Path(tests_file)
    if not tests_file.is_file():
        raise ValueError(f"tests file {tests_file} not found: put a tests.py declaring "
                         "QUESTIONS beside the solution notebook")
    spec = importlib.util.spec_from_file_location(f"_coursekit_tests_{abs(hash(tests_file))}",
                                                  tests_file)
    module = importlib.util.module_from_spec(spec)
    with secrets.using(secret if secret is not None else secrets.resolve_secret()[0],
                       assignment if assignment is not None else tests_file.parent.name):
        spec.loader.exec_module(module)
    questions = getattr(module, "QUESTIONS", None)
    if not isinstance(questions, (list, tuple)) or not questions:
        raise ValueError(f"{tests_file} must define QUESTIONS = [Question(...), ...]")
    seen = set()
    for question in questions:
        if not isinstance(question, Question):
            raise TypeError(f"{tests_file}: QUESTIONS must hold Question objects, "
                            f"got {question!r:.60}")
        if question.id in seen:
            raise ValueError(f"{tests_file}: question id {question.id!r} is used twice")
        seen.add(question.id)
    return list(questions)
