"""Chapter 06 (recurrent networks, language models, embeddings): the lecture notebooks show
what their text states, the stored experiment results hold the chapter's must (the LSTM's
held-out perplexity at least 15 % below the bigram's, mean over 3 seeds), the experiment
scripts still learn on a reduced budget, and the from-scratch recurrent layers equal torch's.
(nbval re-executes the notebooks themselves in `make test`.)
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from coursekit.assets import load_results, load_weights
from coursekit.nn import functional as F_np

ROOT = Path(__file__).resolve().parents[1]
NB_A = ROOT / "notebooks" / "06a_recurrent_networks.ipynb"
NB_B = ROOT / "notebooks" / "06b_language_models_embeddings.ipynb"


def outputs(path) -> str:
    """All stored text outputs of a notebook, joined."""
    text = []
    for cell in nbformat.read(path, as_version=4).cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                text.append(out["text"])
            elif "text/plain" in out.get("data", {}):
                text.append(out["data"]["text/plain"])
    return "\n".join(text)


def prose(path) -> str:
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                     if c.cell_type == "markdown")


def mean_std(text, prefix):
    match = re.search(re.escape(prefix) + r"\s*([\d.]+) ± ([\d.]+)", text)
    assert match, f"no '{prefix} m ± s' in the stored outputs"
    return float(match.group(1)), float(match.group(2))


@pytest.fixture(scope="module")
def out_a():
    return outputs(NB_A)


@pytest.fixture(scope="module")
def out_b():
    return outputs(NB_B)


# ------------------------------------------------------------------ the must
def test_lstm_perplexity_at_least_15_percent_below_the_bigram():
    r = load_results("06_char_lm")["results"]
    assert len(r["lstm"]["test_perplexity"]) == 3
    mean = np.mean(r["lstm"]["test_perplexity"])
    assert mean <= 0.85 * r["baselines"]["bigram"], (mean, r["baselines"]["bigram"])
    assert r["baselines"]["uniform"] == 96
    assert r["baselines"]["bigram"] < r["baselines"]["unigram"] < 96
    assert r["corpus"]["sha256"] == "8c30bd18048c019f41497976954dc56b67333e20716428cb7c13666ffc6b393e"


def test_stored_lm_weights_reproduce_the_stored_perplexity():
    from coursekit.data import CHAR_VOCABULARY, encode_chars, load_text_corpus

    spec = importlib.util.spec_from_file_location("char_lm", ROOT / "experiments" / "06_char_lm.py")
    script = importlib.util.module_from_spec(spec)
    sys.modules["char_lm"] = script
    spec.loader.exec_module(script)
    model = script.CharLSTM()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in load_weights("06_char_lm").items()})
    test = encode_chars(load_text_corpus("sklearn", n_chars=500_000).test, CHAR_VOCABULARY)
    stored = load_results("06_char_lm")["results"]["lstm"]["test_perplexity"][0]
    assert script.perplexity(model, test) == pytest.approx(stored, rel=0.01)
    assert (ROOT / "coursekit" / "assets" / "06_char_lm.npz").stat().st_size <= 1_000_000


def test_copy_task_sweep_shows_gated_cells_remember_longer():
    table = load_results("06_copy_task")["results"]["models"]
    lags = table["RNN"]["lags"]
    acc = {cell: np.array(record["accuracy"]) for cell, record in table.items()}
    assert all(a.shape == (len(lags), 3) for a in acc.values())
    longest = lags.index(40)
    assert acc["RNN"][longest].mean() < 0.35  # chance is 0.25
    for cell in ("LSTM", "GRU"):
        assert acc[cell][longest].mean() > 0.95
        # the effect exceeds the spread
        assert acc[cell][longest].mean() - acc["RNN"][longest].mean() > 3 * (
            acc[cell][longest].std() + acc["RNN"][longest].std())
    assert acc["RNN"][lags.index(5)].mean() == 1.0


# ------------------------------------------------------------------ stored outputs: 06a
def test_06a_cited_numbers(out_a):
    assert "total 2,020,100" in out_a and "torch.nn.RNN + nn.Linear: 2020200" in out_a
    assert "W_hx @ one-hot equals column 2 of W_hx: True" in out_a
    assert out_a.count("max |difference| < 1e-12: True") == 7
    assert "cosine with the original gradient 1.0000" in out_a
    assert "cosine with the original gradient 0.7827" in out_a
    assert "matches torch.nn.utils.clip_grad_norm_: True" in out_a
    word, _ = mean_std(out_a, "word by word, city tags:")
    rnn, _ = mean_std(out_a, "left-to-right RNN, city tags (verb first):")
    assert 0.35 < word < 0.65 and rnn > 0.95
    live, _ = mean_std(out_a, "LSTM, lag 10, 200 steps: test accuracy")
    assert live > 0.95
    forget = float(re.search(r"mean forget gate during the lag ([\d.]+)", out_a).group(1))
    assert forget > 0.9


def test_06a_gradient_norm_ratios(out_a):
    ratios = dict(re.findall(r"(\w+, ρ = [\d.]+): ‖∂L/∂h_0‖ / ‖∂L/∂h_49‖ = ([\d.e+-]+)", out_a))
    assert float(ratios["tanh, ρ = 0.5"]) < 1e-15 and float(ratios["relu, ρ = 0.5"]) < 1e-24
    assert 1e3 < float(ratios["tanh, ρ = 3.0"]) < 1e5 and float(ratios["relu, ρ = 3.0"]) > 1e11


def test_06a_bidirectional_tagging(out_a):
    rows = {}
    for line in out_a.splitlines():
        if "|" in line and "±" in line:
            name, *cells = [part.strip() for part in line.split("|")]
            rows[name] = [float(c.split(" ± ")[0]) for c in cells]
    # columns: O, FROM, TO, DATE, city when the verb comes after it
    assert rows["bidirectional RNN"] == [1.0] * 5
    assert rows["RNN"][4] < 0.6 and rows["word by word"][2] < 0.5
    assert all(rows[name][0] == rows[name][3] == 1.0 for name in rows)
    assert "0.42 ± 0.01" in prose(NB_A) and f"{rows['RNN'][4]:.2f}" == "0.42"


def test_06a_copy_numbers_in_prose_match_the_stored_sweep():
    table = load_results("06_copy_task")["results"]["models"]
    lags = table["RNN"]["lags"]
    text = prose(NB_A)
    for lag in (10, 20, 40):
        acc = np.array(table["RNN"]["accuracy"][lags.index(lag)])
        precision = 2
        assert f"{acc.mean():.{precision}f} ± {acc.std():.{precision}f}" in text, lag


# ------------------------------------------------------------------ stored outputs: 06b
def test_06b_cited_numbers(out_b):
    r = load_results("06_char_lm")["results"]
    assert "SHA-256 8c30bd18048c019f41497976954dc56b67333e20716428cb7c13666ffc6b393e" in out_b
    assert "uniform: test perplexity 96.000" in out_b
    assert f"bigram: add-0.5 smoothing, test perplexity {r['baselines']['bigram']:.3f}" in out_b
    assert f"unigram: add-1.0 smoothing, test perplexity {r['baselines']['unigram']:.3f}" in out_b
    pp = np.array(r["lstm"]["test_perplexity"])
    assert f"LSTM {pp.mean():.2f} ± {pp.std():.2f}" in out_b
    assert f"LSTM perplexity {100 * r['reduction_vs_bigram']:.0f} % below the bigram's" in out_b
    live, _ = mean_std(out_b, "live LSTM (64 units, 150 steps):")
    bigram_10k = float(re.search(r"bigram on the same 10 000 characters ([\d.]+)", out_b).group(1))
    assert live < bigram_10k  # the text: even the small live model is below the bigram
    assert "'hello'" in out_b and "'cat'" in out_b and "'aaa'" in out_b
    exact, _ = mean_std(out_b, "reverse 5 digits: exact-match accuracy")
    ctc, _ = mean_std(out_b, "exact transcript on 500 test utterances")
    sentence, _ = mean_std(out_b, "arrival or departure, 200 test sentences: accuracy")
    assert exact > 0.9 and ctc > 0.85 and sentence > 0.95
    assert "about 91 %" in prose(NB_B) and f"{ctc:.2f}" == "0.91"


def test_06b_embedding_claims(out_b):
    related = [float(m) for m in re.findall(r"cos\(\w+, \w+\) = ([-\d.]+) ±", out_b)]
    random_mean, random_std = mean_std(out_b, "random pairs:")
    assert len(related) == 8
    assert np.mean(related) > random_mean + 0.2
    hits, _ = mean_std(out_b, "top-5 accuracy")
    assert hits < 0.2, "the text says the corpus hardly supports analogies"
    assert "About 7 %" in prose(NB_B) and f"{hits:.2f}" == "0.07"
    assert f"{random_mean:.2f} ± {random_std:.2f}" in prose(NB_B)
    assert min(related) == 0.49 and max(related) == 0.87  # "0.49 to 0.87" in the text


# ------------------------------------------------------------------ scripts, reduced budget
def _run_script(name, tmp_path):
    import subprocess

    completed = subprocess.run([sys.executable, str(ROOT / "experiments" / name), "--quick",
                                "--out", str(tmp_path)], capture_output=True, text=True,
                               timeout=600, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr[-2000:]


def test_char_lm_quick_run_learns(tmp_path):
    _run_script("06_char_lm.py", tmp_path)
    r = load_results("06_char_lm", folder=tmp_path)["results"]
    assert r["lstm"]["test_perplexity"][0] < r["baselines"]["unigram"]
    assert load_weights("06_char_lm", folder=tmp_path)["head.weight"].shape == (96, 128)


def test_copy_task_quick_run_learns(tmp_path):
    _run_script("06_copy_task.py", tmp_path)
    table = load_results("06_copy_task", folder=tmp_path)["results"]["models"]
    for cell in ("RNN", "LSTM", "GRU"):
        assert table[cell]["lags"] == [2, 20]
        assert table[cell]["accuracy"][0][0] > 0.9  # lag 2 is learnt in 150 steps


# ------------------------------------------------------------------ from scratch = torch
@pytest.mark.parametrize("cell", ["RNN", "LSTM", "GRU"])
def test_from_scratch_sequences_match_torch(cell):
    rng = np.random.default_rng(7)
    n, t, d, h = 3, 6, 4, 5
    gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[cell]
    x = rng.normal(size=(n, t, d))
    weights = [rng.normal(scale=0.4, size=s) for s in
               [(gates * h, d), (gates * h, h), (gates * h,), (gates * h,)]]
    module = getattr(torch.nn, cell)(d, h, batch_first=True).double()
    with torch.no_grad():
        for name, value in zip(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"], weights):
            getattr(module, name).copy_(torch.from_numpy(value))
    xt = torch.tensor(x, requires_grad=True)
    out, _ = module(xt)
    dhs = rng.normal(size=out.shape)
    out.backward(torch.from_numpy(dhs))
    if cell == "LSTM":
        hs, cache = F_np.lstm_forward(x, None, None, *weights)
        grads = F_np.lstm_backward(dhs, cache)
        dx, dw_hh = grads[0], grads[4]
    else:
        forward, backward = {"RNN": (F_np.rnn_forward, F_np.rnn_backward),
                             "GRU": (F_np.gru_forward, F_np.gru_backward)}[cell]
        hs, cache = forward(x, None, *weights)
        dx, _, _, dw_hh, *_ = backward(dhs, cache)
    np.testing.assert_allclose(hs, out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(dw_hh, module.weight_hh_l0.grad.numpy(), atol=1e-12)


# ------------------------------------------------------------------ review additions
def test_06a_copy_task_seeds_in_prose_and_the_reach_claim(out_a):
    table = load_results("06_copy_task")["results"]["models"]
    lags = table["RNN"]["lags"]
    rnn = {lag: table["RNN"]["accuracy"][j] for j, lag in enumerate(lags)}
    for lag in (10, 20, 40):
        assert f"lag {lag}: " + ", ".join(f"{a:.3f}" for a in rnn[lag]) in out_a
    text = prose(NB_A)
    assert "(lag 10: 0.48, 1.00, 1.00; lag 20: 1.00,\n0.49, 0.51)" in text
    assert [f"{a:.2f}" for a in rnn[10]] == ["0.48", "1.00", "1.00"]
    assert [f"{a:.2f}" for a in rnn[20]] == ["1.00", "0.49", "0.51"]
    # "at least 8 times further (lag 40 against lag 5)": every RNN seed perfect only up to lag 5
    assert min(rnn[5]) == 1.0 and min(rnn[10]) < 0.6
    for cell in ("LSTM", "GRU"):
        assert min(table[cell]["accuracy"][lags.index(40)]) == 1.0


def test_06a_gate_means_over_three_seeds(out_a):
    match = re.search(r"at the symbol ([\d.]+) ± ([\d.]+), at the distractors ([\d.]+) ± ([\d.]+); "
                      r"mean forget gate during the lag ([\d.]+) ± ([\d.]+) \(3 seeds\)", out_a)
    assert match
    symbol, s1, distractors, s2, forget, s3 = map(float, match.groups())
    assert forget > 0.9 and forget - s3 > 0.9
    assert distractors - s2 > 0.5  # "the input gate is not closed on the distractors"
    text = prose(NB_A)
    assert f"({forget:.2f} on average" in text and f"({distractors:.2f} on average, against {symbol:.2f}" in text


def test_06a_lstm_gru_parameter_counts(out_a):
    counts = {cell: int(n) for cell, n in re.findall(r"^(RNN|GRU|LSTM)\s*:\s+(\d+) parameters", out_a, flags=re.M)}
    assert counts == {"RNN": 1376, "GRU": 3 * 1376, "LSTM": 4 * 1376}


def test_06b_temperature_entropies_in_prose(out_b):
    entropy = {float(t): float(e) for t, e in re.findall(r"τ = ([\d.]+): entropy ([\d.]+) nats", out_b)}
    assert entropy[0.5] < entropy[1.0] < entropy[1.5] < np.log(96)
    text = prose(NB_B)
    assert f"entropy after the prompt is {entropy[1.5]:.2f} nats" in text and f"({entropy[0.5]:.2f} nats" in text
    assert f"\\log 96 = {np.log(96):.2f}$ nats for uniform" in text


# ------------------------------------------ exercise q7: held-out text outside the namespace
MEMORISER = '''class NextCharModel:
    # the reviewer's cheat: remember what follows each 8-character context of the corpus's test part
    def __init__(self, codes):
        test = encode_chars(load_text_corpus("sklearn", n_chars=500_000).test, CHAR_VOCABULARY)
        self.table = {tuple(test[i - 8:i]): test[i] for i in range(8, len(test))}

    def predict(self, X):
        return np.array([self.table.get(tuple(row), 1) for row in np.asarray(X)])


model = NextCharModel(train_codes)
'''
EXERCISE = ROOT / "solutions" / "06_recurrent_networks"


def test_q7_heldout_text_is_not_the_corpus_test_part_and_memorising_it_earns_nothing(tmp_path):
    from grading_support import grade_variants, honest_answers

    from coursekit.data import CHAR_VOCABULARY, encode_chars, load_text_corpus

    release = (ROOT / "exercises" / "06_recurrent_networks_exercises.ipynb").read_text()
    assert "corpus.test" not in release and "corpus = " not in release  # the namespace holds train_codes only
    spec = importlib.util.spec_from_file_location("tests06", EXERCISE / "tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    namespace = {"np": np, "encode_chars": encode_chars, "CHAR_VOCABULARY": CHAR_VOCABULARY,
                 "load_text_corpus": load_text_corpus, "train_codes": None}
    exec(MEMORISER, namespace)
    cheat = namespace["model"]
    test = encode_chars(load_text_corpus("sklearn", n_chars=500_000).test, CHAR_VOCABULARY)
    X_test, y_test = module.windows(test, np.arange(8, len(test), 25))
    assert np.mean(cheat.predict(X_test) == y_test) > 0.9  # it was a cheat on the old held-out text
    assert np.mean(cheat.predict(module.X_heldout) == module.y_heldout) < 0.33  # below half points now

    answers = honest_answers("06_recurrent_networks")
    (cell,) = [k for k, source in answers.items() if "class NextCharModel" in source]
    grades = grade_variants(tmp_path, "06_recurrent_networks", {"reference": {}, "memoriser": {cell: MEMORISER}})
    assert grades["reference"]["q7"] == 4.0
    # the hidden test (95 % of q7) earns nothing; at most the public test's 5 % remains, whose
    # validation windows and labels are public anyway (the memoriser passes it: docstrings repeat)
    assert grades["memoriser"]["q7"] <= 0.05 * 4.0 + 1e-9
    assert {q: p for q, p in grades["memoriser"].items() if q != "q7"} == \
        {q: p for q, p in grades["reference"].items() if q != "q7"}
