"""Small shared helpers. Seeding lives here and nowhere else."""

from __future__ import annotations

import os
import random

import numpy as np


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
