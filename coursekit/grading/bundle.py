"""The grading records, one type each: a test case, a question, the plan for the child.

Everything the grader keeps or sends is built from these versioned dataclasses and
validated when it is read back:

- ``CaseRecord``: one test as stored in the bundle and, for public tests, in the
  package data ``check()`` reads (inputs, tolerances, points, expected value);
- ``QuestionRecord``: a question with its cases (and the reference definitions it
  may reuse, ``Question(inject=...)``; bundle only);
- ``PlanCase`` / ``PlanQuestion``: what the grading child receives (inputs only,
  never expected values or points).

``write_json(path, data, mode)`` is the one atomic write (temporary file, fsync,
rename). ``load_bundle(folder)`` and ``load_public(path)`` read and validate a
bundle or a public file; a bad file fails with ``BundleError`` naming the file and
the field (``bundle.json: questions[2].tests[0].rtol must be a number >= 0, got
'x'``). ``FORMAT`` is written into both files; a file of another format is refused
with the command that rebuilds it.

The records stay plain dicts in the rest of the pipeline (``to_dict``), so scoring,
reports and JSON see one shape.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

#: version of the bundle / public-file layout (1: the layout before it was versioned)
FORMAT = 2
KINDS = ("call", "value", "accuracy", "raises")
VISIBILITIES = ("public", "hidden")
REBUILD_HINT = "run `coursekit assign solutions/ --out exercises/` again"


class BundleError(ValueError):
    """A bundle or public-test file that is missing, unreadable or malformed."""


def _fail(where: str, message: str):
    raise BundleError(f"{where} {message}")


def _number(where: str, value, minimum: float | None = 0.0) -> float:
    if type(value) not in (int, float) or (minimum is not None and not value >= minimum):
        bound = f" >= {minimum:g}" if minimum is not None else ""
        _fail(where, f"must be a number{bound}, got {value!r:.60}")
    return float(value)


def _string(where: str, value, allowed=None) -> str:
    if type(value) is not str or (allowed is not None and value not in allowed):
        choice = f" (one of {', '.join(allowed)})" if allowed else ""
        _fail(where, f"must be a string{choice}, got {value!r:.60}")
    return value


@dataclass(frozen=True)
class PlanCase:
    """One test as the child sees it: how to call the student's code, on what."""

    key: str
    kind: str
    target: str
    args: object
    kwargs: object
    warnings: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PlanQuestion:
    """One question of the plan: its cases and the definitions injected before them."""

    q: str
    tests: list
    inject: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = {"q": self.q, "tests": [t.to_dict() for t in self.tests]}
        if self.inject:
            data["inject"] = dict(self.inject)
        return data


@dataclass(frozen=True)
class CaseRecord:
    """One test as the grader stores it (``scoring.score_test`` reads these fields)."""

    key: str
    visibility: str
    kind: str
    target: str
    label: str
    args: object
    kwargs: object
    rtol: float
    atol: float
    points: float
    warnings: str | None = None
    thresholds: list | None = None
    expected: object = None

    def to_dict(self) -> dict:
        return asdict(self)

    def plan(self) -> PlanCase:
        return PlanCase(self.key, self.kind, self.target, self.args, self.kwargs, self.warnings)

    @classmethod
    def from_dict(cls, data, where: str) -> CaseRecord:
        if type(data) is not dict:
            _fail(where, f"must be a test record (a JSON object), got {type(data).__name__}")
        missing = [f.name for f in fields(cls) if f.name not in data
                   and f.name not in ("warnings", "thresholds", "expected")]
        if missing:
            _fail(f"{where}.{missing[0]}", "is missing")
        _string(f"{where}.key", data["key"])
        _string(f"{where}.visibility", data["visibility"], VISIBILITIES)
        _string(f"{where}.kind", data["kind"], KINDS)
        _string(f"{where}.target", data["target"])
        _string(f"{where}.label", data["label"])
        for name in ("rtol", "atol", "points"):
            _number(f"{where}.{name}", data[name])
        if data.get("warnings") not in (None, "error"):
            _fail(f"{where}.warnings", f"must be null or \"error\", got {data['warnings']!r:.60}")
        thresholds = data.get("thresholds")
        if data["kind"] == "accuracy":
            if type(thresholds) is not list or not thresholds or not all(
                    type(pair) is list and len(pair) == 2 for pair in thresholds):
                _fail(f"{where}.thresholds", "must be a list of [accuracy, fraction] pairs")
            for i, (level, fraction) in enumerate(thresholds):
                _number(f"{where}.thresholds[{i}][0]", level)
                _number(f"{where}.thresholds[{i}][1]", fraction)
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})


@dataclass(frozen=True)
class QuestionRecord:
    """A question: id, title, points, its cases, and (bundle only) injected definitions."""

    id: str
    title: str
    points: float
    tests: list
    inject: dict = field(default_factory=dict)
    forbidden: list = field(default_factory=list)  # packages flagged if imported (integrity)

    def to_dict(self) -> dict:
        data = {"id": self.id, "title": self.title, "points": self.points,
                "tests": [t.to_dict() for t in self.tests], "forbidden": list(self.forbidden)}
        if self.inject:
            data["inject"] = dict(self.inject)
        return data

    def plan(self, visibility: str | None = None) -> PlanQuestion:
        return PlanQuestion(self.id, [t.plan() for t in self.tests
                                      if visibility is None or t.visibility == visibility],
                            dict(self.inject))

    @classmethod
    def from_dict(cls, data, where: str) -> QuestionRecord:
        if type(data) is not dict:
            _fail(where, f"must be a question (a JSON object), got {type(data).__name__}")
        for name in ("id", "title", "points", "tests"):
            if name not in data:
                _fail(f"{where}.{name}", "is missing")
        _string(f"{where}.id", data["id"])
        _string(f"{where}.title", data["title"])
        _number(f"{where}.points", data["points"])
        if type(data["tests"]) is not list:
            _fail(f"{where}.tests", "must be a list of test records")
        tests = [CaseRecord.from_dict(t, f"{where}.tests[{i}]")
                 for i, t in enumerate(data["tests"])]
        inject = data.get("inject") or {}
        if type(inject) is not dict or not all(type(k) is str and type(v) is str
                                               for k, v in inject.items()):
            _fail(f"{where}.inject", "must map names to source code")
        forbidden = data.get("forbidden") or []
        if type(forbidden) is not list or not all(type(m) is str for m in forbidden):
            _fail(f"{where}.forbidden", "must be a list of package names")
        return cls(data["id"], data["title"], float(data["points"]), tests, inject, forbidden)


def write_json(path: Path, data, mode: int = 0o644, indent: int | None = None) -> Path:
    """Write ``data`` as JSON to ``path`` atomically (readers see the old file or the new
    one, never a part), with permissions ``mode``; sorted keys, no NaN."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, sort_keys=True, indent=indent, allow_nan=False)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text + ("\n" if indent is not None else ""))
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return path


def _read(path: Path, what: str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise BundleError(f"cannot read the {what} {path}: {error.strerror}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise BundleError(f"the {what} {path} is not valid JSON ({error}); "
                          f"{REBUILD_HINT}") from None
    if type(data) is not dict:
        raise BundleError(f"the {what} {path} must hold a JSON object; {REBUILD_HINT}")
    version = data.get("format", 1)
    if version not in (1, FORMAT):
        raise BundleError(f"the {what} {path} has format {version!r}; this coursekit reads "
                          f"format {FORMAT}: {REBUILD_HINT}")
    return data


def _questions(data: dict, where: str) -> list[QuestionRecord]:
    if type(data.get("questions")) is not list or not data["questions"]:
        _fail(f"{where}: questions", "must be a non-empty list")
    return [QuestionRecord.from_dict(q, f"{where}: questions[{i}]")
            for i, q in enumerate(data["questions"])]


def validate_bundle(data: dict, where: str = "bundle.json") -> dict:
    """``data`` when it is a well-formed bundle, else ``BundleError`` naming the field."""
    _string(f"{where}: assignment", data.get("assignment"))
    _questions(data, where)
    release = data.get("release")
    if type(release) is not dict or type(release.get("cells")) is not list:
        _fail(f"{where}: release", "must be the release notebook (with a 'cells' list)")
    for i, cell in enumerate(release["cells"]):
        meta = cell.get("metadata", {}).get("coursekit") if type(cell) is dict else None
        if type(meta) is not dict or meta.get("kind") not in ("answer", "readonly") or \
                type(meta.get("id")) is not str:
            _fail(f"{where}: release.cells[{i}].metadata.coursekit",
                  "must give the cell's id and kind (answer or readonly)")
        if type(cell.get("source")) is not str:
            _fail(f"{where}: release.cells[{i}].source", "must be a string")
    return data


def validate_public(data: dict, where: str = "public.json") -> dict:
    """``data`` when it is a well-formed public-test file (no hidden tests, no injected
    reference code), else ``BundleError``."""
    _string(f"{where}: assignment", data.get("assignment"))
    for i, question in enumerate(_questions(data, where)):
        if question.inject:
            _fail(f"{where}: questions[{i}].inject", "must not be in a public file")
        for j, test in enumerate(question.tests):
            if test.visibility != "public":
                _fail(f"{where}: questions[{i}].tests[{j}].visibility", "must be public")
        hidden = data["questions"][i].get("hidden_tests")
        if type(hidden) is not int or hidden < 0:
            _fail(f"{where}: questions[{i}].hidden_tests", "must be a count >= 0")
    return data


def load_bundle(folder: Path, filename: str = "bundle.json") -> dict:
    """Read and validate ``folder/bundle.json`` (``BundleError`` when missing or bad)."""
    path = Path(folder) / filename
    if not path.is_file():
        raise BundleError(f"no grading bundle at {path}: run `coursekit assign solutions/ "
                          f"--out exercises/` first (or pass --bundle DIR)")
    return validate_bundle(_read(path, "grading bundle"), str(path))


def load_public(path: Path) -> dict:
    """Read and validate a public-test file (``coursekit/grading/public/NAME.json``)."""
    return validate_public(_read(path, "public-test file"), str(path))
