"""The grading child: execute a notebook, call the tested names, send back plain values.

Started by the grader as ``python -I -m coursekit.grading.runner JOB.json FD``. It
applies the sandbox described in the job (``coursekit.grading.sandbox``) before any
notebook code runs, executes the code cells one by one in an IPython shell (no
Jupyter kernel, so no sockets), then for each question forks a child from the
executed state that evaluates the question's tests and writes the results.

Everything it sends is one JSON object per line on file descriptor FD::

    {"e": "ready", "warnings": [...]}          sandbox applied
    {"e": "cell", "i": k} / {"e": "cell_done", "i": k, "error": "..." | null,
                                 "mem": bytes of address space after the cell,
                                 "cell": j, "line": n}   (where the error was raised:
                                 code cell j, line n of it; absent when unknown)
    {"e": "cells_done"}                          then the parent writes the tests' inputs
                                                 (the plan) to stdin and closes it
    {"e": "question", "q": "q1"}
    {"e": "test", "q": "q1", "t": "hidden/0"}    each test runs in a fork of its own,
                                                 killed after the per-test time limit
    {"e": "result", "q": "q1", "t": "hidden/0", "value": <encoded>}  or  "error", "etype"
                                                 (+ "cell", "line" where it was raised)
                                                 (+ "warning", "wtype" when a test run with
                                                 warnings="error" warned)
                                                 or "timeout": seconds (the test was killed)
    {"e": "question_done", "q": "q1", "status": "..."}
    {"e": "done"}

The parent trusts none of it: values are compared with expected values that never
enter this process, and a missing or malformed message only costs points.
"""

from __future__ import annotations

import builtins
import json
import linecache
import math
import os
import signal
import sys
import time
import warnings as warnings_module

import numpy as np

from coursekit.grading.values import decode, encode, to_plain

MAX_MESSAGE_BYTES = 64 * 2**20
SKIPPED_CELL = ('raise RuntimeError("this cell was skipped by the grader: it crashed or hung '
                'the grading process")')
# modules whose attributes are restored before every cell and before the tests, so a
# cell that monkeypatches them (np.allclose = lambda *a: True) cannot break later cells
GUARDED_MODULES = (builtins, math, np, np.linalg, np.random, warnings_module)


class Channel:
    """Write JSON lines to the parent."""

    def __init__(self, fd: int):
        self.fd = fd

    def send(self, **message) -> None:
        data = (json.dumps(message, allow_nan=False) + "\n").encode()
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]


def _describe_error(error: BaseException) -> str:
    try:
        text = f"{type(error).__name__}: {error}"
    except BaseException:  # a student's __str__ can raise
        text = type(error).__name__
    return text if len(text) <= 500 else text[:497] + "..."


#: pseudo file name of each executed cell's code -> code-cell index (from linecache)
CELL_FILES: dict[str, int] = {}


def where(error: BaseException) -> dict:
    """``{"cell": j, "line": n}``: the innermost frame of the traceback that is notebook
    code (a syntax error: its own line), or ``{}`` when no cell's code is involved."""
    try:
        if isinstance(error, SyntaxError) and error.filename in CELL_FILES and \
                type(error.lineno) is int:
            return {"cell": CELL_FILES[error.filename], "line": error.lineno}
        found = {}
        traceback = error.__traceback__
        depth = 0
        while traceback is not None and depth < 1000:
            filename = traceback.tb_frame.f_code.co_filename
            if filename in CELL_FILES:
                found = {"cell": CELL_FILES[filename], "line": int(traceback.tb_lineno)}
            traceback = traceback.tb_next
            depth += 1
        return found
    except BaseException:  # noqa: BLE001 - a student's exception may be odd
        return {}


def address_space() -> int | None:
    """Bytes of this process's address space (what RLIMIT_AS limits), if readable."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except Exception:  # noqa: BLE001 - also MemoryError, when the cell left none
        return None


def resolve(namespace: dict, target: str):
    """Look up ``target`` (dotted names allowed) in a notebook's namespace."""
    head, *rest = target.split(".")
    if head not in namespace:
        raise NameError(f"name {head!r} is not defined: run the cell that defines it "
                        "(and keep the name from the exercise)")
    obj = namespace[head]
    for part in rest:
        obj = getattr(obj, part)
    return obj


def exception_names(cls) -> list[str]:
    """The names of an exception class and its bases, as ``spec.raises`` writes them."""
    names = []
    for base in cls.__mro__:
        module = getattr(base, "__module__", "?")
        qualname = getattr(base, "__qualname__", "?")
        names.append(qualname if module == "builtins" else f"{module}.{qualname}")
    return [str(name)[:200] for name in names[:20]]


def _first_warning(caught) -> tuple[str, str]:
    """``(category name, "Category: message")`` of the first recorded warning."""
    first = caught[0]
    category = getattr(first.category, "__name__", "Warning")
    try:
        text = f"{category}: {first.message}"
    except BaseException:  # noqa: BLE001 - a student's warning object may fail to print
        text = category
    return str(category)[:100], text if len(text) <= 300 else text[:297] + "..."


def run_test(test: dict, namespace: dict) -> dict:
    """Run one test's student side; returns ``{"value": plain}`` and, for a test with
    ``warnings="error"`` that warned, ``"warning"`` and ``"wtype"`` (raises on student
    errors). A ``raises`` test's value says what was raised: ``{"raised": [names of the
    class and its bases], "message": text}`` or ``{"returned": description}``."""
    mode = test.get("warnings")
    if mode != "error":
        return {"value": evaluate(test, namespace)}
    with warnings_module.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn"):
        warnings_module.simplefilter("always")
        value = evaluate(test, namespace)
    outcome = {"value": value}
    if caught:
        outcome["wtype"], outcome["warning"] = _first_warning(caught)
    return outcome


def evaluate(test: dict, namespace: dict):
    """Run one test's student side; returns a plain value (raises on student errors)."""
    target = resolve(namespace, test["target"])
    args, kwargs = decode(test["args"]), decode(test["kwargs"])
    kind = test["kind"]
    if kind in ("call", "raises") and not callable(target):
        raise TypeError(f"{test['target']} should be a function, got {type(target).__name__}")
    if kind == "call":
        result = target(*args, **kwargs)
    elif kind == "raises":
        from coursekit.grading.values import describe

        try:
            result = target(*args, **kwargs)
        except NotImplementedError:
            raise  # unanswered: reported like any other test's
        except Exception as error:  # noqa: BLE001 - what it raised is the result
            return {"raised": exception_names(type(error)),
                    "message": _describe_error(error)}
        try:
            shown = describe(to_plain(result))
        except TypeError:
            shown = type(result).__name__
        return {"returned": str(shown)[:200]}
    elif kind == "value":
        result = target
    elif kind == "accuracy":
        if hasattr(target, "predict"):
            result = target.predict(*args)
        elif callable(target):
            result = target(*args)
        else:
            raise TypeError(f"{test['target']} should be a trained model with a .predict "
                            f"method, got {type(target).__name__}")
    else:
        raise ValueError(f"unknown test kind {kind!r}")
    return to_plain(result)


class Guard:
    """Snapshots of interpreter state that student cells must not carry into later ones."""

    def __init__(self, shell):
        self.shell = shell
        self.modules = [(module, dict(vars(module))) for module in GUARDED_MODULES]
        self.input_cleanup = list(shell.input_transformers_cleanup)
        self.input_post = list(shell.input_transformers_post)
        self.ast = list(shell.ast_transformers)
        self.events = {name: list(cbs) for name, cbs in shell.events.callbacks.items()}
        self.manager = shell.input_transformer_manager
        self.manager_cleanup = list(self.manager.cleanup_transforms)
        self.manager_lines = list(self.manager.line_transforms)
        self.manager_tokens = list(self.manager.token_transformers)

    def restore(self) -> None:
        sys.settrace(None)
        sys.setprofile(None)
        for module, attributes in self.modules:
            current = vars(module)
            for name, original in attributes.items():
                if current.get(name, None) is not original:
                    try:
                        setattr(module, name, original)
                    except (AttributeError, TypeError):
                        pass
        shell = self.shell
        shell.input_transformers_cleanup[:] = self.input_cleanup
        shell.input_transformers_post[:] = self.input_post
        shell.ast_transformers[:] = self.ast
        shell.events.callbacks = {name: list(cbs) for name, cbs in self.events.items()}
        shell.input_transformer_manager = self.manager
        shell.input_transformer_manager.cleanup_transforms[:] = self.manager_cleanup
        shell.input_transformer_manager.line_transforms[:] = self.manager_lines
        shell.input_transformer_manager.token_transformers[:] = self.manager_tokens


def run(job: dict, channel: Channel) -> None:
    from coursekit.grading import sandbox

    warnings = sandbox.apply_in_child(job.get("sandbox"))
    channel.send(e="ready", warnings=warnings)
    workdir = job["workdir"]
    os.chdir(workdir)
    with open(job["notebook"], encoding="utf-8") as handle:
        notebook = json.load(handle)
    code_cells = [c for c in notebook["cells"] if c.get("cell_type") == "code"]
    stdin_fd = os.dup(0)  # the plan comes here after the cells; cells get an empty stdin
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    skip = set(job.get("skip_cells", []))
    main_pid = os.getpid()

    # student output goes to a file in the (size-limited) working directory
    output = _fresh_output(workdir)
    from IPython.core.interactiveshell import InteractiveShell

    class GradingShell(InteractiveShell):
        def enable_gui(self, gui=None):  # `%matplotlib inline` without a GUI or kernel
            return None

    shell = GradingShell.instance(colors="nocolor")
    run_cell = InteractiveShell.run_cell
    guard = Guard(shell)
    for index, cell in enumerate(code_cells):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if index in skip:
            source = SKIPPED_CELL
        guard.restore()
        output = _fresh_output(workdir, output)  # a flood must not make later prints fail
        channel.send(e="cell", i=index)
        known_files = set(linecache.cache)
        located = {}
        try:
            result = run_cell(shell, source, store_history=False)
            error = result.error_before_exec or result.error_in_exec
            message = _describe_error(error) if error is not None else None
        except BaseException as exc:  # noqa: BLE001 - anything a cell raises is its own
            error, message = exc, _describe_error(exc)
        if os.getpid() != main_pid:  # a forked copy escaped from a cell: stop it here
            os._exit(0)
        guard.restore()  # before the driver's own code runs again
        for filename in set(linecache.cache) - known_files:
            if filename.startswith("<"):
                CELL_FILES[filename] = index
        if message is not None:
            located = where(error)
        error = result = None  # drop the traceback: it may hold a cell's memory
        channel.send(e="cell_done", i=index, error=message, mem=address_space(), **located)

    # only now do the tests' inputs arrive (on stdin): no cell could read them
    channel.send(e="cells_done")
    plan = _read_plan(stdin_fd)
    namespace = shell.user_ns
    for question in plan:
        qid = question["q"]
        if qid not in job["questions"]:
            continue
        guard.restore()
        channel.send(e="question", q=qid)
        status = _run_question(question, namespace, channel, main_pid,
                               float(job.get("test_timeout") or 0))
        if os.getpid() != main_pid:
            os._exit(0)
        channel.send(e="question_done", q=qid, status=status)
    channel.send(e="done")


def _read_plan(fd: int) -> list:
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return json.loads(b"".join(chunks))


def _fresh_output(workdir: str, old=None):
    """A new, empty file for the next cell's stdout/stderr (the old one may be jammed)."""
    if old is not None:
        try:
            old.close()
        except (OSError, ValueError):
            pass
    output = open(os.path.join(workdir, "output.txt"), "w", buffering=1)  # noqa: SIM115
    sys.stdout = sys.stderr = output
    return output


def _inject(question: dict, namespace: dict) -> None:
    """Define the reference's versions of the names the question may reuse from other
    questions (``Question(inject=...)``); done in the test's own fork only."""
    for name, source in (question.get("inject") or {}).items():
        exec(compile(source, f"<reference definition of {name}>", "exec"), namespace)  # noqa: S102


def _run_tests(question: dict, namespace: dict, channel: Channel) -> None:
    try:
        _inject(question, namespace)
    except BaseException as exc:  # noqa: BLE001
        for test in question["tests"]:
            channel.send(e="result", q=question["q"], t=test["key"], etype="GraderError",
                         error=f"grader error: the reference definitions did not load: "
                               f"{_describe_error(exc)}")
        return
    for test in question["tests"]:
        try:
            outcome = run_test(test, namespace)
            message = {**outcome, "value": encode(outcome["value"])}
        except BaseException as exc:  # noqa: BLE001
            message = {"error": _describe_error(exc), "etype": type(exc).__name__, **where(exc)}
        line = json.dumps(message, allow_nan=False)
        if len(line) > MAX_MESSAGE_BYTES:
            message = {"error": f"result too large ({len(line) / 2**20:.0f} MB encoded)"}
        channel.send(e="result", q=question["q"], t=test["key"], **message)


def _wait(pid: int, timeout: float) -> int | None:
    """The wait status of child ``pid``, or None when it is still running at ``timeout``
    seconds (0: no limit)."""
    deadline = time.monotonic() + timeout if timeout > 0 else None
    pause = 0.001
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG if deadline is not None else 0)
        except ChildProcessError:
            return -1
        except InterruptedError:
            continue
        if done:
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(pause)
        pause = min(0.05, pause * 2)


def _run_question(question: dict, namespace: dict, channel: Channel, main_pid: int,
                  test_timeout: float = 0.0) -> str:
    """Evaluate each test of a question in a forked child of its own (isolation: a test
    that hangs, crashes or fills memory costs that test only); a test still running
    after ``test_timeout`` seconds is killed. In process if fork fails."""
    statuses = []
    for test in question["tests"]:
        single = {**question, "tests": [test]}
        channel.send(e="test", q=question["q"], t=test["key"])
        try:
            pid = os.fork()
        except OSError:
            _run_tests(single, namespace, channel)
            statuses.append("ran in process (fork failed)")
            continue
        if pid == 0:
            try:
                _run_tests(single, namespace, channel)
            finally:
                os._exit(0)
        status = _wait(pid, test_timeout)
        if status is None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _wait(pid, 0)
            channel.send(e="result", q=question["q"], t=test["key"], timeout=test_timeout)
            statuses.append("exit 0")
        elif status == -1:
            statuses.append("child lost")
        elif os.WIFEXITED(status):
            statuses.append(f"exit {os.WEXITSTATUS(status)}")
        else:
            statuses.append(f"killed by signal {os.WTERMSIG(status)}")
    bad = [s for s in statuses if s != "exit 0"]
    return bad[0] if bad else "exit 0"


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        raise SystemExit("usage: python -m coursekit.grading.runner JOB.json FD")
    with open(argv[0], encoding="utf-8") as handle:
        job = json.load(handle)
    channel = Channel(int(argv[1]))
    try:
        run(job, channel)
    except BaseException as exc:  # noqa: BLE001
        try:
            if isinstance(exc, MemoryError):  # no memory left to format a message
                os.write(channel.fd, b'{"e": "fatal", "error": "MemoryError"}\n')
            else:
                channel.send(e="fatal", error=_describe_error(exc))
        except BaseException:  # noqa: BLE001
            pass
        os._exit(3)
    os._exit(0)  # skip atexit handlers a notebook may have registered


if __name__ == "__main__":
    main()
