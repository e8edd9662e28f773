"""Recurrent layers: vanilla RNN, LSTM and GRU, one step and a whole sequence (BPTT).

Weights are stored as torch stores them, so they can be copied into
``torch.nn.RNN / LSTM / GRU`` (``weight_ih_l0`` etc.):
    w_ih (G*H, D), w_hh (G*H, H), b_ih (G*H,), b_hh (G*H,)
with G = 1 (RNN), 4 (LSTM, gate rows in the order i, f, g, o) or 3 (GRU: r, z, n).
Sequences are batch-first: x (N, T, D), hidden states (N, T, H)
(torch's ``batch_first=True``). Biases may be None.
"""

import numpy as np

from ._checks import as_float_array, check_ndim, check_shape
from .activations import sigmoid

_GATES = {1: "", 3: " (gates r, z, n)", 4: " (gates i, f, g, o)"}


def _check_weights(x, h_prev, w_ih, w_hh, b_ih, b_hh, gates, x_layout):
    """Convert and validate a recurrent layer's inputs.

    Returns ``(hidden, h_prev, w_ih, w_hh, b_ih, b_hh)`` as float arrays (None stays None).
    The hidden size H is w_ih.shape[0] / gates; weights sized for a plain RNN (w_ih
    (H, D), w_hh (H, H)) given to an LSTM or GRU blame ``w_ih``, which needs gates*H rows.
    """
    w_ih, w_hh = as_float_array("w_ih", w_ih), as_float_array("w_hh", w_hh)
    b_ih = None if b_ih is None else as_float_array("b_ih", b_ih)
    b_hh = None if b_hh is None else as_float_array("b_hh", b_hh)
    h_prev = None if h_prev is None else as_float_array("h_prev", h_prev)
    check_ndim("w_ih", w_ih, (2,), f"({gates}*H, D)")
    check_ndim("w_hh", w_hh, (2,), f"({gates}*H, H)")
    rnn_sized = gates > 1 and w_hh.shape[0] == w_hh.shape[1] == w_ih.shape[0]
    if w_ih.shape[0] % gates or rnn_sized:
        hidden = w_hh.shape[1]
        hint = ""
        if rnn_sized:
            hint = (f"; these look like weights sized for a plain RNN (H rows each): "
                    f"stack the {gates} gate blocks{_GATES[gates]} into "
                    f"{gates}*H = {gates * hidden} rows in w_ih and w_hh")
        raise ValueError(
            f"w_ih must have shape ({gates}*H, D) = ({gates * hidden}, D) with H = w_hh.shape[1] = "
            f"{hidden}, one block of H rows per gate{_GATES[gates]}; "
            f"got w_ih shape {w_ih.shape}{hint}")
    hidden = w_ih.shape[0] // gates
    check_shape("w_hh", w_hh, (gates * hidden, hidden))
    if x.shape[-1] != w_ih.shape[1]:
        raise ValueError(f"x must have shape {x_layout} with D = w_ih.shape[1] = "
                         f"{w_ih.shape[1]}; got x shape {x.shape}")
    if h_prev is not None:
        check_shape("h_prev", h_prev, (x.shape[0], hidden))
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None:
            check_shape(name, b, (gates * hidden,))
    return hidden, h_prev, w_ih, w_hh, b_ih, b_hh


def _affine(x, w, b):
    out = x @ w.T
    return out if b is None else out + b


def _weight_grads(dgates_x, dgates_h, x, h_prev, has_bias):
    """(dw_ih, dw_hh, db_ih, db_hh) for pre-activations dgates_x = d(x w_ih^T + b_ih), etc."""
    return (dgates_x.T @ x, dgates_h.T @ h_prev,
            dgates_x.sum(axis=0) if has_bias[0] else None,
            dgates_h.sum(axis=0) if has_bias[1] else None)


# ----------------------------------------------------------------------------- RNN

def rnn_step_forward(x, h_prev, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """One step ``h = tanh(x w_ih^T + b_ih + h_prev w_hh^T + b_hh)`` (or relu).

    x: (N, D); h_prev: (N, H). Returns ``(h, cache)``, h (N, H).
    """
    x = as_float_array("x", x)
    check_ndim("x", x, (2,), "(N, D)")
    _, h_prev, w_ih, w_hh, b_ih, b_hh = _check_weights(x, h_prev, w_ih, w_hh, b_ih, b_hh, 1,
                                                       "(N, D)")
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    a = _affine(x, w_ih, b_ih) + _affine(h_prev, w_hh, b_hh)
    h = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)
    return h, (x, h_prev, h, w_ih, w_hh, (b_ih is not None, b_hh is not None), nonlinearity)


def rnn_step_backward(dh, cache):
    """Backward of one RNN step. dh: (N, H).
    Returns ``(dx, dh_prev, dw_ih, dw_hh, db_ih, db_hh)``."""
    x, h_prev, h, w_ih, w_hh, has_bias, nonlinearity = cache
    da = dh * (1 - h**2) if nonlinearity == "tanh" else dh * (h > 0)
    return (da @ w_ih, da @ w_hh) + _weight_grads(da, da, x, h_prev, has_bias)


def _sequence_setup(x, h0, w_hh):
    """x as a float (N, T, D) array and the first hidden state (zeros (N, H) if h0 is None)."""
    x = as_float_array("x", x)
    if x.ndim == 2:
        raise ValueError(f"x must have shape (N, T, D) (3-D), got shape {x.shape}; "
                         f"one sequence of T = {x.shape[0]} steps? use x[None] (a batch of 1)")
    check_ndim("x", x, (3,), "(N, T, D)")
    check_ndim("w_hh", w_hh, (2,), "(gates*H, H)")
    hidden = np.shape(w_hh)[1]
    return x, (np.zeros((x.shape[0], hidden), dtype=x.dtype) if h0 is None else h0)


def rnn_forward(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """Run an RNN over a sequence.

    x: (N, T, D); h0: (N, H) or None (zeros). Returns ``(hs, cache)`` with hs (N, T, H),
    the hidden state after every step (``hs[:, -1]`` is the final one).
    """
    x, h = _sequence_setup(x, h0, w_hh)
    _, h, w_ih, w_hh, b_ih, b_hh = _check_weights(x, h, w_ih, w_hh, b_ih, b_hh, 1, "(N, T, D)")
    hs, caches = [], []
    for t in range(x.shape[1]):
        h, step_cache = rnn_step_forward(x[:, t], h, w_ih, w_hh, b_ih, b_hh, nonlinearity)
        hs.append(h)
        caches.append(step_cache)
    return np.stack(hs, axis=1), caches


def _bptt(dhs, caches, step_backward, n_state):
    """Backpropagation through time shared by RNN/LSTM/GRU: walk the steps backwards,
    adding each step's output gradient to the gradient flowing in from the future and
    summing the weight gradients over time (the same weights are used at every step)."""
    n, steps, hidden = dhs.shape
    dstate = [np.zeros((n, hidden), dtype=dhs.dtype) for _ in range(n_state)]
    dxs, totals = [None] * steps, None
    for t in reversed(range(steps)):
        dstate[0] = dstate[0] + dhs[:, t]
        grads = step_backward(*dstate, caches[t])
        dxs[t], dstate = grads[0], list(grads[1:1 + n_state])
        weights = grads[1 + n_state:]
        totals = weights if totals is None else tuple(
            None if a is None else a + b for a, b in zip(totals, weights))
    return (np.stack(dxs, axis=1),) + tuple(dstate) + totals


def rnn_backward(dhs, cache):
    """Backpropagation through time for :func:`rnn_forward`.

    dhs: (N, T, H), the loss gradient of every hidden state.
    Returns ``(dx, dh0, dw_ih, dw_hh, db_ih, db_hh)`` with dx (N, T, D), dh0 (N, H).
    """
    return _bptt(dhs, cache, rnn_step_backward, 1)


# ---------------------------------------------------------------------------- LSTM

def lstm_step_forward(x, h_prev, c_prev, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (gates i, f, g, o as torch):

    ``i, f, o = sigmoid(...)``, ``g = tanh(...)``, ``c = f * c_prev + i * g``,
    ``h = o * tanh(c)``. The additive cell update is what lets gradients survive
    many steps (f close to 1 passes them through unchanged).
    x: (N, D); h_prev, c_prev: (N, H). Returns ``(h, c, cache)``.
    """
    x = as_float_array("x", x)
    check_ndim("x", x, (2,), "(N, D)")
    _, h_prev, w_ih, w_hh, b_ih, b_hh = _check_weights(x, h_prev, w_ih, w_hh, b_ih, b_hh, 4,
                                                       "(N, D)")
    c_prev = as_float_array("c_prev", c_prev)
    check_shape("c_prev", c_prev, h_prev.shape)
    a = _affine(x, w_ih, b_ih) + _affine(h_prev, w_hh, b_hh)
    ai, af, ag, ao = np.split(a, 4, axis=1)
    i, f, g, o = sigmoid(ai), sigmoid(af), np.tanh(ag), sigmoid(ao)
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    cache = (x, h_prev, c_prev, i, f, g, o, tanh_c, w_ih, w_hh,
             (b_ih is not None, b_hh is not None))
    return h, c, cache


def lstm_step_backward(dh, dc, cache):
    """Backward of one LSTM step. dh, dc: (N, H) gradients of h and c.
    Returns ``(dx, dh_prev, dc_prev, dw_ih, dw_hh, db_ih, db_hh)``."""
    x, h_prev, c_prev, i, f, g, o, tanh_c, w_ih, w_hh, has_bias = cache
    dc = dc + dh * o * (1 - tanh_c**2)
    da = np.concatenate([dc * g * i * (1 - i),        # input gate
                         dc * c_prev * f * (1 - f),   # forget gate
                         dc * i * (1 - g**2),         # candidate
                         dh * tanh_c * o * (1 - o)],  # output gate
                        axis=1)
    return (da @ w_ih, da @ w_hh, dc * f) + _weight_grads(da, da, x, h_prev, has_bias)


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
    """Run an LSTM over a sequence.

    x: (N, T, D); h0, c0: (N, H) or None (zeros).
    Returns ``(hs, cache)`` with hs (N, T, H); ``cache["cs"]`` (N, T, H) holds the cell
    states (``cache["cs"][:, -1]`` is torch's ``c_n``).
    """
    x, h = _sequence_setup(x, h0, w_hh)
    _, h, w_ih, w_hh, b_ih, b_hh = _check_weights(x, h, w_ih, w_hh, b_ih, b_hh, 4, "(N, T, D)")
    c = np.zeros_like(h) if c0 is None else c0
    hs, cs, caches = [], [], []
    for t in range(x.shape[1]):
        h, c, step_cache = lstm_step_forward(x[:, t], h, c, w_ih, w_hh, b_ih, b_hh)
        hs.append(h)
        cs.append(c)
        caches.append(step_cache)
    return np.stack(hs, axis=1), {"steps": caches, "cs": np.stack(cs, axis=1)}


def lstm_backward(dhs, cache):
    """BPTT for :func:`lstm_forward`. dhs: (N, T, H).
    Returns ``(dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh)``."""
    return _bptt(dhs, cache["steps"], lstm_step_backward, 2)


# ----------------------------------------------------------------------------- GRU

def gru_step_forward(x, h_prev, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (gates r, z, n as torch):

    ``r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)``, ``z`` likewise,
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.
    x: (N, D); h_prev: (N, H). Returns ``(h, cache)``.
    """
    x = as_float_array("x", x)
    check_ndim("x", x, (2,), "(N, D)")
    _, h_prev, w_ih, w_hh, b_ih, b_hh = _check_weights(x, h_prev, w_ih, w_hh, b_ih, b_hh, 3,
                                                       "(N, D)")
    xr, xz, xn = np.split(_affine(x, w_ih, b_ih), 3, axis=1)
    hr, hz, hn = np.split(_affine(h_prev, w_hh, b_hh), 3, axis=1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    h = (1 - z) * n + z * h_prev
    return h, (x, h_prev, r, z, n, hn, w_ih, w_hh, (b_ih is not None, b_hh is not None))


def gru_step_backward(dh, cache):
    """Backward of one GRU step. dh: (N, H).
    Returns ``(dx, dh_prev, dw_ih, dw_hh, db_ih, db_hh)``."""
    x, h_prev, r, z, n, hn, w_ih, w_hh, has_bias = cache
    dan = dh * (1 - z) * (1 - n**2)
    dar = dan * hn * r * (1 - r)
    daz = dh * (h_prev - n) * z * (1 - z)
    da_x = np.concatenate([dar, daz, dan], axis=1)
    da_h = np.concatenate([dar, daz, dan * r], axis=1)
    return (da_x @ w_ih, dh * z + da_h @ w_hh) + _weight_grads(da_x, da_h, x, h_prev, has_bias)


def gru_forward(x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
    """Run a GRU over a sequence. x: (N, T, D); h0: (N, H) or None.
    Returns ``(hs, cache)`` with hs (N, T, H)."""
    x, h = _sequence_setup(x, h0, w_hh)
    _, h, w_ih, w_hh, b_ih, b_hh = _check_weights(x, h, w_ih, w_hh, b_ih, b_hh, 3, "(N, T, D)")
    hs, caches = [], []
    for t in range(x.shape[1]):
        h, step_cache = gru_step_forward(x[:, t], h, w_ih, w_hh, b_ih, b_hh)
        hs.append(h)
        caches.append(step_cache)
    return np.stack(hs, axis=1), caches


def gru_backward(dhs, cache):
    """BPTT for :func:`gru_forward`. dhs: (N, T, H).
    Returns ``(dx, dh0, dw_ih, dw_hh, db_ih, db_hh)``."""
    return _bptt(dhs, cache, gru_step_backward, 1)
