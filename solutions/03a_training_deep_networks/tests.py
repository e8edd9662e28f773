"""Questions and tests of exercise set 03 (training deep networks, notebooks 03a and 03b).

Expected values are computed by `coursekit assign` from the reference solution in
03a_training_deep_networks.ipynb, except where a test names an explicit ``expected``:
those come from PyTorch (Adam, batch norm), an oracle independent of the reference.
Public tests are shown to students (`check("q1")`) and carry 5 % of each question's
points; hidden tests run in `coursekit grade`, on inputs and held-out digits drawn from
the instructor secret (`secret_rng`).
"""

import numpy as np
import torch

from coursekit.data import load_digits
from coursekit.grading import Question, accuracy, call, secret_rng
from coursekit.grading.heldout import perturb_images

rng = secret_rng("hidden")  # every hidden input below comes from the instructor secret
public_rng = np.random.default_rng(2026)  # public inputs only


def layer_stack(widths, std, rng=rng):
    """Weights (d_out, d_in) for consecutive widths, N(0, std^2)."""
    return [rng.normal(0, std, size=(n_out, n_in)) for n_in, n_out in zip(widths[:-1], widths[1:])]


def torch_adam(theta, gradients, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    """theta after len(gradients) steps of torch.optim.Adam fed these gradients (float64)."""
    parameter = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([parameter], lr=lr, betas=betas, eps=eps)
    for g in gradients:
        parameter.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
    return parameter.detach().numpy()


def torch_batchnorm(x, gamma, beta, running_mean, running_var, train, momentum=0.1, eps=1e-5):
    """(out, running_mean, running_var) of torch.nn.functional.batch_norm (float64)."""
    mean, var = torch.tensor(running_mean), torch.tensor(running_var)
    out = torch.nn.functional.batch_norm(torch.tensor(x), mean, var, torch.tensor(gamma),
                                         torch.tensor(beta), training=train, momentum=momentum,
                                         eps=eps)
    return out.numpy(), mean.numpy(), var.numpy()


def bn_inputs(n, d, train):
    return (rng.normal(2.0, 3.0, size=(n, d)), rng.normal(size=d), rng.normal(size=d),
            rng.normal(size=d), rng.uniform(0.5, 2.0, size=d), train)


adam_theta, adam_grads = rng.normal(size=5), rng.normal(size=(20, 5))
adam_theta_2, adam_grads_2 = rng.normal(size=(3,)), rng.normal(size=(7, 3)) * 100
bn_train = bn_inputs(16, 5, True)
bn_eval = bn_inputs(6, 3, False)
bn_pair = bn_inputs(2, 4, True)

n_short = int(rng.integers(5, 10))
short_schedule = (n_short, float(rng.uniform(0.1, 1.0)), n_short - 1)

# q7: the notebook holds only the 200 training images (20 per digit). Graded images are
# test digits shifted by up to one pixel in each direction, with pixel noise (std 0.05),
# drawn from the secret: they exist only in the grading bundle. Measured over 5 draws:
# the reference (shift augmentation, dropout, AdamW, label smoothing) 85-89 %; the
# unregularized MLP of 03b (64-256-256-10, Adam 1e-3, 100 epochs) 34-44 % (93 % on the
# unshifted test digits). Thresholds: 70 % half, 80 % full.
digits = load_digits(test_size=0.25, seed=0)
small = np.concatenate([np.flatnonzero(digits.y_train == k)[:20] for k in range(10)])
rest = np.setdiff1d(np.arange(len(digits.y_train)), small)
X_check = perturb_images(digits.X_train[rest[:300]], np.random.default_rng(3),
                         image_shape=(8, 8), max_shift=1, noise=0.05)   # public, for check
y_check = digits.y_train[rest[:300]]
X_heldout = perturb_images(digits.X_test, secret_rng("heldout"), image_shape=(8, 8),
                           max_shift=1, noise=0.05)
y_heldout = digits.y_test
Q7_THRESHOLDS = {0.70: 0.5, 0.80: 1.0}

QUESTIONS = [
    Question(
        "q1", points=2, title="Xavier and He initialization",
        public=[call("variance_scaling_std", 256, 128, "xavier"),
                call("variance_scaling_std", 256, 128, "he"),
                call("uniform_bound", 0.1),
                call("relu_forward_stds", layer_stack([8, 6, 4], 0.5, rng=public_rng),
                     public_rng.normal(size=(5, 8)))],
        hidden=[call("variance_scaling_std", int(rng.integers(300, 1000)), int(rng.integers(2, 20)),
                     "xavier"),
                call("variance_scaling_std", int(rng.integers(1, 5)), int(rng.integers(500, 2000)),
                     "he"),
                call("uniform_bound", float(rng.uniform(0.01, 0.1))),
                call("relu_forward_stds", layer_stack([64] * 6, np.sqrt(2 / 64)),
                     rng.normal(size=(100, 64)), weight=2, note="(six He-initialized layers)"),
                call("relu_forward_stds", layer_stack([10, 30, 5], 0.01), rng.normal(size=(7, 10)),
                     note="(tiny weights)")],
    ),
    Question(
        "q2", points=3, title="Focal loss and its gradient",
        public=[call("focal_loss", np.array([2.0, -1.0, 0.5]), np.array([1.0, 0.0, 0.0]))],
        hidden=[call("focal_loss", rng.normal(size=20) * 3, (rng.random(20) < 0.3) * 1.0,
                     weight=2),
                call("focal_loss", rng.normal(size=(4, 5)), (rng.random((4, 5)) < 0.5) * 1.0,
                     kwargs={"gamma": 0.5, "alpha": None}, note="(2-D, gamma 0.5, no alpha)"),
                call("focal_loss", rng.normal(size=8), (rng.random(8) < 0.5) * 1.0,
                     kwargs={"gamma": 0.0, "alpha": None}, note="(gamma 0: cross-entropy)"),
                call("focal_loss", np.r_[40.0, -40.0, 40.0, -40.0, rng.choice([-40.0, 40.0], 4)],
                     np.r_[1.0, 0.0, 0.0, 1.0, rng.integers(0, 2, 4)],
                     note="(logits of +-40)")],
    ),
    Question(
        "q3", points=3, title="Adam, step by step",
        public=[call("adam_steps", np.array([1.0, -2.0]),
                     np.array([[0.5, -1.0], [0.4, -0.5], [0.1, 2.0]]), kwargs={"lr": 0.1})],
        hidden=[call("adam_steps", adam_theta, adam_grads, kwargs={"lr": 0.01},
                     expected=torch_adam(adam_theta, adam_grads, lr=0.01), weight=2,
                     note="(20 steps, against torch.optim.Adam)"),
                call("adam_steps", adam_theta_2, adam_grads_2,
                     kwargs={"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6},
                     expected=torch_adam(adam_theta_2, adam_grads_2, lr=0.05, betas=(0.8, 0.99),
                                         eps=1e-6),
                     note="(other betas and eps, large gradients, against torch)")],
    ),
    Question(
        "q4", points=2, title="Warm-up and cosine decay",
        public=[call("warmup_cosine", 10, 0.1, 3)],
        hidden=[call("warmup_cosine", int(rng.integers(50, 150)), float(rng.uniform(0.1, 1.0)),
                     int(rng.integers(5, 20)), kwargs={"min_lr": 0.01}),
                call("warmup_cosine", int(rng.integers(10, 40)), float(rng.uniform(0.1, 1.0)), 0,
                     note="(no warm-up)"),
                call("warmup_cosine", *short_schedule, note="(warm-up nearly all steps)")],
    ),
    Question(
        "q5", points=3, title="Batch norm: training and evaluation mode",
        public=[call("batchnorm_forward", np.arange(12.0).reshape(4, 3), np.ones(3), np.zeros(3),
                     np.zeros(3), np.ones(3), True)],
        hidden=[call("batchnorm_forward", *bn_train, expected=torch_batchnorm(*bn_train), weight=2,
                     note="(training mode, against torch)"),
                call("batchnorm_forward", *bn_eval, expected=torch_batchnorm(*bn_eval),
                     note="(evaluation mode, against torch)"),
                call("batchnorm_forward", *bn_pair, kwargs={"momentum": 0.3},
                     note="(a batch of two, momentum 0.3)")],
    ),
    Question(
        "q6", points=2, title="Inverted dropout",
        public=[call("dropout_forward", np.arange(6.0).reshape(2, 3), 0.5,
                     np.array([[0.1, 0.6, 0.7], [0.4, 0.5, 0.9]]))],
        hidden=[call("dropout_forward", rng.normal(size=(5, 4)), 0.2, rng.random((5, 4))),
                call("dropout_forward", rng.normal(size=(3, 3)), 0.5, rng.random((3, 3)),
                     kwargs={"train": False}, note="(evaluation mode)"),
                call("dropout_forward", rng.normal(size=6), 0.0, rng.random(6), note="(p = 0)"),
                call("dropout_backward", rng.normal(size=(4, 4)), 0.3, rng.random((4, 4)))],
    ),
    Question(
        "q7", points=4, title="A regularized network on 200 digits",
        public=[accuracy("model", X_check, y_check, thresholds=Q7_THRESHOLDS,
                         note="(300 shifted, noisy validation digits)")],
        hidden=[accuracy("model", X_heldout, y_heldout, thresholds=Q7_THRESHOLDS, weight=3,
                         note="(held-out digits, shifted and noisy)")],
    ),
]
