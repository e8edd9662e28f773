"""Chapter 03b: coupled (Adam + L2) against decoupled (AdamW) weight decay on the over-fitting MLP.

The over-fitting setup of notebook 03b section 2: 200 training digits (the first 20 of
each class), a 64-256-256-10 ReLU MLP (weights from seed 0), Adam at 1e-3, batch size 64,
100 epochs, validation on the last 300 training digits. For each strength lambda in
1e-3, 1e-2, 1e-1: ``torch.optim.Adam(weight_decay=lambda)`` and
``torch.optim.AdamW(weight_decay=100 lambda)``. Records the validation cross-entropy of
every epoch. Writes ``coursekit/assets/03_weight_decay.json`` (notebook 03b loads it):

    .venv/bin/python experiments/03_weight_decay.py
    .venv/bin/python experiments/03_weight_decay.py --quick --out /tmp/x     # <= 30 s
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

FULL = dict(epochs=100, strengths=[1e-3, 1e-2, 1e-1])
QUICK = dict(epochs=15, strengths=[1e-3])
ADAMW_FACTOR, LR, SIZES = 100, 1e-3, [64, 256, 256, 10]
METHODS = {"Adam + L2 (weight_decay in Adam)": (torch.optim.Adam, 1),
           "AdamW (decoupled)": (torch.optim.AdamW, ADAMW_FACTOR)}


def cross_entropy_metric(outputs, targets):
    return nn.functional.cross_entropy(outputs, targets).item()


def main(argv=None):
    exp = Experiment(__file__, argv, doc=__doc__, seed=0)  # one thread, seed_everything(0)
    config = QUICK if exp.quick else FULL
    digits = load_digits(test_size=0.25, seed=0)
    X_val, y_val = digits.X_train[-300:], digits.y_train[-300:]
    small_index = np.concatenate([np.flatnonzero(digits.y_train[:-300] == k)[:20] for k in range(10)])
    X_small, y_small = digits.X_train[small_index], digits.y_train[small_index]
    results = {name: [] for name in METHODS}
    for lam in config["strengths"]:
        for name, (optimizer_class, factor) in METHODS.items():
            model = make_mlp(SIZES)
            history = fit(model, nn.CrossEntropyLoss(), optimizer_class(model.parameters(), lr=LR,
                                                                       weight_decay=lam * factor),
                          (X_small, y_small), val_data=(X_val, y_val), epochs=config["epochs"], batch_size=64,
                          metrics={"accuracy": accuracy, "ce": cross_entropy_metric}, progress=False)
            results[name].append({"lambda": lam, "weight_decay": lam * factor,
                                  "val_ce": [float(v) for v in history["val_ce"]]})
            line = f"{name}, lambda {lam:g}: final validation loss {history['val_ce'][-1]:.3f}"
            exp.say(line)
    results = {"methods": results, "config": {**config, "lr": LR, "adamw_factor": ADAMW_FACTOR, "sizes": SIZES,
                                              "n_train": 200, "n_val": 300, "threads": 1}}
    exp.save(results, seeds=[0])
    return results


if __name__ == "__main__":
    main()
