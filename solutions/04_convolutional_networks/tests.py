"""Questions and tests of exercise set 04 (convolutional neural networks).

Expected values are computed by `coursekit assign` from the reference solution, except
where a test names an explicit ``expected``: those come from an oracle that shares no code
with the reference (torch's conv2d, max_pool2d's autograd and parameter counts,
scipy.signal). Every hidden input and the held-out digits of q7 are drawn from the
instructor secret (``secret_rng``); public tests use fixed inputs.
"""

import numpy as np
import torch
from scipy import signal

from coursekit.data import load_digits
from coursekit.grading import Question, accuracy, call, raises, secret_rng
from coursekit.grading.heldout import perturb_images

public_rng = np.random.default_rng(404)


# ------------------------------------------------------------------ oracles
def torch_conv2d(x, w, b, stride=1, padding=0):
    return torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=stride,
                                      padding=padding).numpy()


def torch_maxpool_backward(dout, x, kernel_size=2, stride=2):
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, kernel_size, stride=stride).backward(torch.tensor(dout))
    return xt.grad.numpy()


def torch_conv_parameters(c_in, c_out, k, bias=True):
    return sum(p.numel() for p in torch.nn.Conv2d(c_in, c_out, k, bias=bias).parameters())


def torch_linear_parameters(n_in, n_out, bias=True):
    return sum(p.numel() for p in torch.nn.Linear(n_in, n_out, bias=bias).parameters())


def pool_inputs(rng, shape, kernel_size, stride, ties=False):
    x = rng.integers(0, 3, size=shape).astype(float) if ties else rng.normal(size=shape)
    out = (shape[2] - kernel_size) // stride + 1, (shape[3] - kernel_size) // stride + 1
    return rng.normal(size=shape[:2] + out), x


# ------------------------------------------------------------------ q1
q1 = secret_rng("q1")
q1_cases = []
for _ in range(4):
    k, d = int(q1.integers(1, 8)), int(q1.integers(1, 4))
    n = int(q1.integers(d * (k - 1) + 1, 300))
    q1_cases.append((n, k, int(q1.integers(0, 4)), int(q1.integers(1, 5)), d))

# ------------------------------------------------------------------ q2
q2 = secret_rng("q2")
q2_cases = [(q2.normal(size=(int(q2.integers(5, 12)), int(q2.integers(5, 12)))),
             q2.normal(size=(int(q2.integers(1, 5)), int(q2.integers(1, 5))))) for _ in range(3)]

# ------------------------------------------------------------------ q3
q3 = secret_rng("q3")
q3_batch = (q3.normal(size=(3, 4, 11, 9)), q3.normal(size=(5, 4, 3, 2)), q3.normal(size=5))
q3_stride = (q3.normal(size=(2, 3, 12, 12)), q3.normal(size=(6, 3, 5, 5)), q3.normal(size=6))
q3_one = (q3.normal(size=(1, 8, 6, 7)), q3.normal(size=(2, 8, 1, 1)), q3.normal(size=2))

# ------------------------------------------------------------------ q4
q4 = secret_rng("q4")
q4_plain = pool_inputs(q4, (2, 3, 6, 8), 2, 2)
q4_overlap = pool_inputs(q4, (1, 2, 7, 7), 3, 1)
q4_ties = pool_inputs(q4, (2, 2, 6, 6), 2, 2, ties=True)
q4_odd = pool_inputs(q4, (1, 1, 7, 9), 3, 2)

# ------------------------------------------------------------------ q5
q5 = secret_rng("q5")
q5_stack = [(int(q5.integers(1, 6)), int(q5.integers(1, 3)), int(q5.integers(1, 3))) for _ in range(6)]

# ------------------------------------------------------------------ q6
q6 = secret_rng("q6")
q6_conv = (int(q6.integers(1, 64)), int(q6.integers(1, 128)), int(q6.integers(1, 8)))
q6_linear = (int(q6.integers(10, 1000)), int(q6.integers(1, 500)))

# ------------------------------------------------------------------ q7
digits = load_digits(test_size=0.25, seed=0, image_size=8)
X_heldout = perturb_images(digits.X_test, secret_rng("heldout"), max_shift=1, noise=0.05).astype(np.float32)
X_public = perturb_images(digits.X_train[:300], np.random.default_rng(7), max_shift=1,
                          noise=0.05).astype(np.float32)

QUESTIONS = [
    Question(
        "q1", points=2, title="Output size of a convolution",
        public=[call("conv_output_size", 32, 5), call("conv_output_size", 7, 3, kwargs={"stride": 2}),
                raises("conv_output_size", 3, 5)],
        hidden=[*(call("conv_output_size", n, k, kwargs={"padding": p, "stride": s, "dilation": d},
                       note="(random n, k, p, s, d)") for n, k, p, s, d in q1_cases),
                call("conv_output_size", 8, 3, kwargs={"padding": 1, "stride": 2}, note="(floor)"),
                call("conv_output_size", 10, 3, kwargs={"dilation": 3}, note="(dilation)"),
                call("conv_output_size", 5, 7, kwargs={"padding": 1}, note="(kernel exactly fits)"),
                raises("conv_output_size", 5, 3, kwargs={"dilation": 3}, note="(dilated kernel too large)"),
                raises("conv_output_size", 10, 3, kwargs={"stride": 0}, note="(stride 0)"),
                raises("conv_output_size", 10, 3, kwargs={"padding": -1}, note="(negative padding)"),
                raises("conv_output_size", 10, 0, note="(kernel size 0)"),
                raises("conv_output_size", 10, 3, kwargs={"dilation": 0}, note="(dilation 0)"),
                raises("conv_output_size", 10.5, 3, note="(not an integer)"),
                raises("conv_output_size", 10, 3, kwargs={"stride": True}, note="(a bool)")],
    ),
    Question(
        "q2", points=2, title="Cross-correlation and convolution",
        public=[call("cross_correlate2d", np.arange(16.0).reshape(4, 4), np.array([[1.0, 2.0], [0.0, -1.0]])),
                call("convolve2d", np.arange(16.0).reshape(4, 4), np.array([[1.0, 2.0], [0.0, -1.0]]))],
        hidden=[*(call("cross_correlate2d", x, w, expected=signal.correlate2d(x, w, mode="valid"),
                       note="(random, against scipy)") for x, w in q2_cases),
                *(call("convolve2d", x, w, expected=signal.convolve2d(x, w, mode="valid"),
                       note="(random, against scipy)") for x, w in q2_cases)],
    ),
    Question(
        "q3", points=3, title="A vectorized multi-channel convolution",
        public=[call("conv2d_forward", public_rng.normal(size=(1, 2, 4, 4)), public_rng.normal(size=(3, 2, 3, 3)),
                     np.array([0.0, 1.0, -1.0]))],
        hidden=[call("conv2d_forward", *q3_batch, expected=torch_conv2d(*q3_batch), weight=2,
                     note="(batch, 4 channels, 3x2 kernels, against torch)"),
                call("conv2d_forward", *q3_stride, kwargs={"stride": 2, "padding": 2},
                     expected=torch_conv2d(*q3_stride, stride=2, padding=2), weight=2,
                     note="(stride 2, padding 2, against torch)"),
                call("conv2d_forward", *q3_one, kwargs={"stride": 3},
                     expected=torch_conv2d(*q3_one, stride=3), note="(1x1 kernel, stride 3, against torch)")],
    ),
    Question(
        "q4", points=3, title="The backward pass of max pooling",
        public=[call("maxpool2d_backward", np.array([[[[1.0, 2.0], [3.0, 4.0]]]]),
                     np.array([[[[1, 3, 2, 1], [4, 2, 0, 1], [5, 6, 1, 2], [0, 1, 8, 3]]]], dtype=float))],
        hidden=[call("maxpool2d_backward", *q4_plain, expected=torch_maxpool_backward(*q4_plain),
                     note="(2x2, stride 2, against torch)"),
                call("maxpool2d_backward", *q4_overlap, kwargs={"kernel_size": 3, "stride": 1},
                     expected=torch_maxpool_backward(*q4_overlap, 3, 1), weight=2,
                     note="(overlapping 3x3 windows, against torch)"),
                call("maxpool2d_backward", *q4_ties, expected=torch_maxpool_backward(*q4_ties), weight=2,
                     note="(ties, against torch)"),
                call("maxpool2d_backward", *q4_odd, kwargs={"kernel_size": 3, "stride": 2},
                     expected=torch_maxpool_backward(*q4_odd, 3, 2), note="(3x3 stride 2, odd sizes)")],
    ),
    Question(
        "q5", points=2, title="Receptive field of a stack",
        public=[call("receptive_field", [(3, 1, 1), (3, 1, 1)])],
        hidden=[call("receptive_field", [(3, 1, 1)] * 3, expected=[3, 5, 7], note="(three 3x3)"),
                call("receptive_field", [(5, 1, 1), (2, 2, 1), (5, 1, 1), (2, 2, 1)],
                     expected=[5, 6, 14, 16], note="(LeNet's convolutions and poolings)"),
                call("receptive_field", [(3, 2, 1), (3, 2, 1), (3, 1, 2)], expected=[3, 7, 23],
                     note="(strides, then dilation)"),
                call("receptive_field", q5_stack, note="(random stack)", weight=2)],
    ),
    Question(
        "q6", points=2, title="Parameters of convolutional and dense layers",
        public=[call("conv2d_parameters", 3, 64, 3), call("linear_parameters", 400, 120)],
        hidden=[call("conv2d_parameters", *q6_conv, expected=torch_conv_parameters(*q6_conv),
                     note="(against torch)"),
                call("conv2d_parameters", 16, 8, (3, 5), expected=torch_conv_parameters(16, 8, (3, 5)),
                     note="(non-square kernel)"),
                call("conv2d_parameters", 64, 32, 1, kwargs={"bias": False},
                     expected=torch_conv_parameters(64, 32, 1, bias=False), note="(1x1, no bias)"),
                call("linear_parameters", *q6_linear, expected=torch_linear_parameters(*q6_linear),
                     note="(against torch)"),
                call("linear_parameters", 84, 10, kwargs={"bias": False}, expected=840, note="(no bias)"),
                call("dense_vs_conv", 32, 32, 3, 500, 64, 5,
                     expected=(torch_linear_parameters(3072, 500), torch_conv_parameters(3, 64, 5)),
                     note="(colour image)")],
    ),
    Question(
        "q7", points=4, title="A small CNN that copes with shifted digits",
        # untuned baselines on these shifted held-out digits: logistic regression ~0.41, MLP
        # 64-128-10 ~0.44; the reference CNN with random shifts ~0.94 (three secrets: 0.940-0.953)
        public=[accuracy("model", X_public, digits.y_train[:300], thresholds={0.85: 0.5, 0.92: 1.0},
                         note="(shifted training images)")],
        hidden=[accuracy("model", X_heldout, digits.y_test, thresholds={0.85: 0.5, 0.92: 1.0}, weight=3,
                         note="(shifted held-out digits)")],
    ),
]
