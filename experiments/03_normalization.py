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

import argparse

import torch
from torch import nn

from coursekit.assets import save_results
from coursekit.data import load_digits
from coursekit.train import accuracy, fit
from coursekit.utils import seed_everything, use_single_thread

FULL = dict(epochs=15, seeds=[0, 1, 2])
QUICK = dict(epochs=3, seeds=[0])
LR, BATCH_SIZE, SIZES = 1e-3, 64, [64] + [64] * 9 + [10]
NORMS = {"no normalization": None, "batch norm": nn.BatchNorm1d, "layer norm": nn.LayerNorm}


def make_mlp(sizes, norm=None, seed=0):
    """The MLP of notebook 03b (``make_mlp``): Linear [+ norm] + ReLU layers, weights drawn from ``seed``."""
    torch.manual_seed(seed)
    layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
        layers.append(nn.Linear(n_in, n_out))
        if norm is not None:
            layers.append(norm(n_out))
        layers.append(nn.ReLU())
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


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
            print(line, flush=True)
            log.append(line)
        results[name] = runs
    results = {"norms": results, "config": {**config, "lr": LR, "batch_size": BATCH_SIZE,
                                            "sizes": SIZES, "threads": 1}}
    command = "python experiments/03_normalization.py" + (" --quick" if args.quick else "")
    path = save_results("03_normalization", results, script="experiments/03_normalization.py",
                        command=command, seeds=config["seeds"], log=log, folder=args.out)
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
