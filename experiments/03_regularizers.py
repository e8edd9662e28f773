"""Chapter 03b: L1/L2 penalties, dropout and label smoothing on the over-fitting MLP, over 5 seeds.

The over-fitting setup of notebook 03b section 2: 200 training digits (the first 20 of
each class), a 64-256-256-10 ReLU MLP, batch size 64, 100 epochs, validation on the last
300 training digits, test on the 450 test digits. Each seed s draws the initial weights
(``make_mlp(seed=s)``, which also fixes the mini-batch order and dropout masks); seed 0 is
the notebook's own run. Three experiments, exactly as in the notebook:

- penalties: SGD (lr 0.05, momentum 0.9) on cross-entropy + L2 (1e-3, 1e-2) or L1 (1e-4)
  on the weight matrices; final validation accuracy and loss, share of first-layer
  weights with |w| < 1e-3;
- dropout: Adam (1e-3), p = 0, 0.2, 0.5; final validation loss and accuracy;
- label smoothing: Adam (1e-3), epsilon = 0, 0.1, 0.2; test accuracy, mean confidence,
  test cross-entropy and expected calibration error (10 equal-width confidence bins).

Writes ``coursekit/assets/03_regularizers.json`` (notebook 03b loads it)::

    .venv/bin/python experiments/03_regularizers.py
    .venv/bin/python experiments/03_regularizers.py --quick --out /tmp/x     # <= 30 s
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))  # experiments/_common.py
from _common import Experiment  # noqa: E402

from coursekit.data import load_digits  # noqa: E402
from coursekit.models.mlp import make_mlp  # noqa: E402
from coursekit.train import accuracy, fit  # noqa: E402

FULL = dict(epochs=100, seeds=[0, 1, 2, 3, 4])
QUICK = dict(epochs=12, seeds=[0])
SIZES = [64, 256, 256, 10]
PENALTIES = {"none": (0.0, 0.0), "L2, lambda = 1e-3": (0.0, 1e-3), "L2, lambda = 1e-2": (0.0, 1e-2),
             "L1, lambda = 1e-4": (1e-4, 0.0)}
DROPOUTS = [0.0, 0.2, 0.5]
SMOOTHINGS = [0.0, 0.1, 0.2]


def cross_entropy_metric(outputs, targets):
    return nn.functional.cross_entropy(outputs, targets).item()


def penalized(model, l1=0.0, l2=0.0):
    """Cross-entropy plus L1/L2 penalties on the weight matrices (not the biases): notebook 03b."""
    weights = [m.weight for m in model if isinstance(m, nn.Linear)]
    cross_entropy = nn.CrossEntropyLoss()

    def loss_fn(outputs, targets):
        loss = cross_entropy(outputs, targets)
        if l2:
            loss = loss + l2 / 2 * sum((w**2).sum() for w in weights)
        if l1:
            loss = loss + l1 * sum(w.abs().sum() for w in weights)
        return loss
    return loss_fn


def expected_calibration_error(confidence, correct, bins=10):
    """Sum over equal-width confidence bins of (share of images) x |accuracy - mean confidence|."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    return float(sum(np.mean(index == b) * abs(correct[index == b].mean() - confidence[index == b].mean())
                     for b in range(bins) if np.any(index == b)))


def summary(values):
    values = np.asarray(values, dtype=float)
    return {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "values": [float(v) for v in values]}


def main(argv=None):
    exp = Experiment(__file__, argv, doc=__doc__, quick_help="1 seed, 12 epochs (< 30 s)", seed=0)
    config = QUICK if exp.quick else FULL
    digits = load_digits(test_size=0.25, seed=0)
    X_val, y_val = digits.X_train[-300:], digits.y_train[-300:]
    small_index = np.concatenate([np.flatnonzero(digits.y_train[:-300] == k)[:20] for k in range(10)])
    X_small, y_small = digits.X_train[small_index], digits.y_train[small_index]
    X_test = torch.tensor(digits.X_test, dtype=torch.float32)

    def train(model, optimizer, loss_fn, val=True):
        return fit(model, loss_fn, optimizer, (X_small, y_small),
                   val_data=(X_val, y_val) if val else None, epochs=config["epochs"], batch_size=64,
                   metrics={"accuracy": accuracy, "ce": cross_entropy_metric} if val else None,
                   progress=False)

    runs = {"penalties": {name: [] for name in PENALTIES}, "dropout": {str(p): [] for p in DROPOUTS},
            "label smoothing": {str(e): [] for e in SMOOTHINGS}}
    for seed in config["seeds"]:
        for name, (l1, l2) in PENALTIES.items():
            model = make_mlp(SIZES, seed=seed)
            history = train(model, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
                            penalized(model, l1, l2))
            first = model[0].weight.detach().numpy().ravel()
            runs["penalties"][name].append({
                "val_accuracy": float(history["val_accuracy"][-1]), "val_ce": float(history["val_ce"][-1]),
                "near_zero": float(np.mean(np.abs(first) < 1e-3))})
        for p in DROPOUTS:
            model = make_mlp(SIZES, dropout=p, seed=seed)
            history = train(model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss())
            runs["dropout"][str(p)].append({"val_accuracy": float(history["val_accuracy"][-1]),
                                            "val_ce": float(history["val_ce"][-1])})
        for eps in SMOOTHINGS:
            model = make_mlp(SIZES, seed=seed)
            train(model, torch.optim.Adam(model.parameters(), lr=1e-3),
                  nn.CrossEntropyLoss(label_smoothing=eps), val=False)
            with torch.no_grad():
                probabilities = torch.softmax(model(X_test), dim=1).numpy()
            confidence = probabilities.max(axis=1)
            correct = probabilities.argmax(axis=1) == digits.y_test
            runs["label smoothing"][str(eps)].append({
                "test_accuracy": float(correct.mean()), "mean_confidence": float(confidence.mean()),
                "test_ce": float(-np.log(probabilities[np.arange(len(correct)), digits.y_test]).mean()),
                "ece": expected_calibration_error(confidence, correct)})
        exp.say(f"seed {seed}: " + "; ".join(
            f"{experiment} {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in seed_runs[-1].items())
            for experiment, table in runs.items() for name, seed_runs in table.items())
            + f" ({exp.cpu_seconds():.0f} s CPU)")
    tables = {experiment: {name: {metric: summary([r[metric] for r in seed_runs]) for metric in seed_runs[0]}
                           for name, seed_runs in table.items()} for experiment, table in runs.items()}
    results = {**tables, "config": {**config, "sizes": SIZES, "n_train": 200, "n_val": 300, "n_test": 450,
                                    "batch_size": 64, "threads": 1, "std": "sample std (ddof=1) over seeds"}}
    exp.save(results, seeds=config["seeds"])
    return results


if __name__ == "__main__":
    main()
