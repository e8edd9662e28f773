"""Chapter 05a: pre-training on shape classes A, fine-tuning on unseen classes B (learning curve).

Pre-trains the table's small ResNet (``coursekit.models.resnet``, basic blocks) on four
shape classes (A: circle, square, triangle, cross), then trains on the four others (B:
star, ring, crescent, hexagon) with k images per class, k in SIZES, three seeds each, in
four ways, each with a fresh output layer:

- from scratch (random initialization, everything trained);
- linear probe (pre-trained body frozen, only the new head trained);
- last block fine-tuned (stem and first two stages frozen);
- all fine-tuned (the pre-trained layers at a 10 times smaller learning rate than the head).

Frozen layers stay in eval mode (``coursekit.models.FineTuned``). Each run takes
``max(steps, 5 epochs)`` gradient steps on batches of up to 32. Writes
``coursekit/assets/05_transfer.json`` (the table) and ``05_transfer_pretrained.npz`` (the
pre-trained weights, which the notebook and the exercise fine-tune):

    .venv/bin/python experiments/05_transfer.py
    .venv/bin/python experiments/05_transfer.py --quick --out /tmp/x    # <= 30 s
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from coursekit.data import make_shapes
from coursekit.models import FineTuned, from_arrays, replace_head, resnet, to_arrays
from coursekit.train import evaluate, fit
from coursekit.utils import use_single_thread

sys.path.insert(0, str(Path(__file__).resolve().parent))  # experiments/_common.py
from _common import Experiment  # noqa: E402

CLASSES_A = ("circle", "square", "triangle", "cross")
CLASSES_B = ("star", "ring", "crescent", "hexagon")
STRATEGIES = ("from scratch", "linear probe", "last block fine-tuned", "all fine-tuned")
# children of resnet() frozen per strategy
N_FROZEN = {"linear probe": 6, "last block fine-tuned": 3, "all fine-tuned": 0}
FULL = dict(n_pretrain=3000, pretrain_epochs=6, sizes=[1, 3, 10, 30], seeds=[0, 1, 2],
            steps=100, n_test=800)
QUICK = dict(n_pretrain=1000, pretrain_epochs=3, sizes=[3, 30], seeds=[0], steps=40, n_test=400)
POOL_PER_CLASS, HEAD_LR, BODY_LR, SCRATCH_LR, BATCH_SIZE = 300, 1e-2, 1e-3, 2e-3, 32
PRETRAIN_SEED, POOL_SEED, TEST_SEED = 3000, 4000, 5000


def accuracy(outputs, targets):
    return (outputs.argmax(1) == targets).float().mean().item()


def pretrain(n_images, epochs, seed=0):
    """The ResNet trained on classes A; returns (model, test accuracy on A)."""
    data = make_shapes(n_images, classes=CLASSES_A, seed=PRETRAIN_SEED)
    test = make_shapes(1000, classes=CLASSES_A, seed=PRETRAIN_SEED + 1)
    model = resnet(len(CLASSES_A), block="basic", seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=SCRATCH_LR)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    fit(model, nn.CrossEntropyLoss(), optimizer,
        (torch.as_tensor(data.images), torch.as_tensor(data.labels)), epochs=epochs, batch_size=64,
        scheduler=scheduler, progress=False, seed=seed)
    test_data = (torch.as_tensor(test.images), torch.as_tensor(test.labels))
    scores = evaluate(model, nn.CrossEntropyLoss(), test_data, {"accuracy": accuracy})
    return model, scores["accuracy"]


def target_model(strategy, pretrained, seed):
    """The model and optimizer of one strategy for the four B classes (fresh head from ``seed``)."""
    if strategy == "from scratch":
        model = resnet(len(CLASSES_B), block="basic", seed=100 + seed)
        return model, torch.optim.Adam(model.parameters(), lr=SCRATCH_LR)
    model = FineTuned(replace_head(pretrained, len(CLASSES_B), seed=100 + seed), N_FROZEN[strategy])
    head = list(model.rest[-1].parameters())
    body = [p for p in model.rest[:-1].parameters() if p.requires_grad]
    groups = [{"params": head, "lr": HEAD_LR}] + ([{"params": body, "lr": BODY_LR}] if body else [])
    return model, torch.optim.Adam(groups)


def subset(labels, per_class, seed):
    """Indices of ``per_class`` random images of each class (the same for every strategy)."""
    draw = np.random.default_rng(seed)
    return np.concatenate([draw.choice(np.flatnonzero(labels == c), per_class, replace=False)
                           for c in range(len(CLASSES_B))])


def epochs_for(n_images, steps):
    batches = int(np.ceil(n_images / BATCH_SIZE))
    return max(int(np.ceil(steps / batches)), 5)


_DATA = {}


def _run(job):
    """All strategies for one (images per class, seed): {strategy: test accuracy on B}."""
    per_class, seed, config, pretrained_arrays = job
    use_single_thread()
    if not _DATA:
        pool = make_shapes(POOL_PER_CLASS * len(CLASSES_B), classes=CLASSES_B, seed=POOL_SEED)
        test = make_shapes(config["n_test"], classes=CLASSES_B, seed=TEST_SEED)
        _DATA.update(pool=pool, test=(torch.as_tensor(test.images), torch.as_tensor(test.labels)))
    pretrained = from_arrays(resnet(len(CLASSES_A), block="basic"), pretrained_arrays)
    pool = _DATA["pool"]
    index = subset(pool.labels, per_class, seed)
    data = (torch.as_tensor(pool.images[index]), torch.as_tensor(pool.labels[index]))
    accuracies = {}
    for strategy in STRATEGIES:
        model, optimizer = target_model(strategy, pretrained, seed)
        fit(model, nn.CrossEntropyLoss(), optimizer, data,
            epochs=epochs_for(len(index), config["steps"]), batch_size=BATCH_SIZE, progress=False,
            seed=seed)
        value = evaluate(model, nn.CrossEntropyLoss(), _DATA["test"],
                         {"accuracy": accuracy})["accuracy"]
        accuracies[strategy] = round(value, 4)
    print(f"{per_class} per class, seed {seed}: {accuracies}", flush=True)
    return per_class, seed, accuracies


def main(argv=None):
    exp = Experiment(__file__, argv, doc=__doc__, add_arguments=lambda parser: parser.add_argument(
        "--workers", type=int, default=1, help="processes running (size, seed) pairs"))
    config = QUICK if exp.quick else FULL
    pretrained, accuracy_a = pretrain(config["n_pretrain"], config["pretrain_epochs"])
    exp.say(f"pre-trained on {', '.join(CLASSES_A)}: test accuracy {accuracy_a:.3f} "
            f"({exp.cpu_seconds():.1f} s CPU)")
    jobs = [(per_class, seed, config, to_arrays(pretrained)) for per_class in config["sizes"]
            for seed in config["seeds"]]
    # independent single-threaded runs: the same numbers as one after another
    if exp.args.workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(exp.args.workers) as pool:
            outcomes = list(pool.map(_run, jobs))
    else:
        outcomes = [_run(job) for job in jobs]
    runs = {strategy: {str(k): [] for k in config["sizes"]} for strategy in STRATEGIES}
    for per_class, _, accuracies in outcomes:
        for strategy, value in accuracies.items():
            runs[strategy][str(per_class)].append(value)
    for per_class in config["sizes"]:
        line = f"{per_class} per class: " + ", ".join(
            f"{s} {np.mean(runs[s][str(per_class)]):.3f} ± {np.std(runs[s][str(per_class)]):.3f}"
            for s in STRATEGIES)
        exp.say(line)
    exp.say(f"total {exp.cpu_seconds():.1f} s CPU", echo=False)
    results = {
        "classes_a": list(CLASSES_A), "classes_b": list(CLASSES_B),
        "pretrain_accuracy_a": round(accuracy_a, 4), "sizes": config["sizes"],
        "strategies": list(STRATEGIES), "test_accuracy": runs,
        "mean": {s: {k: round(float(np.mean(v)), 4) for k, v in runs[s].items()}
                 for s in STRATEGIES},
        "std": {s: {k: round(float(np.std(v)), 4) for k, v in runs[s].items()}
                for s in STRATEGIES},
        "config": {**config, "head_lr": HEAD_LR, "body_lr": BODY_LR, "scratch_lr": SCRATCH_LR,
                   "batch_size": BATCH_SIZE, "pool_per_class": POOL_PER_CLASS,
                   "pretrain_seed": PRETRAIN_SEED, "pool_seed": POOL_SEED, "test_seed": TEST_SEED,
                   "threads": 1},
    }
    exp.save(results, seeds=config["seeds"])
    exp.save_weights(to_arrays(pretrained), name="05_transfer_pretrained")
    return results


if __name__ == "__main__":
    main()
