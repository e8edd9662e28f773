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


def count_parameters(model) -> int:
    """Number of trainable parameters of a torch module."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
