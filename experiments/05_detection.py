"""Train the tiny grid detector of notebook 05b on the shapes scenes, over several seeds.

    .venv/bin/python experiments/05_detection.py                 # full run (several minutes)
    .venv/bin/python experiments/05_detection.py --quick --out /tmp/x   # reduced budget, < 30 s

Writes ``05_detection.json`` (per seed: mAP@0.5 and AP per class on held-out scenes, training
loss per epoch, CPU seconds; the precision-recall curves of seed 0) and ``05_detection.npz``
(the weights of seed 0, float32) into ``--out`` (default ``coursekit/assets/``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from coursekit.data import make_shape_scenes
from coursekit.models.grid_detector import evaluate, train_detector

sys.path.insert(0, str(Path(__file__).resolve().parent))  # experiments/_common.py
from _common import Experiment  # noqa: E402

FULL = {"n_train": 2000, "n_test": 300, "epochs": 15, "width": 32, "lr": 3e-3, "seeds": [0, 1, 2]}
QUICK = {"n_train": 400, "n_test": 100, "epochs": 6, "width": 16, "lr": 2e-2, "seeds": [0]}
TRAIN_SEED, TEST_SEED = 1000, 2000  # the scenes; the training seed varies per run


def _thin(curve, n_points=150):
    """At most n_points of a curve (rounded), for a compact JSON."""
    curve = np.asarray(curve, float)
    if len(curve) > n_points:
        curve = curve[np.linspace(0, len(curve) - 1, n_points).round().astype(int)]
    return [round(float(v), 4) for v in curve]


def main(argv=None) -> int:
    exp = Experiment(__file__, argv, doc=__doc__, quick_help="reduced budget (< 30 s)")
    config = QUICK if exp.quick else FULL
    say = exp.say
    train = make_shape_scenes(config["n_train"], seed=TRAIN_SEED)
    test = make_shape_scenes(config["n_test"], seed=TEST_SEED)
    say(f"{config['n_train']} training scenes (seed {TRAIN_SEED}), {config['n_test']} held-out "
        f"scenes (seed {TEST_SEED}), {sum(len(b) for b in test.boxes)} held-out objects")
    runs = []
    for seed in config["seeds"]:
        cpu = time.process_time()
        model, history = train_detector(train, epochs=config["epochs"], width=config["width"],
                                        lr=config["lr"], seed=seed, log=lambda line,
                                        s=seed: say(f"seed {s} {line}"))
        cpu = time.process_time() - cpu
        metrics = evaluate(model, test)
        no_nms = evaluate(model, test, iou_threshold=1.0).map  # every cell's box kept
        say(f"seed {seed}: mAP@0.5 {metrics.map:.3f} (without NMS {no_nms:.3f}), "
            f"training {cpu:.0f} s CPU")
        run = {"seed": seed, "map": round(metrics.map, 4), "map_no_nms": round(no_nms, 4),
               "ap": [round(float(a), 4) for a in metrics.ap],
               "loss": [round(h["loss"], 4) for h in history], "cpu_seconds": round(cpu, 1)}
        if seed == config["seeds"][0]:
            run["pr_curves"] = [{"precision": _thin(p), "recall": _thin(r)}
                                for p, r in zip(metrics.precision, metrics.recall)]
            weights = {k: v.detach().numpy().astype(np.float32)
                       for k, v in model.state_dict().items() if v.dtype.is_floating_point}
            exp.save_weights(weights)
        runs.append(run)
    maps = np.array([r["map"] for r in runs])
    say(f"mAP@0.5 over {len(maps)} seeds: {maps.mean():.3f} ± {maps.std():.3f}")
    exp.save({"config": {k: v for k, v in config.items() if k != "seeds"},
              "class_names": list(test.class_names), "runs": runs,
              "map_mean": round(float(maps.mean()), 4), "map_std": round(float(maps.std()), 4),
              "torch": torch.__version__}, seeds=config["seeds"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
