"""Execute a notebook in a runner child and collect each test's outcome, surviving crashes.

``execute(notebook, plan, ...)`` runs ``coursekit.grading.runner`` (sandboxed or
not). When a run dies or hangs it reruns what is left:

- died/hung while executing code cell k: cell k is replaced by a stub that raises,
  and the notebook runs again (only the tests still without results);
- ran out of memory after a student's cell kept most of it (``memory_culprit``):
  that cell is skipped in the same way, never a read-only cell;
- died/hung while testing: the test that was running gets the error (a hang names
  the function), and the tests still without results run again. Each test runs in
  a fork of its own that the runner kills after the time limit, so a hang usually
  costs no rerun at all.

So an ``os._exit``, an endless loop or a memory hog in one answer costs that answer
only. Messages name cells as the student sees them (``messages.cell_label``). The
same function computes expected values at ``assign`` time (reference notebook,
no sandbox) and grades submissions (sandboxed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.grading import messages, sandbox, supervisor
from coursekit.grading.values import decode

_STATUS = re.compile(r"^(exit \d{1,3}|killed by signal \d{1,2}|ran in process \(fork failed\)|"
                     r"child lost)$")


@dataclass
class Execution:
    """Outcomes per ``(question id, test key)`` and what happened on the way."""

    outcomes: dict = field(default_factory=dict)  # (qid, key) -> {"value": v} | {"error": s}
    cell_errors: dict = field(default_factory=dict)  # code-cell index -> error message
    cell_lines: dict = field(default_factory=dict)  # code-cell index -> (cell, line) raised
    skipped_cells: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    runs: int = 0

    def cell_error_lines(self, notebook: dict) -> list[str]:
        """Each cell error as the student sees it: ``the answer cell of q4, `def f`,
        line 3: NameError: ...`` (an unstarted answer: ``not answered yet: ...``)."""
        lines = []
        for index, error in sorted(self.cell_errors.items()):
            label = code_cell_label(notebook, index)
            if index in self.skipped_cells:
                lines.append(f"{label}: skipped by the grader (see the notes)")
                continue
            if error.startswith("NotImplementedError") and _kind(notebook, index) == "answer":
                lines.append(messages.unanswered(label=label))
                continue
            where = self.cell_lines.get(index)
            if where is not None and where[0] != index:
                place = f"{label} (raised {messages.at_line(code_cell_label(notebook, where[0]), where[1])})"
            elif where is not None:
                place = messages.at_line(label, where[1])
            else:
                place = label
            if error.startswith("MemoryError") and _kind(notebook, index) == "readonly":
                error += (" (the memory limit of the grader was reached while this cell ran: "
                          "the memory is held by your code, in this cell's calls or a cell "
                          "above; the cell itself is the release's)")
            lines.append(f"{place}: {error}")
        return lines


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")
    os.chmod(path, 0o644)


def _code_cells(notebook: dict) -> list[dict]:
    return [c for c in notebook["cells"] if c.get("cell_type") == "code"]


def _meta(cell: dict) -> dict:
    meta = cell.get("metadata", {}).get("coursekit") if type(cell.get("metadata")) is dict \
        else None
    return meta if type(meta) is dict else {}


def _kind(notebook: dict, index: int) -> str | None:
    cells = _code_cells(notebook)
    return _meta(cells[index]).get("kind") if 0 <= index < len(cells) else None


def code_cell_label(notebook: dict, index: int) -> str:
    """Code cell ``index`` named as the student sees it (``messages.cell_label``)."""
    cells = _code_cells(notebook)
    if not 0 <= index < len(cells):
        return "a cell"
    source = cells[index].get("source", "")
    return messages.cell_label(_meta(cells[index]),
                               "".join(source) if isinstance(source, list) else source)


def _is_students(notebook: dict, index: int) -> bool:
    """Code the student wrote (an answer or an added cell; every cell of a notebook
    without release metadata, such as the reference at assign time)."""
    kind = _kind(notebook, index)
    return kind in ("answer", "added", None)


#: a cell whose address space grew by this share of the limit and kept it is a memory hog
HOG_SHARE = 0.4
#: what a child that died for lack of memory prints on its way out
OUT_OF_MEMORY = ("MemoryError", "bad_alloc", "Cannot allocate memory", "Memory allocation",
                 "out of memory")


def memory_culprit(run, notebook: dict, skipped: list, limits: sandbox.Limits) -> int | None:
    """The student cell to skip after a run that ran out of memory, or None.

    Triggered by a ``MemoryError`` anywhere (a cell, the runner, a test, or the child's
    last words when it died without the memory to report it). The culprit
    is the student's cell (answer or added, never a read-only one) that was not
    skipped yet, ran before the failure, and kept the most memory: its address space
    after the cell exceeds the one before by ``HOG_SHARE`` of the limit. A cell that
    ran out of memory but holds nothing afterwards is an ordinary error."""
    failed_at = None
    # a child that died saying it ran out of memory (Python, C++ or OpenBLAS, which aborts
    # with "Memory allocation still failed")
    trouble = not any(m["e"] == "done" for m in run.messages) and any(
        word in run.log_tail for word in OUT_OF_MEMORY)
    cells_done = []
    for number, message in enumerate(run.messages):
        kind = message["e"]
        before_plan = run.plan_sent_at is None or number < run.plan_sent_at
        if kind == "cell" and before_plan and type(message.get("i")) is int and trouble:
            failed_at = message["i"]  # the last cell started
        if kind == "cell_done" and before_plan and type(message.get("i")) is int:
            cells_done.append(message)
            error = message.get("error")
            if type(error) is str and error.startswith("MemoryError") and not trouble:
                failed_at, trouble = message["i"], True
        elif kind == "fatal" and "MemoryError" in str(message.get("error")):
            trouble = True
        elif kind == "result" and not before_plan and message.get("etype") == "MemoryError":
            trouble = True
    if not trouble:
        return None
    growth, previous = {}, None
    for message in cells_done:
        mem = message.get("mem")
        if type(mem) is int and type(previous) is int:
            growth[message["i"]] = mem - previous
        if type(mem) is int:
            previous = mem
    threshold = HOG_SHARE * limits.memory_mb * 2**20
    candidates = [i for i, grew in growth.items() if grew >= threshold and i not in skipped
                  and _is_students(notebook, i) and (failed_at is None or i <= failed_at)]
    return max(candidates, key=lambda i: growth[i]) if candidates else None


def execute(notebook: dict, plan: list, limits: sandbox.Limits, sandboxed: bool,
            caps: dict | None = None, uid: int | None = None,
            max_runs: int | None = None) -> Execution:
    """Run ``notebook`` (nbformat JSON dict) and the tests in ``plan``.

    ``plan`` is ``[{"q": "q1", "tests": [{"key", "kind", "target", "args", "kwargs"}]}]``
    (inputs only, never expected values), with ``"inject": {name: source}`` for a
    question that reuses other questions' functions (``Question(inject=...)``).

    Faults stay local: a cell that crashes the child, hangs, or fills memory and keeps
    it (``memory_culprit``) is skipped and the notebook runs again without it; a test
    that hangs is killed after ``limits.timeout`` and fails alone (its message names
    the function); a test that crashes the child fails alone, and the question's other
    tests run again.
    """
    caps = caps or sandbox.capabilities()
    result = Execution()
    known_keys = {(q["q"], t["key"]) for q in plan for t in q["tests"]}
    targets = {(q["q"], t["key"]): t["target"] for q in plan for t in q["tests"]}
    n_code = len(_code_cells(notebook))
    max_runs = max_runs or (n_code + len(known_keys) + 1)
    while result.runs < max_runs:
        pending = known_keys - set(result.outcomes)
        if not pending:
            break
        todo = [{**q, "tests": [t for t in q["tests"] if (q["q"], t["key"]) in pending]}
                for q in plan]
        todo = [q for q in todo if q["tests"]]
        result.runs += 1
        jobdir = Path(tempfile.mkdtemp(prefix="coursekit-run-"))
        try:
            run = _run_once(jobdir, notebook, todo, result.skipped_cells, limits,
                            sandboxed, caps, uid)
        finally:
            shutil.rmtree(jobdir, ignore_errors=True)
        hog = memory_culprit(run, notebook, result.skipped_cells, limits)
        if hog is not None and result.runs < max_runs:  # rerun without what it held
            result.skipped_cells.append(hog)
            result.notes.append(messages.memory_exhausted(code_cell_label(notebook, hog)))
            continue
        _collect(run, result, known_keys, pending, targets, limits, n_code)
        if any(m["e"] == "done" for m in run.messages):
            break
        pending = known_keys - set(result.outcomes)
        blame = _forged_cells_done(run) or _blame(run)
        if blame is None:
            reason = ("the grading process produced too much output" if run.too_much_output
                      else _fatal_reason(run))
            for key in pending:
                result.outcomes.setdefault(key, {"error": reason})
            break
        if blame[0] == "cell":
            index = blame[1]
            label = code_cell_label(notebook, index)
            result.skipped_cells.append(index)
            result.notes.append(messages.cell_hung(label, limits.timeout) if run.timed_out
                                else messages.cell_crashed(label))
        else:
            qid, key = blame[1], blame[2]
            if key is not None and (qid, key) in pending:  # the test that was running
                keys = [(qid, key)]
            else:
                keys = [k for k in pending if k[0] == qid]
            for hung in keys:
                result.outcomes[hung] = (
                    {"error": messages.timed_out(targets[hung], limits.timeout),
                     "etype": "Timeout", "notice": True} if run.timed_out else
                    {"error": f"the process died while testing {qid} (exit code "
                              f"{run.returncode})"})
    for key in known_keys - set(result.outcomes):
        result.outcomes[key] = {"error": "not graded: too many crashes"}
    _explain(result, notebook)
    return result


def _explain(result: Execution, notebook: dict) -> None:
    """Parent-made wording: unanswered questions, where an error was raised."""
    unstarted = {}  # question -> label of its answer cell that raised NotImplementedError
    skipped = {}  # question -> label of its answer cell that the grader skipped
    answer_of = {}
    for index, cell in enumerate(_code_cells(notebook)):
        meta = _meta(cell)
        if meta.get("kind") != "answer":
            continue
        for qid in meta.get("questions") or []:
            answer_of.setdefault(qid, code_cell_label(notebook, index))
            error = result.cell_errors.get(index, "")
            if index in result.skipped_cells:
                skipped.setdefault(qid, code_cell_label(notebook, index))
            elif error.startswith("NotImplementedError"):
                unstarted.setdefault(qid, code_cell_label(notebook, index))
    for (qid, _), outcome in result.outcomes.items():
        etype = outcome.get("etype")
        where = outcome.pop("where", None)
        if etype == "NameError" and qid in skipped:
            outcome.update(error=messages.skipped_answer(skipped[qid]), notice=True)
        elif etype == "NotImplementedError" or (etype == "NameError" and qid in unstarted):
            label = None
            if where is not None and _kind(notebook, where[0]) == "answer":
                label = code_cell_label(notebook, where[0])
            label = label or unstarted.get(qid) or answer_of.get(qid)
            outcome.update(error=messages.unanswered(qid, label), etype="NotImplementedError",
                           notice=True)
        elif where is not None and "error" in outcome:
            outcome["where_text"] = messages.at_line(code_cell_label(notebook, where[0]),
                                                     where[1])


def _run_once(jobdir: Path, notebook: dict, plan: list, skipped: list,
              limits: sandbox.Limits, sandboxed: bool, caps: dict, uid: int | None):
    workdir = jobdir / "work"
    workdir.mkdir()
    os.chmod(jobdir, 0o755)
    _write_json(jobdir / "notebook.ipynb", notebook)
    use_uid = None
    if sandboxed and caps["root"]:
        use_uid = uid if uid is not None else sandbox.SANDBOX_UID_BASE + os.getpid()
    if use_uid is not None:
        os.chown(workdir, use_uid, use_uid)
    config = (sandbox.child_config(workdir, jobdir, limits, use_uid, len(plan), caps)
              if sandboxed else None)
    job = {"workdir": str(workdir), "notebook": str(jobdir / "notebook.ipynb"),
           "questions": [q["q"] for q in plan], "test_timeout": limits.timeout,
           "skip_cells": list(skipped), "sandbox": config}
    _write_json(jobdir / "job.json", job)
    plan_bytes = json.dumps(plan).encode()
    units = len(plan) + sum(len(q["tests"]) for q in plan)
    return supervisor.run_child(jobdir / "job.json", workdir, limits.timeout, units, use_uid,
                                plan_bytes)


def _where(message: dict, n_cells: int):
    cell, line = message.get("cell"), message.get("line")
    if type(cell) is int and type(line) is int and 0 <= cell < n_cells and 0 < line < 10**6:
        return (cell, line)
    return None


def _collect(run, result: Execution, known_keys: set, pending: set, targets: dict,
             limits: sandbox.Limits, n_cells: int = 10**6) -> None:
    for number, message in enumerate(run.messages):
        kind = message["e"]
        after_plan = run.plan_sent_at is not None and number >= run.plan_sent_at
        if kind == "ready" and type(message.get("warnings")) is list:
            result.warnings.extend(str(w) for w in message["warnings"] if str(w) not in
                                   result.warnings)
        elif kind == "cell_done" and type(message.get("i")) is int:
            # a cell "finishing" after the inputs were sent is forged: its text could
            # carry hidden inputs into the feedback, so it is not shown
            if type(message.get("error")) is str and not after_plan and \
                    message["i"] not in result.cell_errors:
                result.cell_errors[message["i"]] = message["error"][:500]
                where = _where(message, n_cells)
                if where is not None:
                    result.cell_lines[message["i"]] = where
        elif kind == "result" and after_plan:
            key = (message.get("q"), message.get("t"))
            if key not in known_keys or key not in pending or key in result.outcomes:
                continue
            if "value" in message:
                try:
                    result.outcomes[key] = {"value": decode(message["value"])}
                except (ValueError, TypeError) as error:
                    result.outcomes[key] = {"error": f"unreadable result: {error}"}
                    continue
                if type(message.get("warning")) is str:  # a test with warnings="error"
                    result.outcomes[key]["warning"] = message["warning"][:300]
                    result.outcomes[key]["wtype"] = str(message.get("wtype"))[:100]
            elif "timeout" in message:  # the runner killed the test's fork
                result.outcomes[key] = {"error": messages.timed_out(targets[key], limits.timeout),
                                        "etype": "Timeout", "notice": True}
            else:
                result.outcomes[key] = {"error": str(message.get("error"))[:500],
                                        "etype": str(message.get("etype"))[:100]}
                where = _where(message, n_cells)
                if where is not None:
                    result.outcomes[key]["where"] = where
        elif kind == "question_done" and after_plan and \
                any(k[0] == message.get("q") for k in pending):
            qid = message["q"]
            status = str(message.get("status", ""))
            if not _STATUS.match(status):  # text from the child: only known forms pass
                status = "an unknown status"
            if status != "exit 0":
                result.notes.append(f"testing {qid} ended with {status}")
            for key in sorted(k for k in pending if k[0] == qid):
                result.outcomes.setdefault(key, {
                    "error": f"the process testing {qid} ended ({status}) before returning "
                             "this result"})


def _forged_cells_done(run):
    """``("cell", k)`` when "all cells ran" was claimed while cell k was still running."""
    for message in reversed(run.messages[: run.plan_sent_at or 0]):
        if message["e"] == "cell" and type(message.get("i")) is int:
            return ("cell", message["i"])
        if message["e"] in ("cell_done", "ready"):
            return None
    return None


def _blame(run):
    """``("cell", k)`` or ``("question", qid, test key or None)`` that was running when
    the run ended."""
    test = None  # the last test started and not finished ("": none)
    for message in reversed(run.messages):
        kind = message["e"]
        if kind == "result" and test is None:
            test = ""
        if kind == "test" and test is None and type(message.get("t")) is str:
            test = message["t"]
        if kind == "cell" and type(message.get("i")) is int:
            return ("cell", message["i"])
        if kind == "question" and type(message.get("q")) is str:
            return ("question", message["q"], test or None)
        if kind in ("cell_done", "question_done", "ready", "fatal"):
            return None
    return None


def _fatal_reason(run) -> str:
    for message in run.messages:
        if message["e"] == "fatal":
            return f"grader error: {message.get('error')}"
    if run.timed_out:
        return f"timed out ({run.timed_out})"
    tail = run.log_tail.strip().splitlines()[-1:] or ["no output"]
    return f"the grading process stopped (exit code {run.returncode}): {tail[0][:300]}"
