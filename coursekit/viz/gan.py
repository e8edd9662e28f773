"""Pictures of the toy GAN on 2-D points: the discriminator's surface, losses, mode shares.

The GAN itself (``ToyGANConfig``, ``ToyGAN``, ``modes_covered``) is a torch model and
lives in ``coursekit.models.toy_gan``; its names are re-exported here, and torch is
imported only when one of them is first used, so importing ``coursekit.viz`` or
``coursekit.widgets`` stays torch-free (tests/test_layers.py).

Compute: ``discriminator_surface``. Draw: ``plot_gan_state``, ``plot_gan_losses``,
``plot_mode_shares`` (each returns its ``ax``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["discriminator_surface", "plot_gan_state", "plot_gan_losses", "plot_mode_shares"]

_MOVED = ("GENERATOR_LOSSES", "ToyGANConfig", "ToyGAN", "modes_covered")


def __getattr__(name):
    """The toy GAN's names, from ``coursekit.models.toy_gan`` (imported with torch on first use)."""
    if name in _MOVED:
        from coursekit.models import toy_gan

        return getattr(toy_gan, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def discriminator_surface(gan, extent: float | None = None, resolution: int = 60):
    """D's probability "real" on a grid: ``(xx, yy, probability)``, each (resolution, resolution)."""
    extent = extent or 1.5 * gan.config.radius + 0.5
    ticks = np.linspace(-extent, extent, resolution)
    xx, yy = np.meshgrid(ticks, ticks)
    probability = gan.discriminator_probability(np.stack([xx.ravel(), yy.ravel()], axis=1))
    return xx, yy, probability.reshape(xx.shape)


def plot_gan_state(ax, gan, n_samples: int = 500, resolution: int = 60, title=None, colorbar=True):
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


def plot_mode_shares(ax, shares, min_share: float = 0.01,
                     title: str = "share of samples near each mode"):
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
