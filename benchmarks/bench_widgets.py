"""Time one interactive update of the widgets that must feel instant (goal: < 0.3 s each).

    .venv/bin/python benchmarks/bench_widgets.py [--repeats 3]

An "update" is what a student's slider move costs: the control changes, the
widget recomputes, redraws its figure and encodes the PNG the browser shows.
Measured for ActivationExplorer, Playground (a control change, which rebuilds
the model, and one training epoch), OptimizerRace, ConvExplorer, ReceptiveField,
DetectionExplorer and AutoencoderExplorer (the widgets of later chapters are listed in
``cases``), cycling each control through a few values. Reports the median and the worst wall
time and the median CPU time of the process (wall time on a shared machine
includes waiting for a core; CPU time does not).
"""

from __future__ import annotations

import argparse
import statistics
import time

GOAL_SECONDS = 0.3


def measure(action, repeats):
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def cycle(widget, control, values):
    """An action that moves ``control`` to the next of ``values`` each call."""
    state = {"i": 0}

    def action():
        state["i"] += 1
        getattr(widget, control).value = values[state["i"] % len(values)]

    return action


def detection_explorer(n_images=50):
    """A DetectionExplorer over 50 held-out scenes with detector-like raw output: 64 boxes
    per image (the grid detector's 8 x 8 cells), jittered copies of the objects and false alarms."""
    import numpy as np

    from coursekit.data import make_shape_scenes
    from coursekit.widgets import DetectionExplorer

    scenes = make_shape_scenes(n_images, seed=123)
    rng = np.random.default_rng(0)
    boxes, scores, labels = [], [], []
    for gb, gl in zip(scenes.boxes, scenes.labels):
        xy = rng.uniform(0, 56, size=(64, 2))
        raw = np.c_[xy, xy + rng.uniform(4, 20, size=(64, 2))]
        copies = np.repeat(gb, 4, axis=0) + rng.normal(scale=1.5, size=(4 * len(gb), 4))
        raw[:len(copies)] = np.c_[copies[:, :2], np.maximum(copies[:, 2:], copies[:, :2] + 1)]
        s = rng.uniform(0, 0.3, size=64)
        s[:len(copies)] = rng.uniform(0.3, 1.0, size=len(copies))
        boxes.append(raw)
        scores.append(s)
        labels.append(np.r_[np.repeat(gl, 4), rng.integers(0, 8, 64 - len(copies))])
    return DetectionExplorer(scenes.images, boxes, scores, labels, scenes.boxes, scenes.labels,
                             scenes.class_names)
def autoencoder_explorer():
    """AutoencoderExplorer on the 450 test digits with chapter 07's deep autoencoder shape
    (64-64-8-64-64, untrained weights: an update costs the same)."""
    import torch
    from torch import nn

    from coursekit.data import load_digits
    from coursekit.widgets import AutoencoderExplorer

    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 8))
    decoder = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64), nn.Sigmoid())

    def run(module, X):
        with torch.no_grad():
            return module(torch.tensor(X, dtype=torch.float32)).numpy().astype(float)

    digits = load_digits(test_size=0.25, seed=0)
    return AutoencoderExplorer(digits.X_test.reshape(-1, 8, 8), digits.y_test, lambda X: run(encoder, X),
                               lambda Z: run(decoder, Z), item=0, k=6)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from coursekit.widgets import (
        ActivationExplorer,
        ConvExplorer,
        GANTrainer,
        OptimizerRace,
        Playground,
        ReceptiveField,
    )

    detection = detection_explorer()
    explorer = autoencoder_explorer()

    activation = ActivationExplorer("leaky_relu")
    playground = Playground(dataset="spirals", n_samples=300, layers=(16, 16))
    race = OptimizerRace("rosenbrock")
    conv_grid = ConvExplorer("small grid")
    conv_photo = ConvExplorer("camera")
    field = ReceptiveField(n_layers=3)
    field_unit = ReceptiveField(n_layers=3)  # its own stack, so the unit sliders keep their range
    gan = GANTrainer()
    cases = [
        ("1 ActivationExplorer", "alpha", cycle(activation, "alpha", [0.05, 0.2, 0.4])),
        ("1 ActivationExplorer", "activation", cycle(activation, "activation", ["elu", "gelu", "maxout", "tanh"])),
        ("2 Playground", "lr (rebuild)", cycle(playground, "lr", [0.01, 0.03, 0.1])),
        ("2 Playground", "optimizer (rebuild)", cycle(playground, "optimizer", ["SGD", "momentum", "Adam"])),
        ("2 Playground", "step: 1 epoch", lambda: playground.step()),
        ("3 OptimizerRace", "lr_gradient", cycle(race, "lr_gradient", [5e-4, 1e-3, 2e-3])),
        ("3 OptimizerRace", "beta1", cycle(race, "beta1", [0.8, 0.9, 0.95])),
        ("3 OptimizerRace", "steps", cycle(race, "steps", [100, 200, 300])),
        ("3 OptimizerRace", "surface (new contours)",
         cycle(race, "surface", ["quadratic", "saddle", "himmelblau", "beale", "rosenbrock"])),
        ("7 ConvExplorer grid", "position", cycle(conv_grid, "position", [3, 7, 11, 15])),
        ("7 ConvExplorer grid", "padding", cycle(conv_grid, "padding", [1, 2, 0])),
        ("7 ConvExplorer photo", "preset", cycle(conv_photo, "preset", ["sharpen", "box blur", "emboss"])),
        ("7 ConvExplorer photo", "stride", cycle(conv_photo, "stride", [2, 3, 1])),
        ("12 ReceptiveField", "n_layers", cycle(field, "n_layers", [4, 5, 2, 3])),
        ("12 ReceptiveField", "kernel_size", cycle(field, "kernel_size", [5, 7, 3])),
        ("12 ReceptiveField", "dilation", cycle(field, "dilation", [2, 3, 1])),
        ("12 ReceptiveField", "pooling", cycle(field, "pooling", ["after every layer", "after every 2nd layer",
                                                                  "none"])),
        ("12 ReceptiveField", "unit_col", cycle(field_unit, "unit_col", [3, 9, 20, 31])),
        ("13 DetectionExplorer", "score_threshold", cycle(detection, "score_threshold", [0.3, 0.6, 0.1])),
        ("13 DetectionExplorer", "iou_threshold", cycle(detection, "iou_threshold", [0.3, 0.7, 1.0])),
        ("13 DetectionExplorer", "image_index", cycle(detection, "image_index", [3, 7, 11])),
        ("14 AutoencoderExplorer", "item", cycle(explorer, "item", [5, 17, 42, 99])),
        ("14 AutoencoderExplorer", "noise", cycle(explorer, "noise", [0.1, 0.3, 0.0])),
        ("14 AutoencoderExplorer", "k", cycle(explorer, "k", [4, 8, 6])),
        ("14 AutoencoderExplorer", "metric", cycle(explorer, "metric", ["cosine", "euclidean"])),
        ("15 GANTrainer", "lr (rebuild)", cycle(gan, "lr", [3e-4, 3e-3, 1e-3])),
        ("15 GANTrainer", "pack (rebuild)", cycle(gan, "pack", [2, 1])),
        ("15 GANTrainer", "step: 20 iterations", lambda: gan.step()),
    ]
    rows, slow = [], []
    for widget, control, action in cases:
        action()  # warm-up: caches, first layout
        walls, cpus = measure(action, args.repeats)
        median_wall, worst_wall, median_cpu = statistics.median(walls), max(walls), statistics.median(cpus)
        rows.append((widget, control, median_wall, worst_wall, median_cpu))
        if median_cpu > GOAL_SECONDS:
            slow.append(f"{widget} {control}")
    print(f"{'widget':<22} {'control':<22} {'median wall s':>13} {'worst wall s':>12} {'median CPU s':>12}")
    for widget, control, median_wall, worst_wall, median_cpu in rows:
        print(f"{widget:<22} {control:<22} {median_wall:>13.3f} {worst_wall:>12.3f} {median_cpu:>12.3f}")
    from results_table import save_table

    save_table("widgets", "Widget update times (seconds per control change)",
               ["widget", "control", "median wall", "worst wall", "median CPU"],
               [list(row) for row in rows], notes=f"goal: median under {GOAL_SECONDS} s")
    print(f"goal: every update under {GOAL_SECONDS} s;",
          "all met (CPU time)" if not slow else f"over the goal: {', '.join(slow)}")
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
