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

import argparse

import torch
from torch import nn

from coursekit.assets import save_results
from coursekit.data import load_digits
from coursekit.nn import schedules as np_schedules
from coursekit.train import accuracy, fit
from coursekit.utils import seed_everything, use_single_thread

FULL = dict(epochs=20, seeds=[0, 1, 2])
QUICK = dict(epochs=4, seeds=[0])
BASE_LR, BATCH_SIZE, SIZES = 0.5, 16, [64, 128, 128, 10]


def make_mlp(sizes, seed=0):
    """The MLP of notebook 03a (``make_mlp``): Linear + ReLU layers, weights drawn from ``seed``."""
    torch.manual_seed(seed)
    layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


def schedules(epochs):
    """{name: epoch -> learning rate} of the four schedules."""
    return {"constant 0.5": lambda epoch: BASE_LR,
            "constant 0.05": lambda epoch: 0.05,
            "step (every 7, x0.3)": np_schedules.StepDecay(BASE_LR, step_size=7, gamma=0.3),
            "cosine": np_schedules.CosineAnnealing(BASE_LR, total_steps=epochs)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="reduced budget (<= 30 s)")
    parser.add_argument("--out", default=None, help="folder for the results (default coursekit/assets)")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    use_single_thread()
    seed_everything(0)
    digits = load_digits(test_size=0.25, seed=0)
    results, log = {}, []
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
            print(line, flush=True)
            log.append(line)
        results[name] = runs
    results = {"schedules": results, "config": {**config, "base_lr": BASE_LR, "batch_size": BATCH_SIZE,
                                                "sizes": SIZES, "threads": 1}}
    command = "python experiments/03_schedules.py" + (" --quick" if args.quick else "")
    path = save_results("03_schedules", results, script="experiments/03_schedules.py", command=command,
                        seeds=config["seeds"], log=log, folder=args.out)
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
