"""Chapter 03b: fine-tuning learning curve on digits 5-9 from a network pre-trained on digits 0-4.

Pre-trains a 64-128-128-5 MLP on digits 0-4 (Adam 1e-3, 30 epochs), then trains a network
for digits 5-9 on 1, 3, 10, 30 images per class or the whole target training set, five
seeds each (the seed draws the subset, the new weights and the batch order), with four
strategies: from scratch, linear probe (frozen pre-trained body), last layers fine-tuned
(first layer frozen) and all layers fine-tuned (body at a tenth of the head's rate); plus
the control, a linear probe on the *untrained* body. About 150 Adam steps of batch 32 per
run whatever the set size. Records the test accuracy on 5-9 of every run. Writes
``coursekit/assets/03_transfer.json`` (notebook 03b loads it):

    .venv/bin/python experiments/03_transfer.py
    .venv/bin/python experiments/03_transfer.py --quick --out /tmp/x     # <= 30 s
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
from coursekit.train import accuracy, evaluate, fit  # noqa: E402

FULL = dict(images_per_class=[1, 3, 10, 30, None], seeds=[0, 1, 2, 3, 4], pretrain_epochs=30)
QUICK = dict(images_per_class=[3, None], seeds=[0], pretrain_epochs=10)
# Learning rates from a small sweep per strategy: a linear head on frozen features takes
# larger steps than a whole network trained from scratch.
STRATEGY_LR = {"from scratch": 3e-3, "linear probe": 3e-2,
               "last layers fine-tuned": 1e-2, "all layers fine-tuned": 1e-2,
               "linear probe, random body": 3e-2}
SIZES, STEPS, BATCH_SIZE = [64, 128, 128, 5], 150, 32


def target_subset(y_train, images_per_class, seed):
    """Indices of a random target training set with this many images of each class (None: all)."""
    if images_per_class is None:
        return np.arange(len(y_train))
    draw = np.random.default_rng(seed)
    return np.concatenate([draw.choice(np.flatnonzero(y_train == c), images_per_class, replace=False)
                           for c in range(5)])


def steps_to_epochs(n_images, steps=STEPS, batch_size=BATCH_SIZE):
    """Epochs that give about ``steps`` gradient steps, so small and large sets train equally long."""
    return int(np.ceil(steps / np.ceil(n_images / batch_size)))


def make_target_model(strategy, seed, pretrained):
    """A network for digits 5-9 and its optimizer, for one strategy."""
    lr = STRATEGY_LR[strategy]
    model = make_mlp(SIZES, seed=100 + seed)  # new head (and new body for "from scratch")
    if strategy == "from scratch":
        return model, torch.optim.Adam(model.parameters(), lr=lr)
    body = model[:-1]
    if strategy != "linear probe, random body":
        body.load_state_dict(pretrained[:-1].state_dict())
    frozen = {"linear probe": body, "linear probe, random body": body,
              "last layers fine-tuned": model[0]}.get(strategy)
    if frozen is not None:
        for parameter in frozen.parameters():
            parameter.requires_grad = False
        return model, torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    # all layers: the pre-trained body moves 10 times slower than the new head
    return model, torch.optim.Adam([{"params": body.parameters(), "lr": lr / 10},
                                    {"params": model[-1].parameters(), "lr": lr}])


def main(argv=None):
    exp = Experiment(__file__, argv, doc=__doc__, seed=0)  # one thread, seed_everything(0)
    config = QUICK if exp.quick else FULL
    cross_entropy = nn.CrossEntropyLoss()
    source = load_digits(test_size=0.25, seed=0, classes=range(5))
    target = load_digits(test_size=0.25, seed=0, classes=range(5, 10))
    y_train, y_test = target.y_train - 5, target.y_test - 5

    def test_accuracy(model, X, y):
        return evaluate(model, cross_entropy, (X, y), {"accuracy": accuracy})["accuracy"]

    pretrained = make_mlp(SIZES, seed=0)
    fit(pretrained, cross_entropy, torch.optim.Adam(pretrained.parameters(), lr=1e-3),
        (source.X_train, source.y_train), epochs=config["pretrain_epochs"], progress=False)
    source_accuracy = float(test_accuracy(pretrained, source.X_test, source.y_test))
    exp.say(f"pre-trained on 0-4: test accuracy on 0-4 {source_accuracy:.3f}")
    runs = {strategy: {} for strategy in STRATEGY_LR}  # strategy -> size -> accuracies per seed
    for images_per_class in config["images_per_class"]:
        for seed in config["seeds"]:
            index = target_subset(y_train, images_per_class, seed)
            for strategy in STRATEGY_LR:
                model, optimizer = make_target_model(strategy, seed, pretrained)
                fit(model, cross_entropy, optimizer, (target.X_train[index], y_train[index]),
                    epochs=steps_to_epochs(len(index)), batch_size=BATCH_SIZE, progress=False, seed=seed)
                runs[strategy].setdefault(str(images_per_class), []).append(
                    float(test_accuracy(model, target.X_test, y_test)))
        line = f"{images_per_class} per class: " + ", ".join(
            f"{s} {np.mean(runs[s][str(images_per_class)]):.3f}" for s in STRATEGY_LR)
        exp.say(line)
    results = {"accuracy": runs, "source_accuracy": source_accuracy,
               "all_per_class": len(y_train) / 5,
               "config": {**config, "strategy_lr": STRATEGY_LR, "sizes": SIZES, "steps": STEPS,
                          "batch_size": BATCH_SIZE, "threads": 1}}
    exp.save(results, seeds=config["seeds"])
    return results


if __name__ == "__main__":
    main()
