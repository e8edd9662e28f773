"""Notebook surgery: solution stripping, release notebooks, rebuilding submissions.

- ``make_release(source_nb, assignment)``: the student version of an instructor's
  notebook. Code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes
  ``raise NotImplementedError(...)``; every cell gets a stable id (``answer-1``,
  ``answer-2``, ... for answer cells, ``cell-1``, ... for the others), outputs are
  cleared and read-only cells carry a checksum and ``editable: false``.
- ``read_submission(path)``: a student's file as a list of plain cell dicts, or
  ``SubmissionError`` with the reason (bad JSON, not a notebook, ...).
- ``rebuild(release, cells)``: the release notebook with the student's answer
  cells pasted in (matched by id, then metadata, then first line, then position) and
  the code cells the student added run where the student put them (after the cell
  they follow), as ``check()`` runs them. Read-only cells (their order, their text)
  come from the release.
- ``annotate_questions(release, questions)``: which questions each answer cell
  answers (feedback names cells by question, ``messages.cell_label``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
STUB_MESSAGE = "replace this line with your answer"
SETUP_PATTERN = re.compile(r"""checker\(\s*["']([^"']+)["']\s*\)""")
MAX_SUBMISSION_BYTES = 20 * 2**20  # above this, graded with outputs stripped (and told so)
MAX_READABLE_BYTES = 200 * 2**20  # above this, not read at all


class SubmissionError(ValueError):
    """A submission that cannot be read as a notebook (the reason is the message)."""


def checksum(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def strip_solution(source: str, cell_type: str = "code") -> tuple[str, bool]:
    """Replace every BEGIN/END SOLUTION block; return ``(new_source, had_a_block)``."""
    lines = source.splitlines()
    out, inside, found = [], False, False
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith(BEGIN_SOLUTION):
            if inside:
                raise ValueError(f"line {number}: {BEGIN_SOLUTION} inside another solution block")
            inside, found = True, True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f'{indent}raise NotImplementedError("{STUB_MESSAGE}")'
                       if cell_type == "code" else "YOUR ANSWER HERE")
        elif stripped.startswith(END_SOLUTION):
            if not inside:
                raise ValueError(f"line {number}: {END_SOLUTION} without {BEGIN_SOLUTION}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN_SOLUTION} without {END_SOLUTION}")
    return "\n".join(out), found


def setup_assignment(nb) -> str | None:
    """The assignment named by the notebook's ``checker("...")`` setup cell, if any."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            match = SETUP_PATTERN.search(cell.source)
            if match:
                return match.group(1)
    return None


def make_release(source_nb, assignment: str):
    """The student notebook (an ``nbformat`` node) made from an instructor's notebook."""
    import nbformat  # slow to import: only the authoring path needs it

    named = setup_assignment(source_nb)
    if named != assignment:
        raise ValueError(
            f"the solution notebook of {assignment!r} must start with a setup cell:\n"
            f"    from coursekit.grading import checker\n"
            f'    check = checker("{assignment}")\n'
            f"(found {named!r})")
    release = nbformat.v4.new_notebook()
    release.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "coursekit": {"assignment": assignment},
    }
    n_answers = n_other = 0
    for index, cell in enumerate(source_nb.cells):
        if cell.cell_type not in ("code", "markdown", "raw"):
            continue
        try:
            source, is_answer = strip_solution(cell.source, cell.cell_type)
        except ValueError as error:
            raise ValueError(f"cell {index} of the {assignment} solution: {error}") from None
        if is_answer:
            n_answers += 1
            cell_id, meta = f"answer-{n_answers}", {"kind": "answer"}
        else:
            n_other += 1
            cell_id, meta = f"cell-{n_other}", {"kind": "readonly", "checksum": checksum(source)}
        maker = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
                 "raw": nbformat.v4.new_raw_cell}[cell.cell_type]
        new = maker(source=source)
        new.id = cell_id
        new.metadata = {"coursekit": {"id": cell_id, **meta}}
        if not is_answer:
            new.metadata["editable"] = False
            new.metadata["deletable"] = False
        release.cells.append(new)
    if n_answers == 0:
        raise ValueError(f"the {assignment} solution has no {BEGIN_SOLUTION} block")
    nbformat.validate(release)
    return release


def add_to_heading(release, text: str) -> None:
    """Append a paragraph to the release's first markdown cell (the exercise heading)."""
    for cell in release.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.rstrip() + "\n\n" + text
            meta = cell.metadata["coursekit"]
            if meta.get("kind") == "readonly":
                meta["checksum"] = checksum(cell.source)
            return
    raise ValueError("the solution notebook needs a markdown heading cell (# Exercises ...)")


def plain_notebook(nb) -> dict:
    """A notebook as plain JSON data with every cell's source as one string."""
    data = json.loads(json.dumps(nb))
    for cell in data["cells"]:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    return data


def write_notebook(nb, path: Path) -> None:
    """Write deterministically (sorted keys, one-space indent, trailing newline)."""
    import nbformat

    text = nbformat.writes(nb)
    Path(path).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def read_submission(path: Path) -> list[dict]:
    """A student's notebook as ``[{"cell_type", "source", "id", "metadata"}, ...]``.

    Tolerant of lost metadata and odd ids; raises ``SubmissionError`` with a reason
    for anything that is not an nbformat-4 notebook.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_READABLE_BYTES:  # only sources are kept: a large file is read, not refused
        raise SubmissionError(f"file is {size / 2**20:.1f} MiB; the limit is "
                              f"{MAX_READABLE_BYTES // 2**20} MiB (clear large outputs)")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise SubmissionError("file is not UTF-8 text; submit the .ipynb notebook") from None
    except RecursionError:
        raise SubmissionError("file is JSON nested too deeply to be a notebook") from None
    except json.JSONDecodeError as error:
        raise SubmissionError(f"file is not valid JSON ({error.msg} at line {error.lineno}); "
                              "submit the .ipynb file saved by Jupyter") from None
    if type(data) is not dict or type(data.get("cells")) is not list:
        hint = " (nbformat 3 is not supported)" if isinstance(data, dict) and "worksheets" in data else ""
        raise SubmissionError(f"file is JSON but not a Jupyter notebook with a 'cells' list{hint}")
    cells = []
    for cell in data["cells"]:
        if type(cell) is not dict or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        source = cell.get("source", "")
        if type(source) is list:
            source = "".join(part for part in source if type(part) is str)
        if type(source) is not str:
            continue
        metadata = cell.get("metadata") if type(cell.get("metadata")) is dict else {}
        cells.append({"cell_type": cell["cell_type"], "source": source,
                      "id": cell.get("id") if type(cell.get("id")) is str else None,
                      "metadata": metadata})
    return cells


def _metadata_id(cell: dict):
    meta = cell["metadata"].get("coursekit")
    return meta.get("id") if type(meta) is dict else None


_DEFINITION = re.compile(r"^(?:def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=]*)?=[^=]",
                         re.M)


def _defined_names(source: str) -> list[str]:
    """Names a cell defines at top level (def, class, assignment), in order; no parsing,
    so a cell with a syntax error still matches."""
    return [m.group(1) or m.group(2) for m in _DEFINITION.finditer(source)]


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip() and not line.strip().startswith("#"):
            return line.strip()
    return ""


def annotate_questions(release, questions: dict[str, list[str]], reference=None) -> None:
    """Write into each answer cell's metadata which questions it answers.

    ``questions`` maps a question id to the names its tests look up (``model.coef_``
    counts as ``model``); an answer cell answers the questions whose names it defines
    in the reference solution (``reference``, the instructor's notebook: cell k of the
    release is its cell k; without it, the release's own text). Feedback then names
    the cell by its question (``messages.cell_label``).
    """
    sources = None
    if reference is not None:
        sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                   for c in reference["cells"] if c["cell_type"] in ("code", "markdown", "raw")]
    for index, cell in enumerate(release["cells"]):
        meta = cell["metadata"].get("coursekit", {})
        if meta.get("kind") != "answer":
            continue
        text = sources[index] if sources is not None and index < len(sources) else cell["source"]
        defined = set(_defined_names(text))
        meta["questions"] = [qid for qid, names in questions.items()
                             if defined & {name.split(".")[0] for name in names}]


def _release_index(release) -> tuple[dict, dict]:
    """``(read-only id -> release position, stripped source -> release position)``."""
    by_id, by_source = {}, {}
    for position, cell in enumerate(release["cells"]):
        meta = cell["metadata"]["coursekit"]
        if meta["kind"] == "readonly":
            by_id[meta["id"]] = position
            if cell["cell_type"] == "code":
                by_source.setdefault(cell["source"].strip(), position)
    return by_id, by_source


def rebuild(release, cells: list[dict]):
    """The notebook the grader runs: the release, the student's answer cells, and the
    code cells the student added, where the student put them.

    Each answer cell is found by id, then by ``metadata.coursekit.id``, then by its
    first line, then by the first name it defines, then by position (same number of
    code cells). Cells that are copies of read-only cells are never answers.
    Read-only cells always come from the release (their text, their order).

    Every other code cell of the submission (a helper the student wrote in a new cell,
    half of an answer split in two, an older copy of an answer) is *added*: it runs
    right after the release cell that it follows in the submission (the last
    read-only or answer cell above it), so that grading runs what ``check()`` ran.
    Added cells get ``metadata.coursekit = {"id": "added-N", "kind": "added",
    "after": id, "after_label": ...}``. Markdown the student added is left out (it
    does not run).

    ``release`` is plain data (``plain_notebook``); so is the result.

    Returns ``(notebook, notes)``; notes say what the matching had to do (missing
    answers, edited read-only cells, duplicates) for the feedback file.
    """
    from coursekit.grading.messages import cell_label

    rebuilt = copy.deepcopy(release)
    notes: list[str] = []
    code = [c for c in cells if c["cell_type"] == "code"]
    readonly = {c["metadata"]["coursekit"]["id"]: c for c in release["cells"]
                if c["metadata"]["coursekit"]["kind"] == "readonly"}
    readonly_sources = {c["source"].strip() for c in readonly.values()}
    expected_name = release.get("metadata", {}).get("coursekit", {}).get("assignment")
    named = {m.group(1) for c in cells if c["cell_type"] == "code"
             for m in [SETUP_PATTERN.search(c["source"])] if m}
    if expected_name and named and expected_name not in named:
        notes.append(f"this notebook is the exercise {sorted(named)[0]!r}, not "
                     f"{expected_name!r}: was the right file submitted?")
    for cell in cells:  # edited read-only cells: noted, ignored
        original = readonly.get(cell["id"])
        if original is not None and checksum(cell["source"]) != checksum(original["source"]):
            notes.append(f"{cell_label(original['metadata']['coursekit'], original['source'])} "
                         "was edited; the original was used")
    # answer cells candidates: code cells that are not copies of read-only cells
    candidates = [i for i, c in enumerate(code) if c["source"].strip() not in readonly_sources]
    used: set[int] = set()
    answers = [c for c in rebuilt["cells"] if c["metadata"]["coursekit"]["kind"] == "answer"]
    release_code = [c for c in release["cells"] if c["cell_type"] == "code"]

    def label_of(cell_id):
        cell = next(c for c in release["cells"] if c["metadata"]["coursekit"]["id"] == cell_id)
        return cell_label(cell["metadata"]["coursekit"], cell["source"])

    def pick(matches, how, cell_id):
        matches = [i for i in matches if i not in used]
        if not matches:
            return None
        if len(matches) > 1:
            notes.append(f"{len(matches)} cells match {label_of(cell_id)} ({how}); the last "
                         "one was graded as the answer, the others ran where they are")
        return matches[-1]

    answer_at: dict[int, int] = {}  # student code index -> release position
    position_of = {c["metadata"]["coursekit"]["id"]: p for p, c in enumerate(rebuilt["cells"])}
    for answer in answers:
        cell_id = answer["metadata"]["coursekit"]["id"]
        chosen = pick([i for i in candidates if code[i]["id"] == cell_id], "by id", cell_id)
        if chosen is None:
            chosen = pick([i for i in candidates if _metadata_id(code[i]) == cell_id],
                          "by metadata", cell_id)
        if chosen is None and _first_line(answer["source"]):
            head = _first_line(answer["source"])
            chosen = pick([i for i in candidates if _first_line(code[i]["source"]) == head],
                          "by first line", cell_id)
        if chosen is None and _defined_names(answer["source"]):
            first = _defined_names(answer["source"])[0]
            chosen = pick([i for i in candidates if first in _defined_names(code[i]["source"])],
                          f"by the name {first}", cell_id)
        if chosen is None and len(code) == len(release_code):
            position = next(i for i, c in enumerate(release_code) if c is not None
                            and c["metadata"]["coursekit"]["id"] == cell_id)
            if position in candidates and position not in used:
                chosen = position
        if chosen is None:
            notes.append(f"{label_of(cell_id)} was not found in the submission; it was "
                         "graded as unanswered")
            continue
        used.add(chosen)
        answer_at[chosen] = position_of[cell_id]
        answer["source"] = code[chosen]["source"]
    _insert_added_cells(rebuilt, code, answer_at, notes)
    return rebuilt, notes


def _insert_added_cells(rebuilt, code: list[dict], answer_at: dict, notes: list) -> None:
    """Put the student's other code cells after the release cell they follow."""
    from coursekit.grading.messages import cell_label

    by_id, by_source = _release_index(rebuilt)
    attached: dict[int, list[dict]] = {}  # release position (-1: top) -> added cells
    anchor = -1
    for index, cell in enumerate(code):
        if index in answer_at:
            anchor = answer_at[index]
            continue
        known = by_id.get(cell["id"]) if cell["id"] is not None else None
        if known is None and _metadata_id(cell) in by_id:
            known = by_id[_metadata_id(cell)]
        if known is None:
            known = by_source.get(cell["source"].strip())
        if known is not None:  # a read-only cell (its release text runs)
            anchor = known
            continue
        if not cell["source"].strip():
            continue
        attached.setdefault(anchor, []).append(cell)
    if not attached:
        return
    cells, number = [], 0
    for position in range(-1, len(rebuilt["cells"])):
        if position >= 0:
            cells.append(rebuilt["cells"][position])
        for cell in attached.get(position, []):
            number += 1
            after = rebuilt["cells"][position] if position >= 0 else None
            after_meta = after["metadata"]["coursekit"] if after else None
            meta = {"id": f"added-{number}", "kind": "added",
                    "after": after_meta["id"] if after else None,
                    "after_label": cell_label(after_meta, after["source"]) if after else None}
            cells.append({"cell_type": "code", "id": meta["id"], "source": cell["source"],
                          "metadata": {"coursekit": meta}, "outputs": [],
                          "execution_count": None})
    rebuilt["cells"] = cells
