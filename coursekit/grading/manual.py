"""Hand grading: export each student's answer for a person to grade, import the scores.

``coursekit grade ... --export-manual DIR`` writes, for every answer cell graded by hand --
each free-text (Markdown) answer cell of the release, and the answer cells of the questions
named with ``--manual-questions q6,q7`` (plots, explanations in code cells) -- one file
``DIR/<question or cell>.html`` (and ``.md``) holding each student's answer as submitted,
with the outputs the student's notebook stored (text, and PNG images embedded), plus
``DIR/scores.csv``, a ``student,question,score,comment`` template to fill in. Importing it
back (``--import-manual DIR/scores.csv``) records the scores with their comments in the
gradebook (``overrides``, source ``manual``); a filled score replaces that question's
points, a blank one is skipped, and the comment reaches the student's feedback.

Student HTML outputs are shown as text (escaped), never rendered.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path

from coursekit.grading.notebook import SubmissionError, read_submission, rebuild
from coursekit.grading.report import atomic_write


def manual_items(bundle: dict, questions: list[str]) -> list[tuple[str, str, list[str]]]:
    """``(item name, question id or "", [answer cell ids])`` to export."""
    from coursekit.grading.integrity import question_cells

    release = bundle["release"]
    items = []
    for cell in release["cells"]:
        meta = cell["metadata"]["coursekit"]
        if meta["kind"] == "answer" and cell["cell_type"] == "markdown":
            items.append((meta["id"], "", [meta["id"]]))
    known = {q["id"] for q in bundle["questions"]}
    answers = {c["metadata"]["coursekit"]["id"]: c["source"] for c in release["cells"]
               if c["metadata"]["coursekit"]["kind"] == "answer"}
    # the release's answer cells are stubs: map questions with the reference names in them
    cells = question_cells(bundle["questions"], answers)
    for qid in questions:
        if qid not in known:
            raise ValueError(f"--manual-questions: no question {qid!r} (questions: "
                             f"{', '.join(sorted(known))})")
        items.append((qid, qid, cells.get(qid) or []))
    return items


def _outputs_html(outputs: list) -> str:
    parts = []
    for output in outputs or []:
        if not isinstance(output, dict):
            continue
        data = output.get("data") if isinstance(output.get("data"), dict) else {}
        if output.get("output_type") == "stream":
            text = output.get("text", "")
            parts.append(f"<pre>{html.escape(''.join(text) if isinstance(text, list) else str(text))}</pre>")
        elif "image/png" in data:
            png = data["image/png"]
            png = "".join(png) if isinstance(png, list) else str(png)
            if re.fullmatch(r"[A-Za-z0-9+/=\s]*", png):
                parts.append(f'<img alt="output" src="data:image/png;base64,{png.strip()}">')
        elif "text/plain" in data:
            text = data["text/plain"]
            parts.append(f"<pre>{html.escape(''.join(text) if isinstance(text, list) else str(text))}</pre>")
        elif output.get("output_type") == "error":
            parts.append(f"<pre>{html.escape(str(output.get('ename')))}: "
                         f"{html.escape(str(output.get('evalue')))}</pre>")
    return "".join(parts)


def _student_cells(release: dict, path: Path) -> dict[str, tuple[str, list]]:
    """``{answer cell id: (source, outputs)}`` of one submission (outputs as stored)."""
    try:
        notebook, _ = rebuild(release, read_submission(path))
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (SubmissionError, OSError, ValueError):
        return {}
    by_source = {}
    for cell in raw.get("cells", []) if isinstance(raw, dict) else []:
        if isinstance(cell, dict):
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            by_source[source] = cell.get("outputs") or []
    return {c["metadata"]["coursekit"]["id"]: (c["source"], by_source.get(c["source"], []))
            for c in notebook["cells"] if c["metadata"]["coursekit"]["kind"] == "answer"}


def export_manual(folder: Path, bundle: dict, counted: list, questions: list[str]) -> list[Path]:
    """Write one file per hand-graded item and a scores template; returns the paths."""
    folder = Path(folder)
    items = manual_items(bundle, questions)
    if not items:
        raise ValueError("nothing to grade by hand: the release has no free-text answer cells; "
                         "name questions with --manual-questions q6,q7")
    students = [(c.student, _student_cells(bundle["release"], Path(c.record["file"])))
                for c in counted]
    written = []
    template = []
    for name, qid, cell_ids in items:
        page = [f"<h1>{html.escape(bundle['assignment'])}: {html.escape(name)} (graded by hand)"
                "</h1>"]
        md = [f"# {bundle['assignment']}: {name} (graded by hand)", ""]
        for student, cells in students:
            page.append(f"<h2 id=\"{html.escape(student)}\">{html.escape(student)}</h2>")
            md += [f"## {student}", ""]
            for cell_id in cell_ids:
                source, outputs = cells.get(cell_id, ("(not found in the submission)", []))
                page.append(f"<pre>{html.escape(source)}</pre>{_outputs_html(outputs)}")
                md += ["```", source, "```", ""]
            template.append([student, qid or name, "", ""])
        path = folder / f"{name}.html"
        atomic_write(path, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>"
                     f"{html.escape(name)}</title></head><body>" + "".join(page) +
                     "</body></html>\n")
        atomic_write(folder / f"{name}.md", "\n".join(md) + "\n")
        written.append(path)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "question", "score", "comment"])
    writer.writerows(template)
    atomic_write(folder / "scores.csv", buffer.getvalue())
    return written + [folder / "scores.csv"]
