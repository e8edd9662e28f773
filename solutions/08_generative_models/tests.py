"""Questions and tests of exercise set 08 (deep generative models, notebooks 08a and 08b).

Expected values are computed by `coursekit assign` from the reference solution, except where
a test names an explicit ``expected``: those come from torch (distributions, autograd), an
oracle independent of the reference. Hidden inputs and the held-out digits are drawn from the
instructor secret (``secret_rng``); public tests use fixed inputs.
"""

import numpy as np
import torch

from coursekit.data import load_digits
from coursekit.grading import Question, accuracy, call, secret_rng

public = np.random.default_rng(8)


def torch_kl(mean, log_var):
    q = torch.distributions.Normal(torch.tensor(mean), torch.tensor(np.exp(0.5 * log_var)))
    p = torch.distributions.Normal(torch.zeros_like(torch.tensor(mean)), torch.ones_like(torch.tensor(mean)))
    return torch.distributions.kl_divergence(q, p).sum(-1).numpy()


def torch_reparameterized_gradient(mean, log_var, eps):
    m = torch.tensor(mean, requires_grad=True)
    lv = torch.tensor(log_var, requires_grad=True)
    z = m + torch.exp(0.5 * lv) * torch.tensor(eps)
    grad_m, grad_lv = torch.autograd.grad((z**2).sum(1).mean(), (m, lv))
    return grad_m.numpy(), grad_lv.numpy()


def torch_elbo(x, p, mean, log_var):
    x, p = torch.tensor(x), torch.tensor(p)
    log_likelihood = -torch.nn.functional.binary_cross_entropy(p, x, reduction="none").sum(1)
    return log_likelihood.numpy() - torch_kl(mean, log_var)


def torch_alternating_step(w, b, theta, real, z, lr):
    w_t = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    b_t = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    real_t, z_t = torch.tensor(real), torch.tensor(z)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    real_logits, fake_logits = w_t * real_t + b_t, w_t * (z_t + theta) + b_t
    d_loss = bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))
    grad_w, grad_b = torch.autograd.grad(d_loss, (w_t, b_t))
    w_new, b_new = w - lr * grad_w.item(), b - lr * grad_b.item()
    theta_t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    logits = w_new * (z_t + theta_t) + b_new
    (grad_theta,) = torch.autograd.grad(bce(logits, torch.ones_like(logits)), theta_t)
    return w_new, b_new, theta - lr * grad_theta.item()


def inputs_q1(rng, n, d, scale=1.0):
    return rng.normal(size=(n, d)) * scale, rng.normal(size=(n, d)) * scale


def inputs_q3(rng, n, p, d):
    x = rng.random((n, p))
    return x, rng.uniform(0.02, 0.98, size=(n, p)), rng.normal(size=(n, d)), rng.normal(size=(n, d))


def inputs_q5(rng, n, m):
    return (float(rng.normal()), float(rng.normal()), float(rng.normal()), rng.normal(2.0, 0.5, size=n),
            rng.normal(size=m), float(rng.uniform(0.05, 0.5)))


q1 = secret_rng("q1")
q1_a, q1_b, q1_c = inputs_q1(q1, 7, 3), inputs_q1(q1, 1, 10, scale=3.0), inputs_q1(q1, 20, 1)
q2 = secret_rng("q2")
q2_a = (q2.normal(size=3), q2.normal(size=3), q2.normal(size=(50, 3)))
q2_b = (q2.normal(size=5) * 2, q2.normal(size=5) - 2, q2.normal(size=(1, 5)))
q3 = secret_rng("q3")
q3_a, q3_b = inputs_q3(q3, 6, 64, 4), inputs_q3(q3, 1, 10, 2)
q3_binary = list(inputs_q3(q3, 4, 16, 3))
q3_binary[0] = (q3_binary[0] > 0.5) * 1.0
q4 = secret_rng("q4")
q4_a = (q4.uniform(0.05, 0.95, size=30), q4.uniform(0.05, 0.95, size=20))
q4_b = (q4.uniform(0.9, 0.999, size=8), q4.uniform(0.001, 0.01, size=8))
q5 = secret_rng("q5")
q5_a, q5_b = inputs_q5(q5, 16, 16), inputs_q5(q5, 5, 9)

digits = load_digits(test_size=0.25, seed=0)
held_out = np.sort(secret_rng("heldout").choice(len(digits.X_test), size=300, replace=False))
X_heldout = digits.X_test[held_out].astype(np.float32)

QUESTIONS = [
    Question(
        "q1", points=2, title="The Gaussian KL in closed form",
        public=[call("gaussian_kl", np.array([[0.0, 1.0]]), np.array([[0.0, 0.0]]), weight=0.2)],
        hidden=[call("gaussian_kl", *q1_a, expected=torch_kl(*q1_a), weight=2, note="(n=7, d=3, against torch)"),
                call("gaussian_kl", *q1_b, expected=torch_kl(*q1_b), note="(one row, large log-variances)"),
                call("gaussian_kl", *q1_c, expected=torch_kl(*q1_c), note="(d=1)")],
    ),
    Question(
        "q2", points=3, title="A reparameterized sample and its gradient",
        public=[call("reparameterize", np.array([1.0, -1.0]), np.array([0.0, np.log(4.0)]),
                     np.array([[1.0, 1.0]]), weight=0.2)],
        hidden=[call("reparameterize", *q2_a, note="(50 samples)"),
                call("reparameterized_gradient", *q2_a, expected=torch_reparameterized_gradient(*q2_a), weight=2,
                     note="(against torch autograd)"),
                call("reparameterized_gradient", *q2_b, expected=torch_reparameterized_gradient(*q2_b),
                     note="(one sample, small variances)")],
    ),
    Question(
        "q3", points=3, title="The ELBO of given outputs",
        public=[call("elbo", np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]]), np.zeros((1, 1)), np.zeros((1, 1)),
                     weight=0.2)],
        hidden=[call("elbo", *q3_a, expected=torch_elbo(*q3_a), weight=2, note="(64 pixels, against torch)"),
                call("elbo", *q3_b, expected=torch_elbo(*q3_b), note="(one image)"),
                call("elbo", *q3_binary, expected=torch_elbo(*q3_binary), note="(binary pixels)")],
    ),
    Question(
        "q4", points=3, title="Discriminator and generator losses",
        public=[call("gan_losses", np.array([0.5, 0.5]), np.array([0.5]), weight=0.2)],
        hidden=[call("gan_losses", *q4_a, weight=2, note="(batches of different sizes)"),
                call("gan_losses", *q4_b, note="(a discriminator that wins: the saturating loss is flat)")],
    ),
    Question(
        "q5", points=3, title="One alternating training step",
        public=[call("alternating_step", 0.5, 0.0, 0.0, np.array([2.0, 2.0]), np.array([0.0, 0.0]), 0.1,
                     weight=0.2)],
        hidden=[call("alternating_step", *q5_a, expected=torch_alternating_step(*q5_a), weight=2,
                     note="(against torch autograd)"),
                call("alternating_step", *q5_b, expected=torch_alternating_step(*q5_b),
                     note="(batches of different sizes)")],
    ),
    Question(
        "q6", points=4, title="A VAE on the digits",
        # The judge (a read-only cell) encodes, samples z and decodes z alone (a copy of the decoder taken
        # before encoding, shuffled order), so an identity "VAE" returning (X, 0, 0) earns 0 here.
        # Share of the test split below 28 nats (seeds 0-2): untrained 0 %; 3 epochs 56-60 % (0 points);
        # 5 epochs 66-72 %; 10 epochs 80-82 %; the reference's 20 epochs 85-87 %.
        hidden=[accuracy("judge", X_heldout, np.ones(len(X_heldout), dtype=int), thresholds={0.7: 0.5, 0.8: 1.0},
                         note="(secret held-out digits)")],
    ),
]
