"""Chapter 08: the β trade-off of a VAE on the 8×8 digits (β weights the KL term).

    .venv/bin/python experiments/08_vae_beta.py            # full run, rewrites the assets
    .venv/bin/python experiments/08_vae_beta.py --quick --out /tmp/x   # reduced budget (< 30 s)

For each β and seed, trains ``coursekit.models.generative.VAE`` (2-D latent space, so it can be
drawn) on the training split by minimising reconstruction + β·KL, and measures on the
held-out split the reconstruction term, the KL term and the ELBO (β = 1, nats per image;
Bernoulli likelihood on grey values in [0, 1]). Writes ``08_vae_beta.json`` (per-seed
numbers, log) and ``08_vae_beta.npz`` (seed 0's held-out posterior means for every β).
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
from coursekit.models.generative import evaluate_vae, train_vae  # noqa: E402
from coursekit.utils import use_single_thread  # noqa: E402

NAME = "08_vae_beta"
BETAS = (0.25, 1.0, 4.0)
LATENT_DIM = 2


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="reduced budget (< 30 s)")
    parser.add_argument("--out", default=None, help="folder for the assets (default coursekit/assets)")
    args = parser.parse_args(argv)
    use_single_thread()
    seeds = [0] if args.quick else [0, 1, 2]
    epochs = 8 if args.quick else 40
    data = load_digits(seed=0)
    log, rows, arrays = [], [], {"y_test": data.y_test}
    start = time.time()
    for beta in BETAS:
        for seed in seeds:
            model, _ = train_vae(data.X_train, None, latent_dim=LATENT_DIM, beta=beta, epochs=epochs, seed=seed)
            scores = evaluate_vae(model, data.X_test)
            with torch.no_grad():
                mean, log_var = model.encode(torch.tensor(data.X_test, dtype=torch.float32))
            # a latent dimension is "active" when its posterior mean varies across digits
            active = int((mean.var(0) > 0.01).sum())
            rows.append({"beta": beta, "seed": seed, **scores, "active_dims": active,
                         "posterior_std": float(torch.exp(0.5 * log_var).mean())})
            line = (f"beta {beta:g} seed {seed}: reconstruction {scores['reconstruction']:.2f}, "
                    f"KL {scores['kl']:.2f}, ELBO {scores['elbo']:.2f} nats/image, active dims {active}")
            log.append(line)
            print(line, flush=True)
            if seed == seeds[0]:
                arrays[f"means_beta_{beta:g}"] = mean.numpy().astype(np.float32)
    summary = {}
    for beta in BETAS:
        picked = [r for r in rows if r["beta"] == beta]
        summary[f"{beta:g}"] = {key: [float(np.mean([r[key] for r in picked])), float(np.std([r[key] for r in picked]))]
                                for key in ("reconstruction", "kl", "elbo")}
    log.append(f"total {time.time() - start:.0f} s")
    command = "python experiments/08_vae_beta.py" + (" --quick" if args.quick else "")
    save_results(NAME, {"betas": list(BETAS), "latent_dim": LATENT_DIM, "epochs": epochs, "runs": rows,
                        "summary": summary}, script="experiments/08_vae_beta.py", command=command, seeds=seeds,
                 log=log, folder=args.out)
    save_weights(NAME, arrays, folder=args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
