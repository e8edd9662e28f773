"""The toy GAN of chapter 08a: two small torch MLPs trained on 2-D points.

Data come from a mixture of Gaussians (``coursekit.data.make_gaussian_mixture``);
generator and discriminator are small torch MLPs. ``ToyGAN.step`` does one
alternating update (discriminator, then generator); ``pack > 1`` lets the
discriminator judge ``pack`` samples at once (PacGAN, Lin et al. 2018), a remedy
for mode collapse: a batch of near-identical fakes is easy to tell apart from
``pack`` real points drawn from different modes. ``modes_covered`` is the measure
of mode collapse the chapter uses.

The pictures (``discriminator_surface``, ``plot_gan_state``, ...) are in
``coursekit.viz.gan``, which re-exports these names without importing torch until one
is used; the ``GANTrainer`` widget imports this module only when it builds a GAN.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from coursekit.data import make_gaussian_mixture

__all__ = ["GENERATOR_LOSSES", "ToyGANConfig", "ToyGAN", "modes_covered"]

GENERATOR_LOSSES = ("non-saturating", "saturating")


@dataclass(frozen=True)
class ToyGANConfig:
    """Everything that defines one toy-GAN run (a plain, hashable record)."""

    n_modes: int = 8
    radius: float = 2.0
    std: float = 0.02
    layout: str = "ring"
    n_train: int = 2000
    latent_dim: int = 2
    hidden: int = 64
    lr: float = 1e-3
    batch_size: int = 128
    generator_loss: str = "non-saturating"
    pack: int = 1
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                         nn.LeakyReLU(0.2), nn.Linear(hidden, n_out))


class ToyGAN:
    """Generator G: z (latent_dim) -> point (2); discriminator D: ``pack`` points -> one logit."""

    def __init__(self, config: ToyGANConfig | None = None, **overrides):
        config = config or ToyGANConfig(**overrides)
        if config.generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"generator_loss must be one of {GENERATOR_LOSSES}, got "
                             f"{config.generator_loss!r}")
        if config.pack < 1 or config.batch_size % config.pack:
            raise ValueError(f"pack must be >= 1 and divide batch_size ({config.batch_size}), "
                             f"got {config.pack}")
        self.config = config
        X, _, self.modes = make_gaussian_mixture(config.n_train, config.n_modes, config.std,
                                                 config.layout, config.radius, seed=config.seed)
        self.X = torch.tensor(X, dtype=torch.float32)
        self.generator_rng = torch.Generator().manual_seed(config.seed)
        torch.manual_seed(config.seed)
        self.G = _mlp(config.latent_dim, config.hidden, 2)
        self.D = _mlp(2 * config.pack, config.hidden, 1)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=config.lr, betas=(0.5, 0.999))
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=config.lr, betas=(0.5, 0.999))
        self.iteration = 0
        self.history = {"iteration": [], "d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
        self._fixed_z = torch.randn(1000, config.latent_dim,
                                    generator=torch.Generator().manual_seed(10_000))

    def _z(self, n):
        return torch.randn(n, self.config.latent_dim, generator=self.generator_rng)

    def _logits(self, points):
        return self.D(points.reshape(-1, 2 * self.config.pack))

    def step(self, n_steps: int = 1, stop=None) -> None:
        """``n_steps`` alternating updates: D on a real and a fake batch, then G.

        D minimises the BCE of real -> 1, fake -> 0. G minimises
        ``-log D(G(z))`` (non-saturating) or ``log(1 - D(G(z)))`` (saturating,
        the min-max game's own term). ``stop``: an object with ``is_set()``
        (a ``threading.Event``) checked before every update.
        """
        bce = nn.functional.binary_cross_entropy_with_logits
        b = self.config.batch_size
        for _ in range(n_steps):
            if stop is not None and stop.is_set():
                return
            index = torch.randint(len(self.X), (b,), generator=self.generator_rng)
            real = self.X[index]
            fake = self.G(self._z(b))
            real_logits, fake_logits = self._logits(real), self._logits(fake.detach())
            d_loss = (bce(real_logits, torch.ones_like(real_logits))
                      + bce(fake_logits, torch.zeros_like(fake_logits)))
            self.opt_D.zero_grad()
            d_loss.backward()
            self.opt_D.step()
            logits = self._logits(fake)
            if self.config.generator_loss == "non-saturating":
                g_loss = bce(logits, torch.ones_like(logits))          # -log D(G(z))
            else:
                g_loss = -bce(logits, torch.zeros_like(logits))        # log(1 - D(G(z)))
            self.opt_G.zero_grad()
            g_loss.backward()
            self.opt_G.step()
            self.iteration += 1
            h = self.history
            h["iteration"].append(self.iteration)
            h["d_loss"].append(d_loss.item())
            h["g_loss"].append(g_loss.item())
            h["d_real"].append(torch.sigmoid(real_logits).mean().item())
            h["d_fake"].append(torch.sigmoid(fake_logits).mean().item())

    def sample(self, n: int = 1000) -> np.ndarray:
        """Generated points (n, 2) from a fixed set of codes (the same z at every call)."""
        z = self._fixed_z[:n] if n <= len(self._fixed_z) else torch.randn(
            n, self.config.latent_dim, generator=torch.Generator().manual_seed(10_000))
        with torch.no_grad():
            return self.G(z).numpy().astype(float)

    def discriminator_probability(self, points) -> np.ndarray:
        """D's probability "real" for single points (n, 2); packed inputs repeat the point."""
        points = torch.tensor(np.asarray(points), dtype=torch.float32)
        with torch.no_grad():
            logits = self.D(points.repeat(1, self.config.pack))
            return torch.sigmoid(logits).numpy()[:, 0].astype(float)

    def modes_covered(self, n: int = 1000, **kwargs) -> dict:
        return modes_covered(self.sample(n), self.modes, self.config.std, **kwargs)


def modes_covered(samples, modes, std: float, min_share: float = 0.01, n_std: float = 3.0) -> dict:
    """Which modes the samples cover.

    A mode is *covered* when at least ``min_share`` of the samples lie within
    ``n_std`` standard deviations of its centre. Returns ``{"n_covered", "covered"
    (bool per mode), "shares" (share of samples near each mode), "high_quality"
    (share of samples near any mode)}``.
    """
    samples, modes = np.asarray(samples, dtype=float), np.asarray(modes, dtype=float)
    if samples.ndim != 2 or samples.shape[1] != modes.shape[1]:
        raise ValueError(f"samples must have shape (n, {modes.shape[1]}), got {samples.shape}")
    distance = np.linalg.norm(samples[:, None, :] - modes[None, :, :], axis=2)
    near = distance <= n_std * std
    shares = near.mean(axis=0)
    covered = shares >= min_share
    return {"n_covered": int(covered.sum()), "covered": covered, "shares": shares,
            "high_quality": float(near.any(axis=1).mean())}
