"""Small shared helpers: seeding, and the one definition of the execution environment.

Seeding lives here and nowhere else. So does the environment notebooks and tests run in:

- ``SINGLE_THREAD_ENV``: one thread for OpenMP, OpenBLAS and MKL (results then do not
  depend on the number of cores, and two processes on two cores do not oversubscribe).
- ``FORCED_CODE_PATHS_ENV``: CPU code paths forced below every common native one (torch's
  ATen kernels, MKL, oneDNN, NumPy's SIMD dispatch). ``make execute`` stores outputs with
  the machine's native paths; ``make test`` re-executes with these forced, so every CI run
  checks that stored numbers hold on another CPU. ``OPENBLAS_CORETYPE`` is never set here:
  some machines set it themselves so that older OpenBLAS builds work.

From a shell: ``python -m coursekit.utils env forced -- CMD ...`` runs CMD in that
environment (``native`` for one thread only); ``python -m coursekit.utils show forced``
prints it.
"""

from __future__ import annotations

import os
import random
import sys

import numpy as np

SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

# Each of these changes torch's or NumPy's floating-point results bit for bit (verified on
# AVX2 and AVX-512 machines) and lies below the native path of any x86-64 CPU from the last
# decade; on other CPUs (Arm) the variables are ignored and the run is native.
FORCED_CODE_PATHS_ENV = {
    "ATEN_CPU_CAPABILITY": "default",  # torch's vectorized kernels: no AVX2/AVX-512
    "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",  # torch's matrix products (MKL)
    "ONEDNN_MAX_CPU_ISA": "SSE41",  # torch's convolutions (oneDNN)
    "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",  # NumPy's exp/tanh/log...
}

CODE_PATHS = ("native", "forced")


def execution_env(code_paths: str = "native") -> dict[str, str]:
    """The variables notebooks and tests run with: one thread, plus forced code paths.

    ``code_paths="native"`` uses the machine's own kernels (``make execute``);
    ``"forced"`` restricts them (``make test``), see the module docstring.
    """
    if code_paths not in CODE_PATHS:
        raise ValueError(f"code_paths must be one of {CODE_PATHS}, got {code_paths!r}")
    env = dict(SINGLE_THREAD_ENV)
    if code_paths == "forced":
        env.update(FORCED_CODE_PATHS_ENV)
    return env


def environment_for(code_paths: str = "native", base=None) -> dict[str, str]:
    """A copy of ``base`` (default ``os.environ``) with ``execution_env(code_paths)`` applied.

    For ``native`` the forcing variables are removed, so a shell that exported them does not
    leak them into a native run.
    """
    env = dict(os.environ if base is None else base)
    if code_paths == "native":
        for name in FORCED_CODE_PATHS_ENV:
            env.pop(name, None)
    env.update(execution_env(code_paths))
    return env


def current_code_paths(env=None) -> str:
    """``"forced"`` when every forcing variable is set as ``FORCED_CODE_PATHS_ENV`` says."""
    env = os.environ if env is None else env
    forced = all(env.get(k) == v for k, v in FORCED_CODE_PATHS_ENV.items())
    return "forced" if forced else "native"


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's global state and torch (if installed).

    Returns a fresh ``np.random.Generator`` seeded with ``seed``: pass it on
    (``rng``) instead of using global state in new code.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    os.environ["PYTHONHASHSEED"] = str(seed)  # affects child processes only
    try:
        import torch
    except ImportError:  # torch is optional for the NumPy chapters
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)


_blas_limits = None  # keeps threadpoolctl's limit in force


def use_single_thread() -> None:
    """Run NumPy's BLAS and torch on one thread from now on.

    The course's models are small: one thread trains them as fast as several
    (extra threads mostly wait for each other, badly so on a busy two-core
    machine), and a result computed on one thread repeats exactly, whatever
    the number of cores, so a notebook shows the numbers its text discusses.
    """
    global _blas_limits
    from threadpoolctl import threadpool_limits

    _blas_limits = threadpool_limits(1)
    try:
        import torch
    except ImportError:  # torch is optional for the NumPy chapters
        return
    torch.set_num_threads(1)


def count_parameters(model) -> int:
    """Number of trainable parameters of a torch module."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def main(argv=None) -> int:
    """``python -m coursekit.utils env {native,forced} -- CMD ...`` or ``show {native,forced}``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m coursekit.utils",
        description="Run a command in the course's execution environment (one thread; "
                    "'forced' also restricts CPU code paths, as make test does).")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("env", help="run CMD in that environment")
    run.add_argument("code_paths", choices=CODE_PATHS)
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    show = sub.add_parser("show", help="print the variables as shell export lines")
    show.add_argument("code_paths", choices=CODE_PATHS)
    args = parser.parse_args(argv)
    if args.command == "show":
        for name, value in execution_env(args.code_paths).items():
            print(f"export {name}='{value}'")
        return 0
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("give the command to run after --, e.g. env forced -- pytest notebooks")
    env = environment_for(args.code_paths)
    try:
        os.execvpe(cmd[0], cmd, env)
    except FileNotFoundError:
        print(f"no such command: {cmd[0]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
