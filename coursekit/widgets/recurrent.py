"""LSTMGates: what the gates of an LSTM do along a sequence."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from coursekit.viz.recurrent import GATE_NAMES, lstm_gates, plot_gate_heatmap, plot_sequence
from coursekit.widgets.base import FigureWidget, new_static_figure

SHOWN = ("input_gate", "forget_gate", "output_gate", "cell")


class LSTMGates(FigureWidget):
    """Heatmaps over time of the input, forget and output gates and the cell state.

    lstm: a ``torch.nn.LSTM`` (e.g. ``model.lstm`` of a trained model);
    sequences: (n, T) or (n, T, input_size). Controls: ``sequence_index``,
    ``layer`` (for stacked LSTMs), ``max_units`` (rows shown).
    """

    figsize = (13.0, 3.4)

    def __init__(self, lstm, sequences, max_units: int = 32):
        super().__init__()
        self.lstm = lstm
        sequences = np.asarray(sequences, dtype=np.float32)
        if sequences.ndim == 2:
            sequences = sequences[..., None]
        if sequences.ndim != 3:
            raise ValueError(f"sequences must have shape (n, T) or (n, T, input_size), got {sequences.shape}")
        self.sequences = sequences
        self.sequence_index = widgets.IntSlider(value=0, min=0, max=len(sequences) - 1,
                                                description="sequence")
        self.layer = widgets.IntSlider(value=0, min=0, max=lstm.num_layers - 1, description="layer")
        self.layer.disabled = lstm.num_layers == 1
        self.max_units = widgets.IntSlider(value=min(max_units, lstm.hidden_size), min=1,
                                           max=lstm.hidden_size, description="units shown")
        self.gates = None
        self._build_ui()
        self.update()

    def _controls(self):
        return [self.sequence_index, self.layer, self.max_units]

    def _draw_row(self, axes, sequence, gates, colorbar=True):
        plot_sequence(axes[0], sequence[:, 0] if sequence.shape[1] == 1 else sequence)
        units = self.max_units.value
        for ax, name in zip(axes[1:], SHOWN):
            plot_gate_heatmap(ax, gates[name][:, :units], GATE_NAMES[name], colorbar=colorbar)

    def draw(self, figure):
        sequence = self.sequences[self.sequence_index.value]
        self.gates = lstm_gates(self.lstm, sequence, self.layer.value)
        axes = figure.subplots(1, 1 + len(SHOWN))
        self._draw_row(axes, sequence, self.gates)
        forget = self.gates["forget_gate"]
        self.message.value = (f"mean forget gate {forget.mean():.2f} (1 = keep the cell, 0 = erase); "
                              f"mean input gate {self.gates['input_gate'].mean():.2f}")

    def state(self) -> dict:
        """The sequence, the layer and the gate values shown (the testing contract)."""
        return {"sequence_index": self.sequence_index.value, "layer": self.layer.value,
                **{name: self.gates[name].copy() for name in SHOWN}}

    def render_static(self, sequence_indices=None):
        """One row (sequence + the four heatmaps) per sequence; by default the first two
        (or the only one)."""
        if sequence_indices is None:
            sequence_indices = tuple(range(min(2, len(self.sequences))))
        for index in sequence_indices:
            if not 0 <= index < len(self.sequences):
                raise ValueError(f"sequence_indices must lie in [0, {len(self.sequences)}), "
                                 f"got {index}")
        n = 1 + len(SHOWN)
        figure, axes = new_static_figure(n * len(sequence_indices), n, panel_size=(2.8, 2.4),
                                         title="LSTM gates and cell state over time")
        for row, index in enumerate(sequence_indices):
            sequence = self.sequences[index]
            gates = lstm_gates(self.lstm, sequence, self.layer.value)
            self._draw_row(axes[row * n:(row + 1) * n], sequence, gates, colorbar=row == 0)
        return figure
