"""Execute a notebook in a runner child and collect each test's outcome, surviving crashes.

``execute(notebook, plan, ...)`` runs ``coursekit.grading.runner`` (sandboxed or
not). When a run dies or hangs it reruns what is left:

- died/hung while executing code cell k: cell k is replaced by a stub that raises,
  and the notebook runs again (only the questions still without results);
- died/hung while testing question q: q's unfinished tests get an error, and the
  remaining questions run again.

So an ``os._exit`` or an endless loop in one answer costs that answer only. The
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

from coursekit.grading import sandbox, supervisor
from coursekit.grading.values import decode

_STATUS = re.compile(r"^(exit \d{1,3}|killed by signal \d{1,2}|ran in process \(fork failed\)|"
                     r"child lost)$")


@dataclass
class Execution:
    """Outcomes per ``(question id, test key)`` and what happened on the way."""

    outcomes: dict = field(default_factory=dict)  # (qid, key) -> {"value": v} | {"error": s}
    cell_errors: dict = field(default_factory=dict)  # code-cell index -> error message
    skipped_cells: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    runs: int = 0


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")
    os.chmod(path, 0o644)


def execute(notebook: dict, plan: list, limits: sandbox.Limits, sandboxed: bool,
            caps: dict | None = None, uid: int | None = None,
            max_runs: int | None = None) -> Execution:
    """Run ``notebook`` (nbformat JSON dict) and the tests in ``plan``.

    ``plan`` is ``[{"q": "q1", "tests": [{"key", "kind", "target", "args", "kwargs"}]}]``
    (inputs only, never expected values).
    """
    caps = caps or sandbox.capabilities()
    result = Execution()
    known_keys = {(q["q"], t["key"]) for q in plan for t in q["tests"]}
    pending = [q["q"] for q in plan]
    n_code = sum(1 for c in notebook["cells"] if c.get("cell_type") == "code")
    max_runs = max_runs or (n_code + len(plan) + 1)
    while pending and result.runs < max_runs:
        result.runs += 1
        jobdir = Path(tempfile.mkdtemp(prefix="coursekit-run-"))
        try:
            run = _run_once(jobdir, notebook, plan, pending, result.skipped_cells, limits,
                            sandboxed, caps, uid)
        finally:
            shutil.rmtree(jobdir, ignore_errors=True)
        finished = _collect(run, result, known_keys, set(pending))
        if any(m["e"] == "done" for m in run.messages):
            pending = []
            break
        pending = [q for q in pending if q not in finished]
        blame = _forged_cells_done(run) or _blame(run)
        if blame is None:
            reason = ("the grading process produced too much output" if run.too_much_output
                      else _fatal_reason(run))
            for qid in pending:
                _fail_missing(result, plan, qid, reason)
            pending = []
        elif blame[0] == "cell":
            index = blame[1]
            what = "hung (timed out)" if run.timed_out else "crashed the grading process"
            result.skipped_cells.append(index)
            result.notes.append(f"code cell {index + 1} {what}; it was skipped and the "
                                "notebook was run again without it")
        else:
            qid = blame[1]
            reason = (f"timed out after {limits.timeout:g} s" if run.timed_out
                      else f"the process died while testing {qid} (exit code "
                           f"{run.returncode})")
            _fail_missing(result, plan, qid, reason)
            pending = [q for q in pending if q != qid]
    for qid in pending:
        _fail_missing(result, plan, qid, "not graded: too many crashes")
    return result


def _run_once(jobdir: Path, notebook: dict, plan: list, pending: list, skipped: list,
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
    config = (sandbox.child_config(workdir, jobdir, limits, use_uid, len(pending), caps)
              if sandboxed else None)
    job = {"workdir": str(workdir), "notebook": str(jobdir / "notebook.ipynb"),
           "questions": list(pending),
           "skip_cells": list(skipped), "sandbox": config}
    _write_json(jobdir / "job.json", job)
    plan_bytes = json.dumps([q for q in plan if q["q"] in pending]).encode()
    return supervisor.run_child(jobdir / "job.json", workdir, limits.timeout, len(pending), use_uid,
                             plan_bytes)


def _collect(run, result: Execution, known_keys: set, pending: set) -> set:
    finished = set()
    for number, message in enumerate(run.messages):
        kind = message["e"]
        after_plan = run.plan_sent_at is not None and number >= run.plan_sent_at
        if kind == "ready" and type(message.get("warnings")) is list:
            result.warnings.extend(str(w) for w in message["warnings"] if str(w) not in
                                   result.warnings)
        elif kind == "cell_done" and type(message.get("i")) is int:
            # a cell "finishing" after the inputs were sent is forged: its text could
            # carry hidden inputs into the feedback, so it is not shown
            if type(message.get("error")) is str and not after_plan:
                result.cell_errors.setdefault(message["i"], message["error"][:500])
        elif kind == "result" and after_plan:
            key = (message.get("q"), message.get("t"))
            if key not in known_keys or key[0] not in pending or key in result.outcomes:
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
            else:
                result.outcomes[key] = {"error": str(message.get("error"))[:500],
                                        "etype": str(message.get("etype"))[:100]}
        elif kind == "question_done" and after_plan and message.get("q") in pending:
            qid = message["q"]
            finished.add(qid)
            status = str(message.get("status", ""))
            if not _STATUS.match(status):  # text from the child: only known forms pass
                status = "an unknown status"
            if status != "exit 0":
                result.notes.append(f"testing {qid} ended with {status}")
            for key in sorted(k for k in known_keys if k[0] == qid):
                result.outcomes.setdefault(key, {
                    "error": f"the process testing {qid} ended ({status}) before returning "
                             "this result"})
    return finished


def _forged_cells_done(run):
    """``("cell", k)`` when "all cells ran" was claimed while cell k was still running."""
    for message in reversed(run.messages[: run.plan_sent_at or 0]):
        if message["e"] == "cell" and type(message.get("i")) is int:
            return ("cell", message["i"])
        if message["e"] in ("cell_done", "ready"):
            return None
    return None


def _blame(run):
    """``("cell", k)`` or ``("question", qid)`` that was running when the run ended."""
    for message in reversed(run.messages):
        kind = message["e"]
        if kind == "cell" and type(message.get("i")) is int:
            return ("cell", message["i"])
        if kind == "question" and type(message.get("q")) is str:
            return ("question", message["q"])
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


def _fail_missing(result: Execution, plan: list, qid: str, reason: str) -> None:
    for question in plan:
        if question["q"] == qid:
            for test in question["tests"]:
                result.outcomes.setdefault((qid, test["key"]), {"error": reason})
