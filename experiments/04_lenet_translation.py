"""Chapter 04: LeNet-5 over five seeds, and CNN against MLP on shifted digits.

Trains, for each seed, four PyTorch models on scikit-learn's digits upsampled to 28x28
(``coursekit.data.load_digits(test_size=0.25, seed=0, image_size=28)``, 1347 training and
450 test images):

- ``LeNet-5 + shifts``: LeNet-5 (conv 5x5 6 pad 2 - ReLU - pool - conv 5x5 16 - ReLU - pool -
  120 - 84 - 10) with random shifts of up to 3 pixels as augmentation (the chapter's model);
- ``LeNet-5``: the same network trained on the unshifted images;
- ``MLP 784-128-10``: chapter 02's sizes (one hidden layer of 128 ReLU units) on the
  flattened images;
- ``MLP + shifts``: the MLP with the same augmentation.

All use Adam (lr 3e-3), a cosine schedule, batch 32, 15 epochs. Each is then tested on the
450 test digits shifted by 0, 1, ..., 6 pixels (every image in one of the four directions,
drawn once with a fixed seed). Writes ``coursekit/assets/04_lenet_translation.json``.

    .venv/bin/python experiments/04_lenet_translation.py  # ~70 s CPU (1 thread; 5 seeds x 4 models)
    .venv/bin/python experiments/04_lenet_translation.py --quick --out /tmp/x
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from coursekit.data import load_digits, random_shift, shift_images

sys.path.insert(0, str(Path(__file__).resolve().parent))  # experiments/_common.py
from _common import Experiment  # noqa: E402

IMAGE_SIZE = 28
SHIFTS = (0, 1, 2, 3, 4, 5, 6)
MODELS = ("LeNet-5 + shifts", "LeNet-5", "MLP 784-128-10", "MLP + shifts")
TRAIN_SHIFT = 3


def lenet5(seed: int = 0) -> nn.Sequential:
    """LeNet-5 for (N, 1, 28, 28) digits, ReLU and max pooling for tanh and subsampling."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),   # C1 6@28x28, S2 6@14x14
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),             # C3 16@10x10, S4 16@5x5
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),                       # C5 120
        nn.Linear(120, 84), nn.ReLU(),                               # F6 84
        nn.Linear(84, 10))                                           # output 10


def mlp(seed: int = 0) -> nn.Sequential:
    """Chapter 02's sizes (one hidden layer of 128 ReLU units) on flattened 28x28 images."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(IMAGE_SIZE * IMAGE_SIZE, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def train(model, X, y, epochs=15, max_shift=0, seed=0, lr=3e-3, batch_size=32):
    """Adam + cosine schedule, a random shift of up to ``max_shift`` pixels per image."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    rng = np.random.default_rng(seed)
    targets = torch.as_tensor(y)
    for _ in range(epochs):
        model.train()
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            xb = random_shift(X[idx], max_shift, rng) if max_shift else X[idx]
            loss = nn.functional.cross_entropy(model(torch.as_tensor(xb)), targets[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
    return model.eval()


def shifted_test_sets(X, shifts=SHIFTS, seed=0):
    """{shift: X shifted by that many pixels, each image up, down, left or right}."""
    direction = np.random.default_rng(seed).integers(0, 4, size=len(X))
    dy = np.select([direction == 0, direction == 1], [-1, 1], 0)
    dx = np.select([direction == 2, direction == 3], [-1, 1], 0)
    return {s: shift_images(X, dy * s, dx * s) for s in shifts}


def accuracy(model, X, y) -> float:
    with torch.no_grad():
        return float((model(torch.as_tensor(X)).argmax(1).numpy() == y).mean())


def run(seeds, epochs, models, shifts=SHIFTS, log=print):
    digits = load_digits(test_size=0.25, seed=0, image_size=IMAGE_SIZE)
    tests = shifted_test_sets(digits.X_test, shifts)
    results = {name: {"accuracy": []} for name in models}
    for seed in seeds:
        for name in models:
            start = time.process_time()
            net = (lenet5 if name.startswith("LeNet") else mlp)(seed)
            train(net, digits.X_train, digits.y_train, epochs=epochs,
                  max_shift=TRAIN_SHIFT if name.endswith("shifts") else 0, seed=seed)
            row = [accuracy(net, tests[s], digits.y_test) for s in shifts]
            results[name]["accuracy"].append(row)
            log(f"seed {seed} {name:>16}: " + " ".join(f"{a:.3f}" for a in row)
                + f"  ({time.process_time() - start:.1f} s CPU)")
    for entry in results.values():
        table = np.array(entry["accuracy"])
        entry["mean"] = table.mean(axis=0).round(6).tolist()
        entry["std"] = table.std(axis=0).round(6).tolist()
    return {"shifts": list(shifts), "epochs": epochs, "train_shift": TRAIN_SHIFT,
            "image_size": IMAGE_SIZE, "models": results}


def main(argv=None):
    exp = Experiment(__file__, argv, doc=__doc__, quick_help="1 seed, 3 epochs, 2 models (< 30 s)")
    if exp.quick:
        seeds, epochs, models = [0], 3, ("LeNet-5 + shifts", "MLP 784-128-10")
    else:
        seeds, epochs, models = [0, 1, 2, 3, 4], 15, MODELS
    results = run(seeds, epochs, models, log=exp.say)
    exp.save(results, seeds=seeds)
    return results


if __name__ == "__main__":
    sys.exit(main() and 0)
