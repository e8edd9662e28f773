"""Chapter 03b: grid search, random search and successive halving under the same budget of 81 epochs.

An MLP 64-width-10 on digits (Adam, batch size 64) with two hyperparameters, the learning
rate and the hidden width, scored by the accuracy on 300 validation images split off the
training set. Grid search: 3 x 3 runs of 9 epochs. Random search: 9 log-uniform
configurations of 9 epochs, seeds 0-2 (the seed draws the configurations). Successive
halving (eta = 3): 27 random configurations for 1 epoch, the best 9 for 3 more, the best 3
for 9 more, seeds 0-2. The code is notebook 03b's (``Trial``, ``grid_search``,
``random_search``, ``successive_halving``). Records every trial's learning rate, width,
epochs and validation accuracy, each rung, and the test accuracy of each halving winner.
Writes ``coursekit/assets/03_search.json`` (notebook 03b loads it):

    .venv/bin/python experiments/03_search.py
    .venv/bin/python experiments/03_search.py --quick --out /tmp/x     # <= 30 s
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

FULL = dict(seeds=[0, 1, 2], grid=True, n=9, epochs=9, halving_n=27, budget_per_rung=27)
QUICK = dict(seeds=[0], grid=False, n=3, epochs=3, halving_n=9, budget_per_rung=9)


def main(argv=None):
    exp = Experiment(__file__, argv, doc=__doc__, seed=0)  # one thread, seed_everything(0)
    config = QUICK if exp.quick else FULL
    digits = load_digits(test_size=0.25, seed=0)
    cross_entropy = nn.CrossEntropyLoss()
    X_fit, X_val = digits.X_train[:-300], digits.X_train[-300:]
    y_fit, y_val = digits.y_train[:-300], digits.y_train[-300:]

    def test_accuracy(model, X=None, y=None):
        X = digits.X_test if X is None else X
        y = digits.y_test if y is None else y
        return evaluate(model, cross_entropy, (X, y), {"accuracy": accuracy})["accuracy"]

    class Trial:
        # One configuration: a model and its optimizer, trained in installments.
        def __init__(self, lr, width, seed=0):
            self.lr, self.width, self.epochs = lr, width, 0
            self.model = make_mlp([64, width, 10], seed=seed)
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)

        def train(self, epochs):
            fit(self.model, cross_entropy, self.optimizer, (X_fit, y_fit), epochs=epochs,
                batch_size=64, progress=False, seed=self.epochs)
            self.epochs += epochs
            self.score = test_accuracy(self.model, X_val, y_val)
            return self.score

        def record(self):
            return {"lr": float(self.lr), "width": int(self.width), "epochs": int(self.epochs),
                    "score": float(self.score)}

    def grid_search(epochs=9):
        trials = [Trial(lr, width) for lr in (1e-4, 1e-3, 1e-2) for width in (16, 64, 256)]
        for trial in trials:
            trial.train(epochs)
        return trials

    def sample_configs(n, seed):
        sampler = np.random.default_rng(seed)
        lrs = 10 ** sampler.uniform(-4, -1, n)
        widths = np.round(2 ** sampler.uniform(4, 8, n)).astype(int)
        return list(zip(lrs, widths))

    def random_search(seed, n=9, epochs=9):
        trials = [Trial(lr, width) for lr, width in sample_configs(n, seed)]
        for trial in trials:
            trial.train(epochs)
        return trials

    def successive_halving(seed, n=27, eta=3, n_rungs=3, budget_per_rung=27):
        trials = [Trial(lr, width) for lr, width in sample_configs(n, seed)]
        alive, rungs = trials, []
        for rung in range(n_rungs):
            for trial in alive:
                trial.train(budget_per_rung // len(alive))
            rungs.append([(t.lr, t.width, t.epochs, t.score) for t in alive])
            alive = sorted(alive, key=lambda t: -t.score)
            if rung < n_rungs - 1:
                alive = alive[:len(alive) // eta]
        return trials, rungs, alive[0]

    results = {"grid": [], "random": [], "halving": []}
    if config["grid"]:
        results["grid"] = [t.record() for t in grid_search(config["epochs"])]
        exp.say(f"grid: best {max(t['score'] for t in results['grid']):.3f}", echo=False)
    for seed in config["seeds"]:
        trials = random_search(seed, n=config["n"], epochs=config["epochs"])
        results["random"].append([t.record() for t in trials])
        trials, rungs, best = successive_halving(seed, n=config["halving_n"],
                                                 budget_per_rung=config["budget_per_rung"])
        results["halving"].append({
            "trials": [t.record() for t in trials],
            "rungs": [[[float(lr), int(w), int(ep), float(acc)] for lr, w, ep, acc in rung] for rung in rungs],
            "best": trials.index(best), "best_test_accuracy": float(test_accuracy(best.model))})
        exp.say(f"seed {seed}: random best {max(t['score'] for t in results['random'][-1]):.3f}, "
                f"halving best {best.score:.3f}")
    results["config"] = {**config, "threads": 1}
    exp.save(results, seeds=config["seeds"])
    return results


if __name__ == "__main__":
    main()
