"""Chapter 03a: does a decaying learning-rate schedule help? Four schedules, three seeds.

The MLP 64-128-128-10 (ReLU) on the digits split, plain SGD with batch size 16 for 20
epochs: a large constant rate (0.5), a small one (0.05), and step and cosine decays that
start at 0.5, each on three seeds (the seed draws the weights and the batch order). The
``coursekit.nn.schedules`` objects drive a ``torch.optim.lr_scheduler.LambdaLR`` stepped
once per epoch. Records the training and test loss and the test accuracy of every epoch.
Writes ``coursekit/assets/03_schedules.json`` (notebook 03a loads it):

    .venv/bin/python experiments/03_schedules.py
    .venv/bin/python experiments/03_schedules.py --quick --out /tmp/x     # <= 30 s
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
from coursekit.nn import schedules as np_schedules  # noqa: E402
from coursekit.train import accuracy, fit  # noqa: E402

FULL = dict(epochs=20, seeds=[0, 1, 2])
QUICK = dict(epochs=4, seeds=[0])
BASE_LR, BATCH_SIZE, SIZES = 0.5, 16, [64, 128, 128, 10]


def schedules(epochs):
    """{name: epoch -> learning rate} of the four schedules."""
    return {"constant 0.5": lambda epoch: BASE_LR,
            "constant 0.05": lambda epoch: 0.05,
            "step (every 7, x0.3)": np_schedules.StepDecay(BASE_LR, step_size=7, gamma=0.3),
            "cosine": np_schedules.CosineAnnealing(BASE_LR, total_steps=epochs)}


def main(argv=None):
    exp = Experiment(__file__, argv, doc=__doc__, seed=0)  # one thread, seed_everything(0)
    config = QUICK if exp.quick else FULL
    digits = load_digits(test_size=0.25, seed=0)
    results = {}
    for name, schedule in schedules(config["epochs"]).items():
        runs = []
        for seed in config["seeds"]:
            model = make_mlp(SIZES, seed=seed)
            optimizer = torch.optim.SGD(model.parameters(), lr=BASE_LR)
            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e, s=schedule: s(e) / BASE_LR)
            history = fit(model, nn.CrossEntropyLoss(), optimizer, (digits.X_train, digits.y_train),
                          val_data=(digits.X_test, digits.y_test), epochs=config["epochs"],
                          batch_size=BATCH_SIZE, metrics={"accuracy": accuracy}, scheduler=scheduler,
                          progress=False, seed=seed)
            runs.append({"seed": seed, "lr": [float(schedule(e)) for e in range(config["epochs"])],
                         "loss": [float(v) for v in history["loss"]],
                         "val_loss": [float(v) for v in history["val_loss"]],
                         "val_accuracy": [float(v) for v in history["val_accuracy"]]})
            line = (f"{name}, seed {seed}: test loss {runs[-1]['val_loss'][-1]:.3f}, "
                    f"test accuracy {runs[-1]['val_accuracy'][-1]:.3f}")
            exp.say(line)
        results[name] = runs
    results = {"schedules": results, "config": {**config, "base_lr": BASE_LR, "batch_size": BATCH_SIZE,
                                                "sizes": SIZES, "threads": 1}}
    exp.save(results, seeds=config["seeds"])
    return results


if __name__ == "__main__":
    main()
