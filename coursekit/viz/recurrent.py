"""Inside an LSTM: gate activations and cell state over time.

``lstm_gates`` replays a ``torch.nn.LSTM`` step by step with its own weights
(torch's gate order i, f, g, o) and returns every gate at every time step, so a
heatmap can show when the network opens or closes its gates. The replay is
checked against the module's own output.

Compute: ``lstm_gates``. Draw: ``plot_gate_heatmap``, ``plot_sequence``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GATE_NAMES", "lstm_gates", "plot_gate_heatmap", "plot_sequence"]

#: Keys of the dict returned by ``lstm_gates``, in display order, with their titles.
GATE_NAMES = {
    "input_gate": "input gate $i_t$",
    "forget_gate": "forget gate $f_t$",
    "candidate": r"candidate $\tilde c_t = g_t$",
    "output_gate": "output gate $o_t$",
    "cell": "cell state $c_t$",
    "hidden": "hidden state $h_t$",
}


def lstm_gates(lstm, sequence, layer: int = 0) -> dict:
    """Gates of one layer of ``lstm`` (``torch.nn.LSTM``) on one sequence.

    sequence: array or tensor (T, input_size) — one sequence, no batch axis.
    Returns a dict of NumPy arrays of shape (T, hidden_size) with keys
    ``GATE_NAMES`` (input_gate, forget_gate, candidate, output_gate, cell,
    hidden), computed as
        i = σ(W_ii x + b_ii + W_hi h + b_hi),  f = σ(...),  g = tanh(...),
        o = σ(...),  c_t = f ⊙ c_{t-1} + i ⊙ g,  h_t = o ⊙ tanh(c_t).
    """
    import torch

    if not isinstance(lstm, torch.nn.LSTM):
        raise TypeError(f"lstm must be a torch.nn.LSTM, got {type(lstm).__name__}")
    if lstm.bidirectional or lstm.proj_size:
        raise ValueError("lstm_gates supports unidirectional LSTMs without projection")
    if not 0 <= layer < lstm.num_layers:
        raise ValueError(f"layer must be in [0, {lstm.num_layers}), got {layer}")
    x = torch.as_tensor(np.asarray(sequence, dtype=np.float32))
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != lstm.input_size:
        raise ValueError(
            f"sequence must have shape (T, input_size={lstm.input_size}), got {tuple(x.shape)}")
    hidden_size = lstm.hidden_size
    with torch.no_grad():
        inputs = x
        for current in range(layer + 1):
            w_ih = getattr(lstm, f"weight_ih_l{current}")
            w_hh = getattr(lstm, f"weight_hh_l{current}")
            bias = torch.zeros(4 * hidden_size)
            if lstm.bias:
                bias = getattr(lstm, f"bias_ih_l{current}") + getattr(lstm, f"bias_hh_l{current}")
            h = torch.zeros(hidden_size)
            c = torch.zeros(hidden_size)
            record = {name: [] for name in GATE_NAMES}
            for x_t in inputs:
                pre = w_ih @ x_t + w_hh @ h + bias
                i, f, g, o = pre.split(hidden_size)
                i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
                c = f * c + i * g
                h = o * torch.tanh(c)
                for name, value in zip(GATE_NAMES, (i, f, g, o, c, h)):
                    record[name].append(value)
            inputs = torch.stack(record["hidden"])
    return {name: torch.stack(values).numpy().astype(float) for name, values in record.items()}


def plot_gate_heatmap(ax, values, title=None, vmin=None, vmax=None, cmap=None, colorbar=True):
    """Heatmap of (T, hidden) values: time on x, hidden unit on y."""
    values = np.asarray(values)
    if cmap is None:
        cmap = "viridis" if (values.min() >= 0) else "RdBu_r"
    if vmin is None and vmax is None:
        if values.min() >= 0:
            vmin, vmax = 0.0, 1.0
        else:
            bound = max(1e-6, float(np.abs(values).max()))
            vmin, vmax = -bound, bound
    image = ax.imshow(values.T, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax,
                      interpolation="nearest", origin="lower")
    ax.set_xlabel("time step t")
    ax.set_ylabel("unit")
    ax.grid(False)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        ax.set_title(title, fontsize=10)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    return ax


def plot_sequence(ax, sequence, title="input sequence"):
    """The input sequence (T,) or (T, features): lines for up to 6 features, else a heatmap
    (feature on y, time on x), which keeps one-hot inputs readable."""
    from matplotlib.ticker import MaxNLocator

    sequence = np.asarray(sequence)
    if sequence.ndim == 1:
        sequence = sequence[:, None]
    if sequence.shape[1] > 6:
        ax.imshow(sequence.T, aspect="auto", cmap="Greys", interpolation="nearest", origin="lower")
        ax.grid(False)
        ax.set_ylabel("input feature")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        for k in range(sequence.shape[1]):
            ax.plot(np.arange(len(sequence)), sequence[:, k], lw=1.2,
                    label=f"x[{k}]" if sequence.shape[1] > 1 else None)
        ax.set_ylabel("input value")
        if sequence.shape[1] > 1:
            ax.legend(fontsize=9)
    ax.set_xlim(-0.5, len(sequence) - 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("time step t")
    ax.set_title(title, fontsize=10)
    return ax
