"""Chapter 05a: the degradation problem — a deep plain CNN against a shallow one and its
residual twin.

Trains ``plain_net(n=1)`` (8 weighted layers), ``plain_net(n=5)`` (32 layers) and
``residual_net(n=5)`` (the same 32 layers with identity shortcuts) on the same shapes
images with SGD (momentum 0.9, weight decay 1e-4, all nets with BatchNorm, as in He et
al. 2016), for several seeds, and records the training loss per epoch and the gradient
norm of every weighted layer (at initialization, mean over the first batches, and after
training). Writes ``coursekit/assets/05_degradation.json``:

    .venv/bin/python experiments/05_degradation.py
    .venv/bin/python experiments/05_degradation.py --quick --out /tmp/x     # <= 30 s
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from coursekit.data import make_shapes
from coursekit.models import plain_net, residual_net, weighted_layers
from coursekit.train import fit

sys.path.insert(0, str(Path(__file__).resolve().parent))  # experiments/_common.py
from _common import Experiment  # noqa: E402

FULL = dict(n_train=1000, epochs=15, seeds=[0, 1, 2], deep_n=5, shallow_n=1)
QUICK = dict(n_train=500, epochs=6, seeds=[0], deep_n=2, shallow_n=1)
LR, MOMENTUM, WEIGHT_DECAY, BATCH_SIZE, DATA_SEED = 0.05, 0.9, 1e-4, 64, 1000


def nets(config):
    """{name: builder(seed)} of the three networks."""
    deep, shallow = config["deep_n"], config["shallow_n"]
    return {f"plain, {6 * shallow + 2} layers": lambda seed: plain_net(8, n=shallow, seed=seed),
            f"plain, {6 * deep + 2} layers": lambda seed: plain_net(8, n=deep, seed=seed),
            f"residual, {6 * deep + 2} layers": lambda seed: residual_net(8, n=deep, seed=seed)}


def layer_gradient_norms(model, X, y, n_batches=4, batch_size=BATCH_SIZE) -> list[float]:
    """‖∂L/∂W‖ of every weighted layer (input to output), mean over ``n_batches`` batches,
    train mode."""
    layers = weighted_layers(model)
    totals = np.zeros(len(layers))
    model.train()
    for b in range(n_batches):
        model.zero_grad()
        xb, yb = X[b * batch_size:(b + 1) * batch_size], y[b * batch_size:(b + 1) * batch_size]
        nn.functional.cross_entropy(model(xb), yb).backward()
        totals += [module.weight.grad.norm().item() for _, module in layers]
    model.zero_grad()
    return [round(float(v), 6) for v in totals / n_batches]


def main(argv=None):
    exp = Experiment(__file__, argv, doc=__doc__)
    config = QUICK if exp.quick else FULL
    data = make_shapes(config["n_train"], seed=DATA_SEED)
    X, y = torch.as_tensor(data.images), torch.as_tensor(data.labels)
    results = {}
    for name, builder in nets(config).items():
        entry = {"train_loss": [], "grad_norm_init": [], "grad_norm_final": [], "seconds": []}
        for seed in config["seeds"]:
            model = builder(seed)
            entry["grad_norm_init"].append(layer_gradient_norms(model, X, y))
            optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM,
                                        weight_decay=WEIGHT_DECAY)
            start = time.process_time()
            history = fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), epochs=config["epochs"],
                          batch_size=BATCH_SIZE, progress=False, seed=seed)
            entry["seconds"].append(round(time.process_time() - start, 1))
            entry["train_loss"].append([round(v, 4) for v in history["loss"]])
            entry["grad_norm_final"].append(layer_gradient_norms(model, X, y))
            line = (f"{name}, seed {seed}: training loss {history['loss'][0]:.3f} -> "
                    f"{history['loss'][-1]:.3f} "
                    f"({entry['seconds'][-1]} s CPU)")
            exp.say(line)
        entry["layers"] = [layer_name for layer_name, _ in weighted_layers(builder(0))]
        results[name] = entry
    results = {"nets": results,
               "config": {**config, "lr": LR, "momentum": MOMENTUM, "weight_decay": WEIGHT_DECAY,
                                           "batch_size": BATCH_SIZE, "data_seed": DATA_SEED,
                                           "threads": 1}}
    exp.save(results, seeds=config["seeds"])
    return results


if __name__ == "__main__":
    main()
