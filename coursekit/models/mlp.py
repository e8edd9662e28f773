"""The fully connected network of chapters 03a and 03b, for the experiment scripts.

Notebooks 03a and 03b define ``make_mlp`` themselves (writing it is part of the lesson);
the scripts in ``experiments/03_*.py`` that run their multi-seed experiments build the same
network from here, and ``tests/test_experiments_03.py`` checks that both give identical
weights and outputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["make_mlp"]


def make_mlp(sizes: Sequence[int], activation=nn.ReLU, dropout: float = 0.0, norm=None,
             seed: int = 0) -> nn.Sequential:
    """An MLP with layer sizes like ``[64, 128, 10]``: Linear [+ norm] + activation [+ dropout]
    per hidden layer, then a Linear output layer (scores, no softmax).

    ``activation``: a module class (``nn.ReLU``, ``nn.Tanh``, ...); ``norm``: a
    normalization class applied before the activation (``nn.BatchNorm1d``, ``nn.LayerNorm``)
    or None; ``dropout``: the drop probability after each hidden activation (0: none).
    ``seed`` seeds torch's global generator (``torch.manual_seed``) before the weights are
    drawn, exactly as the notebooks do, so the same seed gives the same initial weights
    (and the mini-batch order and dropout masks that follow from that generator).
    """
    sizes = [int(n) for n in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must list at least an input and an output size, each >= 1, "
                         f"e.g. [64, 128, 10]; got {sizes}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be a probability in [0, 1), got {dropout}")
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
        layers.append(nn.Linear(n_in, n_out))
        if norm is not None:
            layers.append(norm(n_out))
        layers.append(activation())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)
