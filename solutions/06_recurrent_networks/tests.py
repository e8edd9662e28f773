"""Questions and tests of exercise set 06 (recurrent networks, notebooks 06a and 06b).

Expected values are computed by `coursekit assign` from the reference solution, except where a
test names an explicit ``expected`` from torch (RNN and LSTM steps), an oracle independent of
the reference. Public inputs are fixed (``np.random.default_rng(2026)``); hidden inputs come
from the instructor secret (``secret_rng``).
"""

import numpy as np
import torch

from coursekit.data import CHAR_VOCABULARY, encode_chars, load_text_corpus
from coursekit.grading import Question, accuracy, call, raises, secret_rng

public = np.random.default_rng(2026)


def torch_rnn_step(x, h, W_hx, W_hh, b):
    cell = torch.nn.RNNCell(W_hx.shape[1], W_hx.shape[0]).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(W_hx))
        cell.weight_hh.copy_(torch.from_numpy(W_hh))
        cell.bias_ih.copy_(torch.from_numpy(b))
        cell.bias_hh.zero_()
    return cell(torch.from_numpy(x), torch.from_numpy(h)).detach().numpy()


def torch_lstm_step(x, h, c, W_ih, W_hh, b):
    cell = torch.nn.LSTMCell(W_ih.shape[1], W_ih.shape[0] // 4).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(W_ih))
        cell.weight_hh.copy_(torch.from_numpy(W_hh))
        cell.bias_ih.copy_(torch.from_numpy(b))
        cell.bias_hh.zero_()
    h_new, c_new = cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    return [h_new.detach().numpy(), c_new.detach().numpy()]


def rnn_inputs(rng, n, d, h, scale=0.5):
    return (rng.normal(size=(n, d)), rng.normal(size=(n, h)), rng.normal(scale=scale, size=(h, d)),
            rng.normal(scale=scale, size=(h, h)), rng.normal(size=h))


def lstm_inputs(rng, n, d, h):
    return (rng.normal(size=(n, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h)),
            rng.normal(scale=0.5, size=(4 * h, d)), rng.normal(scale=0.5, size=(4 * h, h)),
            rng.normal(size=4 * h))


def backward_inputs(rng, n, d, h):
    x, h_prev, W_hx, W_hh, b = rnn_inputs(rng, n, d, h)
    out = np.tanh(x @ W_hx.T + h_prev @ W_hh.T + b)
    return rng.normal(size=(n, h)), x, h_prev, W_hx, W_hh, out


def softmax_rows(rng, t, v, scale=2.0):
    z = rng.normal(scale=scale, size=(t, v))
    p = np.exp(z - z.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


def frames(rng, n, alphabet="-ab"):
    return "".join(alphabet[k] for k in rng.integers(0, len(alphabet), size=n))


r1, r2, r3, r4, r5, r6 = (secret_rng(f"q{k}") for k in range(1, 7))
p_rnn = rnn_inputs(public, 2, 3, 4)
p_back = backward_inputs(public, 2, 3, 4)
h_rnn = rnn_inputs(r1, 5, 7, 6)
h_rnn_big = rnn_inputs(r1, 3, 4, 5, scale=3.0)  # saturated tanh
h_lstm = lstm_inputs(r2, 4, 5, 3)
h_lstm_one = lstm_inputs(r2, 1, 2, 6)
words = ["the", "number", "of", "samples", "in", "x", "is", "n"]

QUESTIONS = [
    Question(
        "q1", points=3, title="One RNN step, forward and backward",
        public=[call("rnn_step", *p_rnn), call("rnn_step_backward", *p_back)],
        hidden=[call("rnn_step", *h_rnn, expected=torch_rnn_step(*h_rnn), note="(against torch.nn.RNNCell)"),
                call("rnn_step", *h_rnn_big, note="(large weights: saturated tanh)"),
                call("rnn_step_backward", *backward_inputs(r1, 5, 6, 4), weight=2,
                     note="(N=5, D=6, H=4)"),
                call("rnn_step_backward", *backward_inputs(r1, 1, 3, 7), note="(a batch of one)")],
    ),
    Question(
        "q2", points=3, title="One LSTM step",
        public=[call("lstm_step", *lstm_inputs(public, 2, 3, 2))],
        hidden=[call("lstm_step", *h_lstm, expected=torch_lstm_step(*h_lstm), weight=2,
                     note="(against torch.nn.LSTMCell)"),
                call("lstm_step", *h_lstm_one, expected=torch_lstm_step(*h_lstm_one),
                     note="(one sequence, H=6: gate order i, f, g, o)")],
    ),
    Question(
        "q3", points=2, title="Gradient clipping by norm",
        public=[call("clip_by_norm", [np.array([3.0, 4.0])], 1.0)],
        hidden=[call("clip_by_norm", [r3.normal(size=(3, 4)) * 10, r3.normal(size=5)], 2.0, weight=2,
                     note="(the norm of all arrays together)"),
                call("clip_by_norm", [r3.normal(size=3) * 0.01, r3.normal(size=(2, 2)) * 0.01], 1.0,
                     note="(already short: unchanged)"),
                raises("clip_by_norm", [np.ones(2)], 0.0, exception=ValueError, note="(max_norm 0)")],
    ),
    Question(
        "q4", points=2, title="Perplexity",
        public=[call("perplexity", np.full((4, 5), 0.2), np.array([0, 1, 2, 3]))],
        hidden=[call("perplexity", softmax_rows(r4, 50, 30), r4.integers(0, 30, size=50), weight=2),
                call("perplexity", np.eye(6), np.arange(6), note="(a perfect model)"),
                call("perplexity", softmax_rows(r4, 1, 4), np.array([2]), note="(one token)")],
    ),
    Question(
        "q5", points=2, title="Skip-gram pairs",
        public=[call("skipgram_pairs", ["a", "b", "c"], 1)],
        hidden=[call("skipgram_pairs", [words[k] for k in r5.integers(0, 8, size=9)], 2, weight=2),
                call("skipgram_pairs", ["only"], 3, note="(one word: no pairs)"),
                call("skipgram_pairs", words[:4], 10, note="(window longer than the sentence)")],
    ),
    Question(
        "q6", points=2, title="CTC collapse",
        public=[call("ctc_collapse", "hh-e-ll-ll-oo")],
        hidden=[call("ctc_collapse", frames(r6, 40), weight=2),
                call("ctc_collapse", "a-a-aa", note="(blanks keep real repeats)"),
                call("ctc_collapse", "----", note="(only blanks)"),
                call("ctc_collapse", "xx_y_yy", kwargs={"blank": "_"}, note="(another blank symbol)")],
    ),
]


def windows(codes, starts, context=8):
    """(X, y): the `context` codes before each start and the code at it."""
    starts = np.asarray(starts)
    return codes[starts[:, None] - context + np.arange(context)], codes[starts]


N_CHARS = 500_000  # the notebook's corpus: the first N_CHARS characters of scikit-learn's docstrings
_corpus = load_text_corpus("sklearn", n_chars=N_CHARS)
_valid = encode_chars(_corpus.validation, CHAR_VOCABULARY)
# held-out: the rest of scikit-learn's docstrings (about 2.5 M characters after the first N_CHARS),
# which the notebook never loads (its namespace holds only train_codes), at 2000 secret positions
_full = load_text_corpus("sklearn").text
assert _full.startswith(_corpus.text)
_rest = encode_chars(_full[N_CHARS:], CHAR_VOCABULARY)
# public: fixed validation windows; hidden: 2000 windows of the rest at secret positions
X_public, y_public = windows(_valid, np.arange(8, len(_valid), 97)[:300])
X_heldout, y_heldout = windows(_rest, secret_rng("heldout").integers(8, len(_rest), size=2000))
del _full, _rest

QUESTIONS.append(
    Question(
        "q7", points=4, title="A character language model on held-out text",
        # untuned baselines on 2000 random windows of the held-out rest (3 draws): most common
        # character 0.12-0.13, bigram 0.26-0.27; the reference trigram 0.42 (as on the test part)
        public=[accuracy("model", X_public, y_public, thresholds={0.33: 0.5, 0.38: 1.0},
                         note="(validation windows)")],
        hidden=[accuracy("model", X_heldout, y_heldout, thresholds={0.33: 0.5, 0.38: 1.0},
                         weight=3, note="(held-out docstrings at secret positions)")],
    ))
