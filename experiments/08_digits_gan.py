"""Chapter 08: a GAN and a conditional GAN on the 8×8 digits, judged by a separate classifier.

    .venv/bin/python experiments/08_digits_gan.py            # full run, rewrites the assets
    .venv/bin/python experiments/08_digits_gan.py --quick --out /tmp/x   # reduced budget (< 30 s)

Trains (1) the judge, an MLP digits classifier, on the training split; (2) an
unconditional GAN and (3) a conditional GAN (G and D see the one-hot label), each with
the non-saturating generator loss, for every seed. The CGAN is judged by the label
accuracy: the share of its samples (100 per class) that the judge classifies as the
label they were generated for. Writes ``08_digits_gan.json`` (per-seed numbers, log) and
``08_digits_gan.npz`` (seed 0's generators, the judge, samples over training).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coursekit.assets import save_results, save_weights  # noqa: E402
from coursekit.data import load_digits  # noqa: E402
from coursekit.models.generative import state_to_arrays, train_classifier, train_gan  # noqa: E402
from coursekit.utils import use_single_thread  # noqa: E402

NAME = "08_digits_gan"
LATENT_DIM = 16


def judge_samples(classifier, G, n_per_class: int = 100, seed: int = 1234) -> dict:
    """Label accuracy of a conditional G (or the class histogram of an unconditional one)."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(10).repeat_interleave(n_per_class)
    z = torch.randn(len(labels), G.latent_dim, generator=generator)
    with torch.no_grad():
        probabilities = torch.softmax(classifier(G(z, labels)), dim=1)
    predicted = probabilities.argmax(1)
    result = {"confidence": probabilities.max(1).values.mean().item(),
              "class_shares": torch.bincount(predicted, minlength=10).div(len(labels)).tolist()}
    if G.n_classes:
        correct = (predicted == labels).float()
        result["label_accuracy"] = correct.mean().item()
        result["per_class_accuracy"] = correct.reshape(10, n_per_class).mean(1).tolist()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="reduced budget (< 30 s)")
    parser.add_argument("--out", default=None, help="folder for the assets (default coursekit/assets)")
    args = parser.parse_args(argv)
    use_single_thread()
    seeds = [0] if args.quick else [0, 1, 2]
    steps = 2000 if args.quick else 3000
    snapshot_at = (0, 200, 500, 1000, 2000) if args.quick else (0, 200, 500, 1000, 3000)
    log = []

    def say(line):
        log.append(line)
        print(line, flush=True)

    start = time.time()
    data = load_digits(seed=0)
    classifier = train_classifier(data.X_train, data.y_train, epochs=20 if args.quick else 60)
    with torch.no_grad():
        judge_accuracy = (classifier(torch.tensor(data.X_test, dtype=torch.float32)).argmax(1).numpy()
                          == data.y_test).mean()
    say(f"judge classifier: test accuracy {judge_accuracy:.4f}")
    with torch.no_grad():
        real_probabilities = torch.softmax(classifier(torch.tensor(data.X_test, dtype=torch.float32)), 1)
    results = {"judge_test_accuracy": float(judge_accuracy),
               "real_test_confidence": real_probabilities.max(1).values.mean().item(),
               "steps": steps, "latent_dim": LATENT_DIM, "gan": [], "cgan": []}
    arrays = {}
    for seed in seeds:
        for kind in ("gan", "cgan"):
            t = time.time()
            G, _, history = train_gan(data.X_train, data.y_train, conditional=kind == "cgan", steps=steps,
                                      latent_dim=LATENT_DIM, seed=seed, snapshot_at=snapshot_at)
            judged = judge_samples(classifier, G)
            judged.update(seed=seed, final_d_loss=float(np.mean(history["d_loss"][-10:])),
                          final_g_loss=float(np.mean(history["g_loss"][-10:])), seconds=time.time() - t)
            results[kind].append(judged)
            say(f"{kind} seed {seed}: " + ", ".join(f"{k} {v:.3f}" for k, v in judged.items()
                                                  if isinstance(v, float)))
            if seed == seeds[0]:
                arrays.update(state_to_arrays(G, f"{kind}_G."))
                arrays[f"{kind}_snapshot_steps"] = np.array(sorted(history["snapshots"]))
                arrays[f"{kind}_snapshots"] = np.stack([history["snapshots"][s]
                                                        for s in sorted(history["snapshots"])]).astype(np.float32)
                arrays[f"{kind}_loss_steps"] = np.array(history["step"])
                arrays[f"{kind}_d_loss"] = np.array(history["d_loss"], dtype=np.float32)
                arrays[f"{kind}_g_loss"] = np.array(history["g_loss"], dtype=np.float32)
    arrays.update(state_to_arrays(classifier, "judge."))
    accuracies = [r["label_accuracy"] for r in results["cgan"]]
    results["cgan_label_accuracy_mean"] = float(np.mean(accuracies))
    results["cgan_label_accuracy_std"] = float(np.std(accuracies))
    say(f"CGAN label accuracy over seeds {seeds}: {np.mean(accuracies):.3f} ± {np.std(accuracies):.3f}; "
        f"total {time.time() - start:.0f} s")
    command = "python experiments/08_digits_gan.py" + (" --quick" if args.quick else "")
    save_results(NAME, results, script="experiments/08_digits_gan.py", command=command, seeds=seeds, log=log,
                 folder=args.out)
    save_weights(NAME, arrays, folder=args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
