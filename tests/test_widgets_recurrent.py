"""LSTMGates.render_static with a single sequence (it used to index a second one)."""

import numpy as np
import pytest
import torch
from torch import nn

from coursekit.widgets import LSTMGates


def test_lstm_gates_render_static_with_one_sequence():
    torch.manual_seed(0)
    widget = LSTMGates(nn.LSTM(2, 4, batch_first=True), np.zeros((1, 6, 2)))
    figure = widget.render_static()
    assert len([ax for ax in figure.axes if ax.get_label() != "<colorbar>"]) == 5
    with pytest.raises(ValueError, match=r"sequence_indices must lie in \[0, 1\)"):
        widget.render_static(sequence_indices=(0, 1))
