"""Cells named as a student sees them in JupyterLab, never by a count.

JupyterLab numbers no cells, so feedback says "the answer cell of q4, `def
relu_layer_backward`" or "the check cell of q2", not "code cell 7". The question a
cell belongs to is the last heading ``## q4 — ...`` above it. ``check`` (in the
kernel and ``coursekit check``) and the grader use these names; this module imports
nothing but ``re``, so the kernel's ``check`` can use it without the sandbox.

    names = code_cell_names(cells)     # one name per code cell, in order
    name_code_cells("code cell 7 hung", names)  # -> "the answer cell of q4, `def f` hung"
"""

from __future__ import annotations

import re

#: a question's heading in an exercise notebook: ``## q4 — A layer's backward pass (2 points)``
QUESTION_HEADING = re.compile(r"^#{1,6}\s*(q[A-Za-z0-9_.-]*)\b", re.M)
#: the points a heading states: ``(2 points)``, ``(1.5 points)``, ``(1 point)``
HEADING_POINTS = re.compile(r"\((\d+(?:\.\d+)?)\s+points?\)")
_SETUP = re.compile(r"""checker\(\s*["'][^"']+["']\s*\)""")
_CHECK = re.compile(r"^check\(")
_DEF = re.compile(r"^(async\s+def|def|class)\s+([A-Za-z_]\w*)")
_COUNTED = re.compile(r"\b(?:code )?cell (\d+)\b")
MAX_SHOWN = 50


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def first_line(source: str) -> str:
    """The cell's first line that is not blank or a comment, shortened (``def name``)."""
    for line in source.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            match = _DEF.match(line)
            if match:
                return f"{match.group(1)} {match.group(2)}"
            return line if len(line) <= MAX_SHOWN else line[:MAX_SHOWN - 1].rstrip() + "…"
    return ""


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
    shown = f", `{line}`" if line else ""
    where = f" of {question}" if question else ""
    if cell.get("cell_type") != "code":
        return f"the text cell{where}"
    if _kind(cell) == "answer":
        return f"the answer cell{where}{shown}"
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
