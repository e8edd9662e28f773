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
            if text.startswith("def ") or text.startswith("class "):
                text = re.split(r"[(:]", text, maxsplit=1)[0]
            return text if len(text) <= _MAX_FIRST_LINE else text[: _MAX_FIRST_LINE - 3] + "..."
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
