"""RNN, LSTM and GRU (single steps and BPTT over sequences) against torch (float64)."""

import numpy as np
import pytest
import torch
from nn_oracle import FORWARD_TOL, GRAD_TOL, assert_close, check_against_torch

from coursekit.nn import functional as F

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _weights(rng, gates, d, h, bias=True):
    scale = 1 / np.sqrt(h)
    w = [scale * rng.standard_normal((gates * h, d)), scale * rng.standard_normal((gates * h, h))]
    b = [scale * rng.standard_normal(gates * h) for _ in range(2)] if bias else [None, None]
    return w + b


@pytest.mark.parametrize("n, d, h", [(1, 3, 4), (4, 5, 3)])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_step_matches_torch(n, d, h, nonlinearity):
    rng = np.random.default_rng(n + d + h)
    x, h_prev = rng.standard_normal((n, d)), rng.standard_normal((n, h))
    w_ih, w_hh, b_ih, b_hh = _weights(rng, 1, d, h)
    cell = torch.rnn_tanh_cell if nonlinearity == "tanh" else torch.rnn_relu_cell
    check_against_torch(
        lambda *a: F.rnn_step_forward(*a, nonlinearity=nonlinearity), F.rnn_step_backward,
        lambda x, hp, wi, wh, bi, bh: cell(x, hp, wi, wh, bi, bh),
        [x, h_prev, w_ih, w_hh, b_ih, b_hh])


@pytest.mark.parametrize("n, d, h", [(1, 2, 3), (3, 4, 5)])
def test_lstm_step_matches_torch(n, d, h):
    rng = np.random.default_rng(n * d * h)
    x, h_prev, c_prev = (rng.standard_normal(s) for s in ((n, d), (n, h), (n, h)))
    w_ih, w_hh, b_ih, b_hh = _weights(rng, 4, d, h)
    tensors = [torch.tensor(a, requires_grad=True) for a in (x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh)]
    h_t, c_t = torch.lstm_cell(tensors[0], (tensors[1], tensors[2]), *tensors[3:])
    dh, dc = rng.standard_normal((n, h)), rng.standard_normal((n, h))
    (h_t * torch.tensor(dh) + c_t * torch.tensor(dc)).sum().backward()
    h_new, c_new, cache = F.lstm_step_forward(x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh)
    assert_close(h_new, h_t.detach().numpy(), FORWARD_TOL, "h")
    assert_close(c_new, c_t.detach().numpy(), FORWARD_TOL, "c")
    for ours, t in zip(F.lstm_step_backward(dh, dc, cache), tensors):
        assert_close(ours, t.grad.numpy(), GRAD_TOL, "lstm step gradient")


@pytest.mark.parametrize("n, d, h", [(1, 3, 2), (3, 2, 4)])
def test_gru_step_matches_torch(n, d, h):
    rng = np.random.default_rng(n + 2 * d + 3 * h)
    x, h_prev = rng.standard_normal((n, d)), rng.standard_normal((n, h))
    w_ih, w_hh, b_ih, b_hh = _weights(rng, 3, d, h)
    check_against_torch(F.gru_step_forward, F.gru_step_backward, torch.gru_cell,
                        [x, h_prev, w_ih, w_hh, b_ih, b_hh])


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("n, t, d, h, bias, zero_state", [(1, 1, 3, 2, True, False),
                                                          (2, 6, 3, 4, True, False),
                                                          (3, 4, 2, 3, False, True)])
def test_sequence_bptt_matches_torch(kind, n, t, d, h, bias, zero_state):
    """Whole sequences: our weights copied into torch.nn.RNN/LSTM/GRU(batch_first=True)."""
    rng = np.random.default_rng(n * 100 + t * 10 + h)
    x = rng.standard_normal((n, t, d))
    h0 = None if zero_state else rng.standard_normal((n, h))
    c0 = None if zero_state else rng.standard_normal((n, h))
    weights = _weights(rng, GATES[kind], d, h, bias)
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        d, h, batch_first=True, bias=bias).double()
    names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    with torch.no_grad():
        for name, w in zip(names, weights):
            if w is not None:
                getattr(module, name).copy_(torch.tensor(w))
    xt = torch.tensor(x, requires_grad=True)
    states = [torch.tensor(s[None], requires_grad=True) for s in (h0, c0) if s is not None]
    if kind == "lstm":
        out, _ = module(xt, tuple(states) if states else None)
    else:
        out, _ = module(xt, states[0] if states else None)
    dhs = rng.standard_normal((n, t, h))
    out.backward(torch.tensor(dhs))

    if kind == "lstm":
        hs, cache = F.lstm_forward(x, h0, c0, *weights)
        grads = F.lstm_backward(dhs, cache)
    else:
        forward = F.rnn_forward if kind == "rnn" else F.gru_forward
        backward = F.rnn_backward if kind == "rnn" else F.gru_backward
        hs, cache = forward(x, h0, *weights)
        grads = backward(dhs, cache)
    assert_close(hs, out.detach().numpy(), FORWARD_TOL, f"{kind} hidden states")
    assert_close(grads[0], xt.grad.numpy(), GRAD_TOL, "dx")
    n_state = 2 if kind == "lstm" else 1
    for ours, state in zip(grads[1:1 + n_state], states):
        assert_close(ours, state.grad.numpy()[0], GRAD_TOL, "initial state gradient")
    for ours, name in zip(grads[1 + n_state:], names):
        param = getattr(module, name, None)
        if param is None:
            assert ours is None
        else:
            assert_close(ours, param.grad.numpy(), GRAD_TOL, name)


def test_lstm_cache_keeps_cell_states():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4))
    hs, cache = F.lstm_forward(x, None, None, *_weights(rng, 4, 4, 5))
    assert cache["cs"].shape == hs.shape == (2, 3, 5)
    # h = o * tanh(c) with o in (0, 1): |h| < |tanh(c)|
    assert np.all(np.abs(hs) <= np.abs(np.tanh(cache["cs"])))


def test_recurrent_shape_errors():
    rng = np.random.default_rng(0)
    w = _weights(rng, 4, 3, 5)
    with pytest.raises(ValueError, match=r"x must have shape \(N, T, D\)"):
        F.lstm_forward(np.zeros((2, 3)), None, None, *w)
    with pytest.raises(ValueError, match=r"D = w_ih.shape\[1\] = 3; got x shape \(2, 4, 2\)"):
        F.lstm_forward(np.zeros((2, 4, 2)), None, None, *w)
    with pytest.raises(ValueError, match=r"w_hh must have shape \(20, 5\)"):
        F.lstm_forward(np.zeros((2, 4, 3)), None, None, w[0], np.zeros((20, 4)), None, None)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(2, 5\)"):
        F.gru_step_forward(np.zeros((2, 3)), np.zeros((3, 5)), *_weights(rng, 3, 3, 5))
    with pytest.raises(ValueError, match="nonlinearity must be"):
        F.rnn_step_forward(np.zeros((2, 3)), np.zeros((2, 5)), *_weights(rng, 1, 3, 5),
                           nonlinearity="sigmoid")
