"""Chapter 06: a character-level LSTM language model on scikit-learn's docstrings.

Corpus: ``coursekit.data.load_text_corpus("sklearn", n_chars=500_000)`` (first 80 % train,
next 10 % validation, last 10 % test, by position), characters coded with ``CHAR_VOCABULARY``
(96). Baselines on the same test characters: uniform (perplexity 96), unigram and bigram
counts with add-k smoothing (k chosen on the validation part). Model: embedding 32 ->
LSTM 128 -> linear 96, trained with Adam on random windows of 100 characters (truncated
BPTT), gradient norm clipped at 1; perplexity = exp(mean negative log-likelihood per
character) on the held-out test part, read in one pass with the state carried along.
Writes ``coursekit/assets/06_char_lm.json`` (perplexities of every seed, validation
curves, samples) and ``coursekit/assets/06_char_lm.npz`` (the seed-0 weights, float32).

    .venv/bin/python experiments/06_char_lm.py                       # 3 seeds (~3 min CPU)
    .venv/bin/python experiments/06_char_lm.py --quick --out /tmp/x  # 1 seed, 120 steps
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from coursekit.assets import save_results, save_weights
from coursekit.data import CHAR_VOCABULARY, decode_chars, encode_chars, load_text_corpus
from coursekit.utils import seed_everything, use_single_thread

N_CHARS = 500_000
V = len(CHAR_VOCABULARY)


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> logits of the next character (the notebook builds the same)."""

    def __init__(self, vocab_size: int = V, embed: int = 32, hidden: int = 128):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, codes, state=None):
        out, state = self.lstm(self.embed(codes), state)
        return self.head(out), state


def count_perplexity(train_codes, test_codes, order: int, k: float) -> float:
    """Perplexity of add-k smoothed unigram (order 1) or bigram (order 2) counts on
    ``test_codes[1:]`` (every character after the first, as the LSTM is scored)."""
    if order == 1:
        counts = np.bincount(train_codes, minlength=V) + k
        log_p = np.log(counts / counts.sum())
        return float(np.exp(-log_p[test_codes[1:]].mean()))
    counts = np.zeros((V, V)) + k
    np.add.at(counts, (train_codes[:-1], train_codes[1:]), 1)
    log_p = np.log(counts / counts.sum(axis=1, keepdims=True))
    return float(np.exp(-log_p[test_codes[:-1], test_codes[1:]].mean()))


def baselines(train, validation, test):
    """Uniform, unigram and bigram perplexities on ``test``; k picked on ``validation``."""
    result = {"uniform": float(V)}
    for name, order in (("unigram", 1), ("bigram", 2)):
        ks = (0.01, 0.1, 0.5, 1.0)
        k = min(ks, key=lambda k: count_perplexity(train, validation, order, k))
        result[name] = count_perplexity(train, test, order, k)
        result[f"{name}_k"] = k
    return result


@torch.no_grad()
def perplexity(model, codes, chunk: int = 500) -> float:
    """exp(mean NLL) of ``codes[1:]`` given the preceding characters, state carried."""
    model.eval()
    codes = torch.from_numpy(codes)
    state, total, count = None, 0.0, 0
    for start in range(0, len(codes) - 1, chunk):
        x = codes[start:start + chunk][None]
        y = codes[start + 1:start + chunk + 1][None]
        logits, state = model(x[:, :y.shape[1]], state)
        total += F.cross_entropy(logits[0], y[0], reduction="sum").item()
        count += y.shape[1]
    model.train()
    return math.exp(total / count)


@torch.no_grad()
def sample(model, prompt: str, n: int, temperature: float, seed: int) -> str:
    """``n`` characters after ``prompt``, drawn from softmax(logits / temperature)."""
    generator = torch.Generator().manual_seed(seed)
    logits, state = model(torch.from_numpy(encode_chars(prompt, CHAR_VOCABULARY))[None])
    out = []
    for _ in range(n):
        p = torch.softmax(logits[0, -1].double() / temperature, dim=0)
        code = torch.multinomial(p, 1, generator=generator)
        out.append(int(code))
        logits, state = model(code[None], state)
    return decode_chars(out, CHAR_VOCABULARY)


def train(train_codes, validation_codes, seed: int, steps: int, batch: int = 32,
          window: int = 100, lr: float = 3e-3, eval_every: int = 100):
    """Train one model; returns (model, curve of (step, validation perplexity))."""
    seed_everything(seed)
    model = CharLSTM()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, eta_min=lr / 10)
    rng = np.random.default_rng(seed)
    data = torch.from_numpy(train_codes)
    curve = []
    for step in range(1, steps + 1):
        starts = rng.integers(0, len(train_codes) - window - 1, size=batch)
        idx = torch.from_numpy(starts)[:, None] + torch.arange(window + 1)
        chunk = data[idx]
        logits, _ = model(chunk[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, V), chunk[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % eval_every == 0 or step == steps:
            curve.append((step, perplexity(model, validation_codes[:10_000])))
    return model, curve


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, 120 steps (< 30 s)")
    parser.add_argument("--out", default=None, help="folder for the results (default: coursekit/assets)")
    args = parser.parse_args(argv)
    use_single_thread()
    start = time.process_time()
    corpus = load_text_corpus("sklearn", n_chars=N_CHARS)
    train_codes, validation_codes, test_codes = (encode_chars(part, CHAR_VOCABULARY) for part in
                                                 (corpus.train, corpus.validation, corpus.test))
    base = baselines(train_codes, validation_codes, test_codes)
    log = [f"corpus {corpus.source}, {len(corpus.text)} characters, sha256 {corpus.sha256}",
           "baselines: " + ", ".join(f"{k} {v:.3f}" for k, v in base.items())]
    print(*log, sep="\n", flush=True)
    seeds = [0] if args.quick else [0, 1, 2]
    steps = 120 if args.quick else 600
    runs = {"test_perplexity": [], "validation_perplexity": [], "curves": []}
    weights, samples = None, {}
    for seed in seeds:
        model, curve = train(train_codes, validation_codes, seed, steps,
                             eval_every=40 if args.quick else 100)
        runs["test_perplexity"].append(perplexity(model, test_codes))
        runs["validation_perplexity"].append(perplexity(model, validation_codes))
        runs["curves"].append(curve)
        line = (f"seed {seed}: test perplexity {runs['test_perplexity'][-1]:.3f}, validation "
                f"{runs['validation_perplexity'][-1]:.3f} ({time.process_time() - start:.0f} s CPU)")
        log.append(line)
        print(line, flush=True)
        if seed == seeds[0]:
            weights = {k: v.numpy().astype(np.float32) for k, v in model.state_dict().items()}
            samples = {str(t): sample(model, "Parameters\n----------\n", 240, t, seed=0)
                       for t in (0.5, 1.0, 1.5)}
    mean = float(np.mean(runs["test_perplexity"]))
    results = {"corpus": {"source": corpus.source, "n_chars": len(corpus.text),
                          "sha256": corpus.sha256, "vocabulary_size": V},
               "model": {"embed": 32, "hidden": 128, "steps": steps, "batch": 32, "window": 100,
                         "lr": 3e-3, "schedule": "cosine to lr/10", "clip_norm": 1.0},
               "baselines": base, "lstm": runs, "lstm_test_perplexity_mean": mean,
               "lstm_test_perplexity_std": float(np.std(runs["test_perplexity"])),
               "reduction_vs_bigram": 1 - mean / base["bigram"],
               "samples_prompt": "Parameters\n----------\n", "samples_seed0": samples,
               "cpu_seconds": round(time.process_time() - start, 1)}
    command = "python experiments/06_char_lm.py" + (" --quick" if args.quick else "")
    path = save_results("06_char_lm", results, script="experiments/06_char_lm.py",
                        command=command, seeds=seeds, log=log, folder=args.out)
    save_weights("06_char_lm", weights, folder=args.out)
    print(f"LSTM {mean:.3f} vs bigram {base['bigram']:.3f}: "
          f"{100 * results['reduction_vs_bigram']:.1f} % lower; wrote {path}")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
