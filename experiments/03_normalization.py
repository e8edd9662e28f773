"""Chapter 03b: does normalization help a deep network train? None, batch norm, layer norm, three seeds.

A 10-layer MLP (width 64, ReLU, PyTorch's default initialization) on all training digits,
Adam with learning rate 1e-3, batch size 64, 15 epochs, with no normalization, with batch
norm and with layer norm before every activation, each on three seeds (the seed draws the
weights and the batch order). Records the training loss and test accuracy of every epoch.
Writes ``coursekit/assets/03_normalization.json`` (notebook 03b loads it):

    .venv/bin/python experiments/03_normalization.py
    .venv/bin/python experiments/03_normalization.py --quick --out /tmp/x     # <= 30 s
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))  # experiments/_common.py
from _common import Experiment  # noqa: E402

from coursekit.data import load_digits  # noqa: E402
from coursekit.models.mlp import make_mlp  # noqa: E402
from coursekit.train import accuracy, fit  # noqa: E402

FULL = dict(epochs=15, seeds=[0, 1, 2])
QUICK = dict(epochs=3, seeds=[0])
LR, BATCH_SIZE, SIZES = 1e-3, 64, [64] + [64] * 9 + [10]
NORMS = {"no normalization": None, "batch norm": nn.BatchNorm1d, "layer norm": nn.LayerNorm}


def main(argv=None):
    exp = Experiment(__file__, argv, doc=__doc__, seed=0)  # one thread, seed_everything(0)
    config = QUICK if exp.quick else FULL
    digits = load_digits(test_size=0.25, seed=0)
    results = {}
    for name, norm in NORMS.items():
        runs = []
        for seed in config["seeds"]:
            model = make_mlp(SIZES, norm=norm, seed=seed)
            history = fit(model, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=LR),
                          (digits.X_train, digits.y_train), val_data=(digits.X_test, digits.y_test),
                          epochs=config["epochs"], batch_size=BATCH_SIZE, metrics={"accuracy": accuracy},
                          progress=False, seed=seed)
            runs.append({"seed": seed, "loss": [float(v) for v in history["loss"]],
                         "val_accuracy": [float(v) for v in history["val_accuracy"]]})
            line = f"{name}, seed {seed}: test accuracy {runs[-1]['val_accuracy'][-1]:.3f}"
            exp.say(line)
        results[name] = runs
    results = {"norms": results, "config": {**config, "lr": LR, "batch_size": BATCH_SIZE,
                                            "sizes": SIZES, "threads": 1}}
    exp.save(results, seeds=config["seeds"])
    return results


if __name__ == "__main__":
    main()
