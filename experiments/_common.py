"""What every script in ``experiments/`` shares: its command line, its log and how it saves.

Each script takes ``--quick`` (a reduced budget of at most 30 s that still learns) and
``--out DIR`` (where to write; default ``coursekit/assets/``), runs on one thread, logs
what it does (printed and stored in the results file) and writes its results with
``coursekit.assets.save_results`` / ``save_weights``, named after the script::

    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))  # experiments/_common.py
    from _common import Experiment  # noqa: E402

    def main(argv=None):
        exp = Experiment(__file__, argv, doc=__doc__, quick_help="1 seed, 3 epochs (< 30 s)")
        config = QUICK if exp.quick else FULL
        for seed in config["seeds"]:
            ...
            exp.say(f"seed {seed}: accuracy {acc:.3f} ({exp.cpu_seconds():.1f} s CPU)")
        exp.save(results, seeds=config["seeds"])   # coursekit/assets/<script name>.json
        exp.save_weights(arrays)                    # coursekit/assets/<script name>.npz

(The ``sys.path`` line lets the script import this file both when run as
``python experiments/x.py`` and when a test loads it with ``importlib``.)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from coursekit.assets import save_results
from coursekit.assets import save_weights as _save_weights
from coursekit.utils import seed_everything, use_single_thread

__all__ = ["Experiment"]


class Experiment:
    """One run of an experiment script: parsed ``--quick``/``--out``, a log, a CPU clock.

    ``script`` is the script's ``__file__``; ``argv`` its arguments (``None``: the command
    line); ``doc`` its module docstring (the first line becomes ``--help``'s description);
    ``add_arguments(parser)`` adds script-specific options (read them from ``.args``).
    ``seed`` (if not None) is passed to ``seed_everything``. The run is single-threaded
    (``use_single_thread``) so that its numbers match the notebooks'.
    """

    def __init__(self, script: str, argv: Sequence[str] | None = None, *, doc: str | None = None,
                 quick_help: str = "reduced budget (<= 30 s)",
                 add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
                 seed: int | None = None, single_thread: bool = True):
        self.path = Path(script).resolve()
        self.name = self.path.stem
        parser = argparse.ArgumentParser(description=(doc or "").strip().split("\n")[0] or None)
        parser.add_argument("--quick", action="store_true", help=quick_help)
        parser.add_argument("--out", default=None,
                            help="folder to write into (default coursekit/assets)")
        if add_arguments is not None:
            add_arguments(parser)
        self.args = parser.parse_args(argv)
        self.quick: bool = self.args.quick
        self.out: str | None = self.args.out
        self.log: list[str] = []
        if single_thread:
            use_single_thread()
        if seed is not None:
            seed_everything(seed)
        self._cpu, self._wall = time.process_time(), time.time()

    @property
    def script(self) -> str:
        """The script as the results file names it, e.g. ``experiments/04_lenet_translation.py``."""
        return f"experiments/{self.path.name}"

    @property
    def command(self) -> str:
        """The command that reproduces these results (``--out`` left out: it moves nothing)."""
        return f"python {self.script}" + (" --quick" if self.quick else "")

    def cpu_seconds(self) -> float:
        """CPU seconds of this process since the run started."""
        return time.process_time() - self._cpu

    def wall_seconds(self) -> float:
        """Wall-clock seconds since the run started."""
        return time.time() - self._wall

    def say(self, *lines: str, echo: bool = True) -> None:
        """Add ``lines`` to the log (stored with the results); print them unless ``echo=False``."""
        for line in lines:
            self.log.append(line)
            if echo:
                print(line, flush=True)

    def save(self, results, *, seeds, name: str | None = None) -> Path:
        """Write ``results`` with the script, command, seeds and log; print and return the path."""
        path = save_results(name or self.name, results, script=self.script, command=self.command,
                            seeds=seeds, log=self.log, folder=self.out)
        print(f"wrote {path}", flush=True)
        return path

    def save_weights(self, arrays: dict, name: str | None = None) -> Path:
        """Write named arrays to ``<name>.npz`` (at most 1 MB) in the output folder."""
        return _save_weights(name or self.name, arrays, folder=self.out)
