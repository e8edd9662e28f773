"""Chapter 05a: the architecture table (parameters, FLOPs, accuracy over seeds, training time).

Trains each small architecture of ``coursekit.models.ARCHITECTURES`` on the procedural
shapes images (8 classes, 32×32 RGB) with the same recipe — Adam, cosine learning-rate
decay, the same epochs — for several seeds, and writes
``coursekit/assets/05_architectures.json``:

    .venv/bin/python experiments/05_architectures.py                      # full run
    .venv/bin/python experiments/05_architectures.py --quick --out /tmp/x  # <= 30 s

FLOPs are torch's ``FlopCounterMode`` for one 3×32×32 image: a multiply-add is 2 FLOPs;
pooling, activations, normalization and additions are not counted. Training time is the
process CPU time of ``fit`` on one thread (it depends on the machine and its load).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from coursekit.data import make_shapes
from coursekit.models import ARCHITECTURES, build, count_flops, count_parameters
from coursekit.train import evaluate, fit
from coursekit.utils import use_single_thread

sys.path.insert(0, str(Path(__file__).resolve().parent))  # experiments/_common.py
from _common import Experiment  # noqa: E402

FULL = dict(n_train=600, n_test=500, epochs=5, seeds=[0, 1, 2], architectures=list(ARCHITECTURES))
QUICK = dict(n_train=1000, n_test=400, epochs=5, seeds=[0],
             architectures=["VGG"])
LR, BATCH_SIZE, TRAIN_SEED, TEST_SEED = 2e-3, 64, 1000, 2000


def accuracy(outputs, targets):
    return (outputs.argmax(1) == targets).float().mean().item()


def train_one(name, n_classes, data, epochs, seed):
    """Train architecture ``name`` from initial weights ``seed``; returns
    ``(model, history, cpu seconds)``."""
    model = build(name, n_classes=n_classes, seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    start = time.process_time()
    history = fit(model, nn.CrossEntropyLoss(), optimizer, data, epochs=epochs,
                  batch_size=BATCH_SIZE, scheduler=scheduler, progress=False, seed=seed)
    return model, history, time.process_time() - start


_DATA = {}


def _run(job):
    """One (architecture, seed) run in a worker process: its row entries and log line."""
    name, seed, config = job
    use_single_thread()
    if not _DATA:
        train = make_shapes(config["n_train"], seed=TRAIN_SEED)
        test = make_shapes(config["n_test"], seed=TEST_SEED)
        _DATA.update(n_classes=len(train.class_names),
                     train=(torch.as_tensor(train.images), torch.as_tensor(train.labels)),
                     test=(torch.as_tensor(test.images), torch.as_tensor(test.labels)))
    model, history, seconds = train_one(name, _DATA["n_classes"], _DATA["train"], config["epochs"],
                                        seed)
    test_accuracy = evaluate(model, nn.CrossEntropyLoss(), _DATA["test"],
                             {"accuracy": accuracy})["accuracy"]
    line = (f"{name}, seed {seed}: test accuracy {test_accuracy:.3f}, final training loss "
            f"{history['loss'][-1]:.3f}, {seconds:.1f} s CPU")
    print(line, flush=True)
    return (name, seed, round(test_accuracy, 4), round(history["loss"][-1], 4), round(seconds, 1),
            line)


def main(argv=None):
    exp = Experiment(__file__, argv, doc=__doc__, add_arguments=lambda parser: parser.add_argument(
        "--workers", type=int, default=1, help="processes running (architecture, seed) pairs"))
    config = QUICK if exp.quick else FULL
    classes = make_shapes(8, seed=TRAIN_SEED).class_names
    jobs = [(name, seed, config) for name in config["architectures"] for seed in config["seeds"]]
    # independent single-threaded runs: the same numbers as one after another
    if exp.args.workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(exp.args.workers) as pool:
            outcomes = list(pool.map(_run, jobs))
    else:
        outcomes = [_run(job) for job in jobs]
    rows = []
    for name in config["architectures"]:
        probe = build(name, n_classes=len(classes))
        mine = [o for o in outcomes if o[0] == name]
        row = {"name": name, "parameters": count_parameters(probe), "flops": count_flops(probe),
               "test_accuracy": [o[2] for o in mine], "train_loss_final": [o[3] for o in mine],
               "train_seconds": [o[4] for o in mine]}
        exp.say(*(o[5] for o in mine), echo=False)  # printed by the runs
        row["accuracy_mean"] = round(float(np.mean(row["test_accuracy"])), 4)
        row["accuracy_std"] = round(float(np.std(row["test_accuracy"])), 4)
        row["seconds_mean"] = round(float(np.mean(row["train_seconds"])), 1)
        rows.append(row)
    results = {"architectures": rows, "classes": list(classes),
               "config": {**{k: v for k, v in config.items() if k != "architectures"}, "lr": LR,
                          "batch_size": BATCH_SIZE, "optimizer": "Adam, cosine decay to 0",
                          "train_seed": TRAIN_SEED, "test_seed": TEST_SEED, "threads": 1},
               "flop_convention": "torch.utils.flop_counter.FlopCounterMode, one 3x32x32 image: "
                                  "a multiply-add is 2 FLOPs; pooling, activations, normalization "
                                  "and additions are not counted"}
    exp.save(results, seeds=config["seeds"])
    return results


if __name__ == "__main__":
    main()
