"""A GAN on 2-D points: alternating training, the discriminator's surface, modes covered.

Data come from a mixture of Gaussians (``coursekit.data.make_gaussian_mixture``);
generator and discriminator are small torch MLPs. ``ToyGAN.step`` does one
alternating update (discriminator, then generator); ``pack > 1`` lets the
discriminator judge ``pack`` samples at once (PacGAN, Lin et al. 2018), a remedy
for mode collapse: a batch of near-identical fakes is easy to tell apart from
``pack`` real points drawn from different modes.

Compute: ``ToyGANConfig``, ``ToyGAN``, ``modes_covered``, ``discriminator_surface``.
Draw: ``plot_gan_state``, ``plot_gan_losses``, ``plot_mode_shares``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from coursekit.data import make_gaussian_mixture

# torch is imported where the networks are built and trained, not at module level, so that
# importing coursekit.viz or coursekit.widgets stays torch-free (tests/test_layers.py).

__all__ = ["ToyGANConfig", "ToyGAN", "modes_covered", "discriminator_surface", "plot_gan_state",
           "plot_gan_losses", "plot_mode_shares", "GENERATOR_LOSSES"]

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


def _mlp(n_in: int, hidden: int, n_out: int):
    from torch import nn

    return nn.Sequential(nn.Linear(n_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                         nn.LeakyReLU(0.2), nn.Linear(hidden, n_out))


class ToyGAN:
    """Generator G: z (latent_dim) -> point (2); discriminator D: ``pack`` points -> one logit."""

    def __init__(self, config: ToyGANConfig | None = None, **overrides):
        import torch

        config = config or ToyGANConfig(**overrides)
        if config.generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"generator_loss must be one of {GENERATOR_LOSSES}, got {config.generator_loss!r}")
        if config.pack < 1 or config.batch_size % config.pack:
            raise ValueError(f"pack must be >= 1 and divide batch_size ({config.batch_size}), got {config.pack}")
        self.config = config
        X, _, self.modes = make_gaussian_mixture(config.n_train, config.n_modes, config.std, config.layout,
                                                 config.radius, seed=config.seed)
        self.X = torch.tensor(X, dtype=torch.float32)
        self.generator_rng = torch.Generator().manual_seed(config.seed)
        torch.manual_seed(config.seed)
        self.G = _mlp(config.latent_dim, config.hidden, 2)
        self.D = _mlp(2 * config.pack, config.hidden, 1)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=config.lr, betas=(0.5, 0.999))
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=config.lr, betas=(0.5, 0.999))
        self.iteration = 0
        self.history = {"iteration": [], "d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
        self._fixed_z = torch.randn(1000, config.latent_dim, generator=torch.Generator().manual_seed(10_000))

    def _z(self, n):
        import torch

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
        import torch
        from torch import nn

        bce = nn.functional.binary_cross_entropy_with_logits
        b = self.config.batch_size
        for _ in range(n_steps):
            if stop is not None and stop.is_set():
                return
            index = torch.randint(len(self.X), (b,), generator=self.generator_rng)
            real = self.X[index]
            fake = self.G(self._z(b))
            real_logits, fake_logits = self._logits(real), self._logits(fake.detach())
            d_loss = bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))
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
        import torch

        z = self._fixed_z[:n] if n <= len(self._fixed_z) else torch.randn(
            n, self.config.latent_dim, generator=torch.Generator().manual_seed(10_000))
        with torch.no_grad():
            return self.G(z).numpy().astype(float)

    def discriminator_probability(self, points) -> np.ndarray:
        """D's probability "real" for single points (n, 2); packed inputs repeat the point."""
        import torch

        points = torch.tensor(np.asarray(points), dtype=torch.float32)
        with torch.no_grad():
            return torch.sigmoid(self.D(points.repeat(1, self.config.pack))).numpy()[:, 0].astype(float)

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


def discriminator_surface(gan: ToyGAN, extent: float | None = None, resolution: int = 60):
    """D's probability "real" on a grid: ``(xx, yy, probability)``, each (resolution, resolution)."""
    extent = extent or 1.5 * gan.config.radius + 0.5
    ticks = np.linspace(-extent, extent, resolution)
    xx, yy = np.meshgrid(ticks, ticks)
    probability = gan.discriminator_probability(np.stack([xx.ravel(), yy.ravel()], axis=1))
    return xx, yy, probability.reshape(xx.shape)


def plot_gan_state(ax, gan: ToyGAN, n_samples: int = 500, resolution: int = 60, title=None, colorbar=True):
    """D's surface (colour), real points (black) and generated points (orange) of ``gan`` now."""
    xx, yy, probability = discriminator_surface(gan, resolution=resolution)
    mesh = ax.contourf(xx, yy, probability, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75)
    real = gan.X[:n_samples].numpy()
    fake = gan.sample(n_samples)
    ax.scatter(real[:, 0], real[:, 1], s=4, c="k", label="data")
    ax.scatter(fake[:, 0], fake[:, 1], s=4, c="#f28e2b", label="generated")
    limit = xx.max()
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title is None:
        title = f"iteration {gan.iteration}: {gan.modes_covered()['n_covered']}/{len(gan.modes)} modes"
    ax.set_title(title, fontsize=10)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label="D(x) = P(real)", shrink=0.8)
    return ax


def plot_gan_losses(ax, history: dict, title: str = "losses over training"):
    """D's and G's losses per iteration (at most ~500 points drawn), with D's equilibrium loss 2 ln 2."""
    every = max(1, len(history["iteration"]) // 500)
    iterations = history["iteration"][::every]
    ax.plot(iterations, history["d_loss"][::every], lw=0.8, label="D loss (real + fake BCE)")
    ax.plot(iterations, history["g_loss"][::every], lw=0.8, label="G loss")
    ax.axhline(2 * np.log(2), color="k", ls="--", lw=0.8, label="2 ln 2 (D = 1/2)")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss (nats)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=9)
    return ax


def plot_mode_shares(ax, shares, min_share: float = 0.01, title: str = "share of samples near each mode"):
    """Bar chart of the share of samples within 3σ of each mode, with the coverage threshold."""
    shares = np.asarray(shares)
    ax.bar(np.arange(len(shares)), shares, color="#4e79a7")
    ax.axhline(min_share, color="#e15759", ls="--", label=f"covered threshold {min_share:.0%}")
    ax.set_xlabel("mode")
    ax.set_ylabel("share of samples")
    ax.set_xticks(np.arange(len(shares)))
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=9)
    return ax
