"""Grading output, derived from the gradebook (``gradebook.py``) after every run.

Per submission (its counted version), in ``OUT/<submission folder>/``:

- ``feedback.md``: points per question, every test by name and result; hidden tests
  are named with their message but never their inputs or expected values; notes
  (missing cells, crashes) and code flagged for manual review;
- ``results.json``: Gradescope's format (``score``, ``tests`` with ``name``,
  ``score``, ``max_score``, ``output``, ``visibility``), the full record under
  ``extra_data``. Written last, atomically: its presence means "graded".

For the class (every file written atomically; see ``write_exports``):

- ``grades.csv``: one row per student: ``submission`` (the name as submitted, Unicode),
  ``folder``, ``score`` (after overrides and penalty), ``max_score``, ``raw_score``,
  ``penalty`` (a fraction), ``late`` (0/1), ``submitted_at`` (UTC), ``versions``,
  ``flags`` (how many), ``error``, then one column of points per question;
- ``tests.csv``: the long per-test table of the counted versions;
- ``canvas.csv``: a Canvas gradebook import (``Student, ID, SIS User ID, SIS Login ID,
  Section, <assignment>``, with a ``Points Possible`` row); Canvas matches rows by
  ``SIS User ID`` (the roster's ``student_id``) or ``SIS Login ID`` (the e-mail's local part);
- ``scores.csv``: ``student_id,score`` for the submissions matched to the roster
  (``--roster``; unmatched ones listed in ``unmatched.txt`` and the class report);
- ``report.md`` and ``report.html``: the class report (statistics per question with a
  histogram, the most-failed tests, every flag, every rejected file, every
  wrong-assignment note, late submissions, overrides, the counting policy).
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

RESULTS_FILE = "results.json"
FEEDBACK_FILE = "feedback.md"
GRADES_FILE = "grades.csv"


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old or the new file, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _fmt(points: float) -> str:
    return f"{points:.4g}"


def feedback_text(record: dict) -> str:
    lines = [f"# Feedback: {record['assignment']} — {record['submission']}", "",
             f"**Score: {_fmt(record['score'])} / {_fmt(record['max_score'])}**", ""]
    if record.get("error"):
        lines += [f"Your submission could not be graded: {record['error']}", ""]
    if record.get("late"):
        lines += [f"Submitted {record.get('submitted_at')}, after the deadline: late "
                  f"penalty {record.get('penalty', 0):.0%} (score before the penalty: "
                  f"{_fmt(record.get('raw_score', record['score']))}).", ""]
    overrides = {o["question"]: o for o in record.get("overrides") or []}
    for question in record["questions"]:
        title = f" — {question['title']}" if question["title"] else ""
        lines.append(f"## {question['id']}{title}: {_fmt(question['points'])} / "
                     f"{_fmt(question['max_points'])}")
        for test in question["tests"]:
            number = int(test["key"].split("/")[1]) + 1
            lines.append(f"- {test['visibility']} test {number}, {test['label']}: "
                         f"{test['status']} ({_fmt(test['points'])}/"
                         f"{_fmt(test['max_points'])}) — {test['message']}")
        if question["id"] in overrides:
            override = overrides[question["id"]]
            what = "graded by hand" if override["source"] == "manual" else "changed by the instructor"
            lines.append(f"- {what}: {_fmt(override['to'])} points — {override['reason']}")
        lines.append("")
    if record.get("cell_errors"):
        lines.append("## Errors while running your notebook")
        lines += [f"- {line}" for line in record["cell_errors"]] + [""]
    if record.get("notes"):
        lines.append("## Notes")
        lines += [f"- {note}" for note in record["notes"]] + [""]
    if record.get("suspicious"):
        lines.append("## Flagged for manual review")
        lines += [f"- {flag}" for flag in record["suspicious"]] + [""]
    return "\n".join(lines)


def gradescope_results(record: dict) -> dict:
    tests = []
    for question in record["questions"]:
        for test in question["tests"]:
            number = int(test["key"].split("/")[1]) + 1
            tests.append({
                "name": f"{question['id']} {test['visibility']} test {number}: {test['label']}",
                "score": test["points"], "max_score": test["max_points"],
                "status": "passed" if test["status"] == "passed" else "failed",
                "output": test["message"],
                "visibility": "visible" if test["visibility"] == "public" else "after_published",
            })
    output = f"Could not grade: {record['error']}" if record.get("error") else ""
    return {"score": record["score"], "output": output, "tests": tests,
            "extra_data": record}


def write_submission(out: Path, record: dict) -> Path:
    """Write feedback.md then results.json (the completion marker) for one submission."""
    folder = Path(out) / record["submission"]
    atomic_write(folder / FEEDBACK_FILE, feedback_text(record))
    atomic_write(folder / RESULTS_FILE, json.dumps(gradescope_results(record), indent=1,
                                                   sort_keys=True, allow_nan=False) + "\n")
    return folder


def read_record(out: Path, submission: str) -> dict | None:
    path = Path(out) / submission / RESULTS_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))["extra_data"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


# ------------------------------------------------------------------ class exports
def _csv_text(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def grades_rows(counted: list, question_ids: list[str]) -> tuple[list[str], list[list]]:
    header = ["submission", "folder", "score", "max_score", "raw_score", "penalty", "late",
              "submitted_at", "versions", "flags", "error", *question_ids]
    rows = []
    for item in counted:
        record = item.record
        points = {q["id"]: q["points"] for q in record["questions"]}
        rows.append([item.student, record["submission"], _fmt(record["score"]),
                     _fmt(record["max_score"]), _fmt(record["raw_score"]),
                     _fmt(float(record.get("penalty") or 0)), int(bool(record.get("late"))),
                     record.get("submitted_at") or "", item.versions,
                     len(record.get("flags") or []), record.get("error") or "",
                     *[_fmt(points.get(q, 0.0)) for q in question_ids]])
    return header, rows


def write_grades_table(out: Path, counted: list, question_ids: list[str]) -> Path:
    path = Path(out) / GRADES_FILE
    atomic_write(path, _csv_text(*grades_rows(counted, question_ids)))
    return path


def read_roster(path: Path) -> list[dict]:
    """Rows of a ``student_id,name,email`` CSV (NFC-normalized)."""
    import unicodedata

    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"student_id", "name", "email"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"roster {path} needs the columns student_id,name,email "
                             f"(missing {', '.join(sorted(missing))})")
        return [{k: unicodedata.normalize("NFC", (row[k] or "").strip())
                 for k in ("student_id", "name", "email")} for row in reader]


def match_roster(roster: list[dict], students: list[str]) -> tuple[dict, list[str]]:
    """``({submission: roster row}, unmatched submissions)``; a submission matches when its
    name equals the ID or the e-mail's local part (NFC, case-insensitive)."""
    import unicodedata

    def key(text):
        return unicodedata.normalize("NFC", text).casefold()

    index = {}
    for row in roster:
        index.setdefault(key(row["student_id"]), row)
        if row["email"]:
            index.setdefault(key(row["email"].split("@")[0]), row)
    matched, unmatched = {}, []
    for student in students:
        row = index.get(key(student))
        if row is None:
            unmatched.append(student)
        else:
            matched[student] = row
    return matched, unmatched


def histogram_svg(values: list[float], maximum: float, bins: int = 10) -> str:
    """An inline SVG bar chart of ``values`` on ``[0, maximum]``."""
    maximum = maximum or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(v / maximum * bins)))] += 1
    top = max(counts) or 1
    width, height, bar = 260, 90, 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" '
             f'role="img" aria-label="histogram of points">']
    for i, count in enumerate(counts):
        h = height * count / top
        parts.append(f'<rect x="{5 + i * (bar + 1)}" y="{height - h + 5:.1f}" width="{bar}" '
                     f'height="{h:.1f}" fill="#4c72b0"><title>{count}</title></rect>')
    parts.append(f'<text x="5" y="{height + 22}" font-size="11">0</text>'
                 f'<text x="{5 + bins * (bar + 1) - 30}" y="{height + 22}" font-size="11">'
                 f'{_fmt(maximum)}</text></svg>')
    return "".join(parts)


def class_report(assignment: str, counted: list, question_ids: list[str], flags: list[dict],
                 rejected: list[dict], unmatched: list[str], policy_text: str,
                 similarity: dict | None) -> tuple[str, str]:
    """The class report as ``(markdown, html)``."""
    import html
    import statistics

    md = [f"# Class report: {assignment}", "",
          f"{len(counted)} students graded. Counting policy: {policy_text}", ""]
    body = [f"<h1>Class report: {html.escape(assignment)}</h1>",
            f"<p>{len(counted)} students graded. Counting policy: "
            f"{html.escape(policy_text)}</p>"]
    if counted:
        totals = [c.record["score"] for c in counted]
        md += [f"Total: mean {statistics.mean(totals):.3g}, median "
               f"{statistics.median(totals):.3g} of {_fmt(counted[0].record['max_score'])}", ""]
        md += ["| question | max | mean | median | full marks | zero |", "|---|---|---|---|---|---|"]
        body.append("<h2>Questions</h2><table><tr><th>question</th><th>max</th><th>mean</th>"
                    "<th>median</th><th>full</th><th>zero</th><th>histogram</th></tr>")
        for qid in question_ids:
            values, maximum = [], 0.0
            for c in counted:
                for q in c.record["questions"]:
                    if q["id"] == qid:
                        values.append(q["points"])
                        maximum = q["max_points"]
            full = sum(v >= maximum for v in values)
            zero = sum(v == 0 for v in values)
            mean, median = statistics.mean(values), statistics.median(values)
            md.append(f"| {qid} | {_fmt(maximum)} | {mean:.3g} | {median:.3g} | {full} | {zero} |")
            body.append(f"<tr><td>{qid}</td><td>{_fmt(maximum)}</td><td>{mean:.3g}</td>"
                        f"<td>{median:.3g}</td><td>{full}</td><td>{zero}</td>"
                        f"<td>{histogram_svg(values, maximum)}</td></tr>")
        body.append("</table>")
        body.append(f"<h3>Totals</h3>{histogram_svg(totals, counted[0].record['max_score'])}")
        md.append("")
        failed: dict[tuple, int] = {}
        for c in counted:
            for q in c.record["questions"]:
                for t in q["tests"]:
                    if t["status"] != "passed":
                        name = (q["id"], f"{t['visibility']} {int(t['key'].split('/')[1]) + 1}",
                                t["label"])
                        failed[name] = failed.get(name, 0) + 1
        worst = sorted(failed.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        md += ["## Most-failed tests", "", "| question | test | label | failed by |",
               "|---|---|---|---|"]
        md += [f"| {q} | {t} | `{label}` | {n} of {len(counted)} |" for (q, t, label), n in worst]
        md.append("")
        body.append("<h2>Most-failed tests</h2><ul>" + "".join(
            f"<li>{q} {t} <code>{html.escape(label)}</code>: {n} of {len(counted)}</li>"
            for (q, t, label), n in worst) + "</ul>")

    def section(title, lines):
        md.extend([f"## {title}", ""] + ([f"- {line}" for line in lines] or ["none"]) + [""])
        body.append(f"<h2>{html.escape(title)}</h2>" + (
            "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"
            if lines else "<p>none</p>"))

    section("Integrity flags (for a human look; no score was changed)",
            [f"{f['student'] or ''} [{f['kind']}{' ' + f['question'] if f.get('question') else ''}]"
             f": {f['detail']}" for f in flags])
    if similarity is not None:
        md += [f"Similarity: {similarity['compared']} submissions compared "
               f"({len(similarity['too_short'])} too short); pair median "
               f"{similarity['median']:.2f}, robust sd {similarity['robust_sd']:.2f}, flagged "
               f"from {similarity['threshold']:.2f}.", ""]
        body.append(f"<p>Similarity: {similarity['compared']} submissions compared; pair "
                    f"median {similarity['median']:.2f}, flagged from "
                    f"{similarity['threshold']:.2f}.</p>")
    section("Rejected files", [f"{r['file']}: {r['reason']}" for r in rejected])
    notes = [f"{c.student}: {note}" for c in counted for note in c.record.get("notes") or []
             if "was the right file submitted" in note]
    section("Wrong-assignment notes", notes)
    section("Not graded (errors)", [f"{c.student}: {c.record['error']}" for c in counted
                                     if c.record.get("error")])
    section("Late submissions", [f"{c.student}: submitted {c.record.get('submitted_at')}, "
                                 f"penalty {float(c.record.get('penalty') or 0):.0%}"
                                 for c in counted if c.record.get("late")])
    section("Overrides and manual scores", [
        f"{c.student} {o['question']}: {_fmt(o['from'])} → {_fmt(o['to'])} ({o['source']}): "
        f"{o['reason']}" for c in counted for o in c.record.get("overrides") or []])
    if unmatched:
        section("Submissions not in the roster", unmatched)
    page = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Class "
            f"report: {html.escape(assignment)}</title><style>body{{font-family:sans-serif;"
            "max-width:60em;margin:auto}table{border-collapse:collapse}td,th{border:1px solid "
            "#ccc;padding:2px 6px}</style></head><body>" + "".join(body) + "</body></html>\n")
    return "\n".join(md) + "\n", page


def write_exports(out: Path, gradebook, assignment: str, policy: str, policy_text: str,
                  roster: list[dict] | None = None, similarity: dict | None = None) -> dict:
    """Derive every class file from the gradebook; returns their paths."""
    out = Path(out)
    counted = gradebook.counted(policy)
    question_ids = []
    for c in counted:
        for q in c.record["questions"]:
            if q["id"] not in question_ids:
                question_ids.append(q["id"])
    for c in counted:
        write_submission(out, c.record)
    paths = {"grades": write_grades_table(out, counted, question_ids)}
    long_rows = [[c.student, q["id"], t["key"], t["visibility"], t["label"], _fmt(t["points"]),
                  _fmt(t["max_points"]), t["status"], t["message"][:500]]
                 for c in counted for q in c.record["questions"] for t in q["tests"]]
    paths["tests"] = out / "tests.csv"
    atomic_write(paths["tests"], _csv_text(["submission", "question", "test", "visibility",
                                            "label", "points", "max_points", "status",
                                            "message"], long_rows))
    matched, unmatched = match_roster(roster or [], [c.student for c in counted]) \
        if roster is not None else ({}, [])
    maximum = counted[0].record["max_score"] if counted else 0
    canvas = [["Points Possible", "", "", "", "", _fmt(maximum)]]
    for c in counted:
        row = matched.get(c.student)
        canvas.append([row["name"] if row else c.student, "", row["student_id"] if row else "",
                       (row["email"].split("@")[0] if row else c.student), "",
                       _fmt(c.record["score"])])
    paths["canvas"] = out / "canvas.csv"
    atomic_write(paths["canvas"], _csv_text(["Student", "ID", "SIS User ID", "SIS Login ID",
                                             "Section", assignment], canvas))
    if roster is not None:
        paths["scores"] = out / "scores.csv"
        atomic_write(paths["scores"], _csv_text(
            ["student_id", "score"], sorted([matched[c.student]["student_id"],
                                             _fmt(c.record["score"])]
                                            for c in counted if c.student in matched)))
        paths["unmatched"] = out / "unmatched.txt"
        atomic_write(paths["unmatched"], "".join(f"{name}\n" for name in unmatched))
    run = gradebook.last_run()
    flags = gradebook.rows("SELECT f.* FROM flags f WHERE f.grading_id IN (%s) OR "
                           "(f.grading_id IS NULL AND f.run_id = ?) ORDER BY f.id" %
                           ",".join(str(c.grading["id"]) for c in counted) if counted else
                           "SELECT * FROM flags WHERE grading_id IS NULL AND run_id = ?", (run,))
    rejected = gradebook.rows("SELECT * FROM rejected WHERE run_id = ? ORDER BY file", (run,))
    md, page = class_report(assignment, counted, question_ids, flags, rejected, unmatched,
                            policy_text, similarity)
    paths["report_md"], paths["report_html"] = out / "report.md", out / "report.html"
    atomic_write(paths["report_md"], md)
    atomic_write(paths["report_html"], page)
    return paths


def return_feedback(out: Path, to: Path) -> list[Path]:
    """Copy each graded student's ``feedback.md`` and ``results.json`` into ``TO/<name>/``
    (the name as submitted; a path separator in it becomes ``_``)."""
    import shutil

    out, to = Path(out), Path(to)
    path = out / GRADES_FILE
    if not path.is_file():
        raise ValueError(f"{out} has no {GRADES_FILE}: run coursekit grade first")
    folders = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            source = out / row["folder"]
            target = to / (row["submission"].replace("/", "_").replace("\\", "_").strip(".")
                           or row["folder"])
            target.mkdir(parents=True, exist_ok=True)
            for name in (FEEDBACK_FILE, RESULTS_FILE):
                if (source / name).is_file():
                    shutil.copyfile(source / name, target / name)
            folders.append(target)
    return folders
