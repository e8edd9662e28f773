"""What feedback says: wording a student can act on, shared by ``check()`` and the grader.

Every message that names a cell, an unanswered question, a tolerance or the line that
raised is made here, so that the in-notebook ``check()`` and ``coursekit grade`` say
the same thing in the same words:

- ``cell_label(meta, source)``: a cell as the student sees it, by question and first
  line (``the answer cell of q4, `def relu_layer_backward` ``), never by a count or an
  internal id;
- ``unanswered(question)``: ``not answered yet: the answer cell of q4 still raises
  NotImplementedError``;
- ``none_hint()``: the hint for a function that returned ``None``;
- ``tolerance_words(rtol, atol)``: ``within 1e-06 relative (or 1e-08 absolute)``;
- ``at_line(label, line)``: where the student's code raised.

Cells as a student sees them in JupyterLab (which numbers no cells): the question a cell
belongs to is the last heading ``## q4 — ...`` above it (``question_of``);
``code_cell_names(cells)`` gives one name per code cell and ``name_code_cells(text,
names)`` rewrites "code cell 7" in a text; ``heading_points`` reads the points the
headings state; ``answer_lines`` the first line of each question's answer cells.

Pure functions of plain data (no imports of the grading machinery): the grading child
may import this module too.
"""

from __future__ import annotations

import re

_MAX_FIRST_LINE = 60


def first_line(source: str) -> str:
    """The first line of a cell that is neither blank, a comment nor the stub (shortened;
    ``def f(x):`` is shown as ``def f``)."""
    for line in str(source).splitlines():
        text = line.strip()
        if text and not text.startswith("#") and not text.startswith("raise NotImplementedError"):
            if text.startswith(("def ", "async def ", "class ")):
                text = re.split(r"[(:]", text, maxsplit=1)[0]
            return text if len(text) <= _MAX_FIRST_LINE else text[: _MAX_FIRST_LINE - 1].rstrip() + "…"
    return ""


def question_phrase(questions) -> str:
    """``q4`` or ``q4 and q5``."""
    questions = [str(q) for q in (questions or [])]
    if len(questions) <= 1:
        return "".join(questions)
    return ", ".join(questions[:-1]) + " and " + questions[-1]


def cell_label(meta: dict | None, source: str = "") -> str:
    """A cell as the student sees it: its kind, its question and its first line.

    ``meta`` is the cell's ``metadata["coursekit"]`` (``kind``: ``answer`` /
    ``readonly`` / ``added``; ``questions``: the questions an answer cell answers;
    ``after``: for an added cell, the label of the cell it follows).
    """
    meta = meta if isinstance(meta, dict) else {}
    kind = meta.get("kind")
    head = first_line(source)
    shown = f", `{head}`" if head else ""
    questions = meta.get("questions") or []
    if kind == "answer":
        if questions:
            return f"the answer cell of {question_phrase(questions)}{shown}"
        return f"an answer cell{shown}"
    if kind == "added":
        after = meta.get("after_label")
        where = f" after {after}" if after else " at the top of the notebook"
        return f"the cell you added{where}{shown}"
    if kind == "readonly":
        return f"the read-only cell{shown}"
    return f"the cell{shown}" if head else "a cell"


def unanswered(question: str | None = None, label: str | None = None) -> str:
    """What an unstarted question says (instead of ``NameError`` or a bare type)."""
    if label:
        return f"not answered yet: {label} still raises NotImplementedError"
    if question:
        return f"not answered yet: the answer cell of {question} still raises NotImplementedError"
    return "not answered yet: the answer cell still raises NotImplementedError"


def none_hint() -> str:
    return "got None — did you forget `return`?"


def _number(value: float) -> str:
    return f"{value:g}"


def tolerance_words(rtol: float, atol: float) -> str:
    """``within 1e-06 relative (or 1e-08 absolute)``; exact comparisons say so."""
    rtol, atol = float(rtol), float(atol)
    if rtol == 0 and atol == 0:
        return "exactly"
    if atol == 0:
        return f"within {_number(rtol)} relative"
    if rtol == 0:
        return f"within {_number(atol)} absolute"
    return f"within {_number(rtol)} relative (or {_number(atol)} absolute)"


def at_line(label: str, line: int | None) -> str:
    """``in the answer cell of q4, `def f`, line 3``."""
    if line is None:
        return f"in {label}"
    return f"in {label}, line {int(line)}"


def timed_out(target: str, seconds: float) -> str:
    """A test whose call did not return: names the function."""
    return (f"`{target}` did not return within {seconds:g} s (an endless loop, or far too "
            "slow?); this test was stopped, the others ran")


def memory_exhausted(label: str) -> str:
    return (f"{label} used up the memory the grader allows; it was skipped and the "
            "notebook was run again without it (the later cells ran without what it held)")


def cell_hung(label: str, seconds: float | None = None) -> str:
    limit = f" within {seconds:g} s" if seconds else ""
    return (f"{label} did not finish{limit}; it was skipped and the notebook was run "
            "again without it")


def skipped_answer(label: str) -> str:
    """A test of a question whose answer cell the grader had to skip."""
    return (f"{label} was skipped by the grader (see the notes: it crashed, hung or used up "
            "the memory), so what it defines does not exist")


def cell_crashed(label: str) -> str:
    return (f"{label} crashed the grading process; it was skipped and the notebook was run "
            "again without it")


#: a question's heading in an exercise notebook: ``## q4 — A layer's backward pass (2 points)``
QUESTION_HEADING = re.compile(r"^#{1,6}\s*(q[A-Za-z0-9_.-]*)\b", re.M)
#: the points a heading states: ``(2 points)``, ``(1.5 points)``, ``(1 point)``
HEADING_POINTS = re.compile(r"\((\d+(?:\.\d+)?)\s+points?\)")
_SETUP = re.compile(r"""checker\(\s*["'][^"']+["']\s*\)""")
_CHECK = re.compile(r"^check\(")
_DEF = re.compile(r"^(async\s+def|def|class)\s+([A-Za-z_]\w*)")
_COUNTED = re.compile(r"\b(?:code )?cell (\d+)\b")


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def question_of(cells: list[dict]) -> list[str | None]:
    """The question id (``"q4"``) each cell belongs to: the last question heading above
    it (or in it), None before the first."""
    current, out = None, []
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            found = QUESTION_HEADING.findall(_source(cell))
            if found:
                current = found[-1]
        out.append(current)
    return out


def heading_points(cells: list[dict]) -> dict[str, float]:
    """``{question id: points}`` as the question headings state them (``(2 points)``)."""
    points = {}
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        for line in _source(cell).splitlines():
            heading = QUESTION_HEADING.match(line)
            stated = HEADING_POINTS.search(line) if heading else None
            if stated:
                points[heading.group(1)] = float(stated.group(1))
    return points


def _kind(cell: dict) -> str | None:
    meta = cell.get("metadata") or {}
    meta = meta.get("coursekit") if isinstance(meta, dict) else None
    return meta.get("kind") if isinstance(meta, dict) else None


def cell_name(cell: dict, question: str | None) -> str:
    """How to name one cell to a student, e.g. "the answer cell of q4, `def f`"."""
    source = _source(cell)
    line = first_line(source)
    where = f" of {question}" if question else ""
    if cell.get("cell_type") != "code":
        return f"the text cell{where}"
    if _kind(cell) == "answer":
        return cell_label({"kind": "answer", "questions": [question] if question else []},
                          source)
    if _SETUP.search(source):
        return "the setup cell at the top (`check = checker(...)`)"
    if _CHECK.match(source.strip()):
        return f"the check cell{where} (`{source.strip().splitlines()[0]}`)"
    code = f" `{line}`" if line else " (empty)"
    return f"the cell{code} in {question}" if question else f"the cell{code} before q1"


def cell_names(cells: list[dict]) -> list[str]:
    """One name per cell (see ``cell_name``)."""
    return [cell_name(cell, q) for cell, q in zip(cells, question_of(cells))]


def code_cell_names(cells: list[dict]) -> list[str]:
    """One name per code cell, in order (the grader's code-cell index ``i`` is its index)."""
    return [name for cell, name in zip(cells, cell_names(cells))
            if cell.get("cell_type") == "code"]


def name_code_cells(text: str, names: list[str], one_based: bool = True) -> str:
    """``text`` with every "code cell N" / "cell N" replaced by that cell's name."""
    def replace(match):
        index = int(match.group(1)) - (1 if one_based else 0)
        return names[index] if 0 <= index < len(names) else match.group(0)

    return _COUNTED.sub(replace, text)


def answer_lines(cells: list[dict]) -> dict[str, list[str]]:
    """``{question id: [first line of each of its answer cells]}``."""
    out: dict[str, list[str]] = {}
    for cell, question in zip(cells, question_of(cells)):
        if cell.get("cell_type") == "code" and _kind(cell) == "answer" and question:
            out.setdefault(question, []).append(first_line(_source(cell)))
    return out
