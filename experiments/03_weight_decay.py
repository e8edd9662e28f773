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

import argparse

import numpy as np
import torch
from torch import nn

from coursekit.assets import save_results
from coursekit.data import load_digits
from coursekit.train import accuracy, fit
from coursekit.utils import seed_everything, use_single_thread

FULL = dict(epochs=100, strengths=[1e-3, 1e-2, 1e-1])
QUICK = dict(epochs=15, strengths=[1e-3])
ADAMW_FACTOR, LR, SIZES = 100, 1e-3, [64, 256, 256, 10]
METHODS = {"Adam + L2 (weight_decay in Adam)": (torch.optim.Adam, 1),
           "AdamW (decoupled)": (torch.optim.AdamW, ADAMW_FACTOR)}


def make_mlp(sizes, seed=0):
    """The MLP of notebook 03b (``make_mlp``): Linear + ReLU layers, weights drawn from ``seed``."""
    torch.manual_seed(seed)
    layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


def cross_entropy_metric(outputs, targets):
    return nn.functional.cross_entropy(outputs, targets).item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="reduced budget (<= 30 s)")
    parser.add_argument("--out", default=None, help="folder for the results (default coursekit/assets)")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    use_single_thread()
    seed_everything(0)
    digits = load_digits(test_size=0.25, seed=0)
    X_val, y_val = digits.X_train[-300:], digits.y_train[-300:]
    small_index = np.concatenate([np.flatnonzero(digits.y_train[:-300] == k)[:20] for k in range(10)])
    X_small, y_small = digits.X_train[small_index], digits.y_train[small_index]
    results, log = {name: [] for name in METHODS}, []
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
            print(line, flush=True)
            log.append(line)
    results = {"methods": results, "config": {**config, "lr": LR, "adamw_factor": ADAMW_FACTOR, "sizes": SIZES,
                                              "n_train": 200, "n_val": 300, "threads": 1}}
    command = "python experiments/03_weight_decay.py" + (" --quick" if args.quick else "")
    path = save_results("03_weight_decay", results, script="experiments/03_weight_decay.py", command=command,
                        seeds=[0], log=log, folder=args.out)
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
