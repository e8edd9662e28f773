"""Deep generative models of the 8×8 digits (chapter 08): VAE, (conditional) GAN, a judge.

All are small torch MLPs on flat images of 64 pixels in [0, 1]
(``coursekit.data.load_digits``). The VAE is the one the widgets gallery trains.

- ``gaussian_kl(mean, log_var)``: KL(N(mean, diag exp(log_var)) || N(0, I)) per row, closed form.
- ``VAE``: encoder q(z|x) (mean, log-variance), decoder p(x|z) with Bernoulli pixel means.
- ``vae_loss(x, reconstruction, mean, log_var, beta)``: (negative ELBO, reconstruction, KL),
  each in nats per image (sums over pixels / latent dimensions, means over the batch).
- ``train_vae(X_train, X_test, ...)``: a plain Adam loop; held-out ELBO after every epoch.
- ``Generator`` / ``Discriminator``: MLPs; ``n_classes > 0`` makes them conditional
  (a one-hot label is concatenated to the input).
- ``train_gan(X, y, ...)``: alternating non-saturating GAN training, optionally conditional.
- ``Classifier`` / ``train_classifier``: the digits classifier that judges generated samples.
- ``state_to_arrays`` / ``arrays_to_state``: weights as plain NumPy arrays (for ``.npz`` assets).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["gaussian_kl", "VAE", "vae_loss", "train_vae", "evaluate_vae", "Generator",
           "Discriminator", "train_gan", "Classifier", "train_classifier", "state_to_arrays",
           "arrays_to_state"]

N_PIXELS = 64


def gaussian_kl(mean, log_var):
    """KL(N(mean, diag(exp(log_var))) || N(0, I)) for each row: (n, d) -> (n,), in nats.

    0.5 * sum_j (mean_j² + var_j - log var_j - 1).
    """
    return 0.5 * torch.sum(mean ** 2 + log_var.exp() - log_var - 1, dim=-1)


class VAE(nn.Module):
    """x (n, 64) -> (reconstruction (n, 64) Bernoulli means, mean (n, d), log_var (n, d))."""

    def __init__(self, latent_dim: int = 4, hidden: int = 128):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(nn.Linear(N_PIXELS, hidden), nn.ReLU())
        self.mean, self.log_var = nn.Linear(hidden, latent_dim), nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),
                                     nn.Linear(hidden, N_PIXELS), nn.Sigmoid())

    def encode(self, x):
        h = self.encoder(x)
        return self.mean(h), self.log_var(h)

    def forward(self, x, sample: bool = True):
        mean, log_var = self.encode(x)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var) if sample else mean  # reparameterization
        return self.decoder(z), mean, log_var


def vae_loss(x, reconstruction, mean, log_var, beta: float = 1.0):
    """(negative ELBO with weight ``beta`` on the KL, reconstruction term, KL), nats per image.

    The reconstruction term is the Bernoulli negative log-likelihood summed over
    the 64 pixels, -sum_i [x_i log p_i + (1 - x_i) log(1 - p_i)], with the grey
    values x_i in [0, 1] used as targets.
    """
    recon = nn.functional.binary_cross_entropy(reconstruction, x, reduction="sum") / len(x)
    kl = gaussian_kl(mean, log_var).mean()
    return recon + beta * kl, recon, kl


def evaluate_vae(model, X, n_samples: int = 1, seed: int = 0) -> dict:
    """Held-out reconstruction, KL and ELBO (nats per image; ELBO = -(recon + KL)) of ``model`` on X."""
    X = torch.as_tensor(X, dtype=torch.float32)
    was_training = model.training
    model.eval()
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    with torch.no_grad():
        recon = kl = 0.0
        for _ in range(n_samples):
            _, r, k = vae_loss(X, *model(X))
            recon, kl = recon + r.item() / n_samples, kl + k.item() / n_samples
    torch.random.set_rng_state(generator_state)
    model.train(was_training)
    return {"reconstruction": recon, "kl": kl, "elbo": -(recon + kl)}


def train_vae(X_train, X_test=None, latent_dim: int = 4, beta: float = 1.0, epochs: int = 40,
              lr: float = 3e-3, batch_size: int = 64, seed: int = 0, autoencoder: bool = False):
    """Train a ``VAE`` with Adam; return ``(model, history)``.

    history has per epoch ``"epoch"``, ``"train_loss"`` and, with ``X_test``,
    ``"test_elbo"``, ``"test_reconstruction"``, ``"test_kl"`` (nats per image).
    ``autoencoder=True`` trains the same network as a plain autoencoder
    (z = mean, no noise, no KL term): the baseline of the comparison.
    """
    torch.manual_seed(seed)
    model = VAE(latent_dim)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    X = torch.as_tensor(X_train, dtype=torch.float32)
    history = {"epoch": [], "train_loss": [], "test_elbo": [], "test_reconstruction": [],
               "test_kl": []}
    for epoch in range(1, epochs + 1):
        total = 0.0
        for batch in torch.randperm(len(X)).split(batch_size):
            x = X[batch]
            if autoencoder:
                loss = nn.functional.binary_cross_entropy(model(x, sample=False)[0], x, reduction="sum") / len(x)
            else:
                loss = vae_loss(x, *model(x), beta=beta)[0]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
        history["epoch"].append(epoch)
        history["train_loss"].append(total / len(X))
        if X_test is not None and not autoencoder:
            scores = evaluate_vae(model, X_test)
            history["test_elbo"].append(scores["elbo"])
            history["test_reconstruction"].append(scores["reconstruction"])
            history["test_kl"].append(scores["kl"])
    model.eval()
    return model, history


class Generator(nn.Module):
    """z (n, latent_dim) [+ labels (n,)] -> images (n, 64) in [0, 1]."""

    def __init__(self, latent_dim: int = 16, hidden: int = 256, n_classes: int = 0):
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.net = nn.Sequential(nn.Linear(latent_dim + n_classes, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, N_PIXELS), nn.Sigmoid())

    def forward(self, z, labels=None):
        if self.n_classes:
            z = torch.cat([z, nn.functional.one_hot(labels, self.n_classes).float()], dim=1)
        return self.net(z)


class Discriminator(nn.Module):
    """images (n, 64) [+ labels (n,)] -> logits (n,) of "real"."""

    def __init__(self, hidden: int = 256, n_classes: int = 0):
        super().__init__()
        self.n_classes = n_classes
        self.net = nn.Sequential(nn.Linear(N_PIXELS + n_classes, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, x, labels=None):
        if self.n_classes:
            x = torch.cat([x, nn.functional.one_hot(labels, self.n_classes).float()], dim=1)
        return self.net(x)[:, 0]


def train_gan(X, y=None, conditional: bool = False, steps: int = 2500, latent_dim: int = 16,
              hidden: int = 128, lr: float = 1e-3, batch_size: int = 64, seed: int = 0,
              snapshot_at=(), n_snapshot: int = 40):
    """Alternating training with the non-saturating generator loss; return ``(G, D, history)``.

    ``conditional``: G and D both see the one-hot label ``y``. history: ``"step"``,
    ``"d_loss"``, ``"g_loss"`` every 50 steps and ``"snapshots"``: {step: images
    (n_snapshot, 64)} of G on fixed codes (labels 0..9 cycling when conditional).
    """
    torch.manual_seed(seed)
    n_classes = 10 if conditional else 0
    G, D = Generator(latent_dim, hidden, n_classes), Discriminator(hidden, n_classes)
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    X = torch.as_tensor(X, dtype=torch.float32)
    y = torch.as_tensor(np.zeros(len(X), int) if y is None else y, dtype=torch.long)
    fixed_z = torch.randn(n_snapshot, latent_dim)
    fixed_labels = torch.arange(n_snapshot) % 10
    bce = nn.functional.binary_cross_entropy_with_logits
    history = {"step": [], "d_loss": [], "g_loss": [], "snapshots": {}}

    def snapshot(step):
        with torch.no_grad():
            history["snapshots"][step] = G(fixed_z, fixed_labels).numpy()

    if 0 in snapshot_at:
        snapshot(0)
    for step in range(1, steps + 1):
        index = torch.randint(len(X), (batch_size,))
        real, labels = X[index], y[index]
        fake_labels = torch.randint(10, (batch_size,)) if conditional else labels
        fake = G(torch.randn(batch_size, latent_dim), fake_labels)
        real_logits, fake_logits = D(real, labels), D(fake.detach(), fake_labels)
        d_loss = bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))
        opt_D.zero_grad()
        d_loss.backward()
        opt_D.step()
        logits = D(fake, fake_labels)
        g_loss = bce(logits, torch.ones_like(logits))  # non-saturating: -log D(G(z))
        opt_G.zero_grad()
        g_loss.backward()
        opt_G.step()
        if step % 50 == 0:
            history["step"].append(step)
            history["d_loss"].append(d_loss.item())
            history["g_loss"].append(g_loss.item())
        if step in snapshot_at:
            snapshot(step)
    G.eval()
    return G, D, history


class Classifier(nn.Module):
    """images (n, 64) -> logits (n, 10): the judge of generated digits."""

    def __init__(self, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(N_PIXELS, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def forward(self, x):
        return self.net(x)


def train_classifier(X_train, y_train, epochs: int = 60, lr: float = 3e-3,
                     seed: int = 0) -> Classifier:
    """An MLP classifier trained with Adam and cross-entropy (weight decay 1e-4)."""
    torch.manual_seed(seed)
    model = Classifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    X = torch.as_tensor(X_train, dtype=torch.float32)
    y = torch.as_tensor(y_train, dtype=torch.long)
    for _ in range(epochs):
        for batch in torch.randperm(len(X)).split(64):
            loss = nn.functional.cross_entropy(model(X[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    return model


def state_to_arrays(module: nn.Module, prefix: str = "") -> dict:
    """A module's weights as ``{prefix + name: float32 array}`` (for ``coursekit.assets.save_weights``)."""
    return {prefix + name: tensor.detach().cpu().numpy().astype(np.float32)
            for name, tensor in module.state_dict().items()}


def arrays_to_state(module: nn.Module, arrays: dict, prefix: str = "") -> nn.Module:
    """Load weights saved by ``state_to_arrays`` into ``module`` (strict: every weight must be there)."""
    state = {name[len(prefix):]: torch.from_numpy(np.asarray(value)) for name, value in arrays.items()
             if name.startswith(prefix)}
    module.load_state_dict(state, strict=True)
    module.eval()
    return module
