"""A LeNet-5-style CNN built only from :mod:`coursekit.nn.functional` (NumPy only).

    conv 5x5 (1 -> 6, padding 2) - ReLU - max-pool 2
    conv 5x5 (6 -> 16)           - ReLU - max-pool 2
    linear (16 * s * s -> 120) - ReLU - linear (120 -> 84) - ReLU - linear (84 -> 10)

with s = ((image_size // 2) - 4) // 2 (5 for 28x28 inputs, 2 for 16x16). ReLU
and max-pooling replace LeCun's scaled tanh and subsampling. The forward pass
returns the caches, the backward pass walks them in reverse: this is the whole
of "backpropagation" for a CNN, written out once. Parameter names and layouts
match ``torch.nn.Conv2d`` / ``Linear`` so weights can be copied across.
"""

import numpy as np

from . import init
from .functional import (
    conv2d_backward,
    conv2d_forward,
    linear_backward,
    linear_forward,
    maxpool2d_backward,
    maxpool2d_forward,
    relu_backward,
    relu_forward,
)
from .losses import softmax_cross_entropy


class LeNet:
    """LeNet-style CNN for (N, 1, image_size, image_size) inputs.

    params: dict name -> array (conv1_w (6, 1, 5, 5), conv1_b (6,), conv2_w (16, 6, 5, 5),
    conv2_b, fc1_w (120, 16 s s), fc1_b, fc2_w (84, 120), fc2_b, fc3_w (C, 84), fc3_b),
    ready for an optimiser from :mod:`coursekit.nn.optim`.
    """

    def __init__(self, image_size=28, num_classes=10, rng=None, dtype=np.float64):
        side = (image_size // 2 - 4) // 2
        if side < 1:
            raise ValueError(f"image_size must be at least 12 for two conv/pool stages, "
                             f"got {image_size}")
        rng = np.random.default_rng(rng)
        shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 16 * side * side),
                  "fc2": (84, 120), "fc3": (num_classes, 84)}
        self.params = {}
        for name, shape in shapes.items():
            self.params[f"{name}_w"] = init.kaiming_normal(shape, rng=rng).astype(dtype)
            self.params[f"{name}_b"] = np.zeros(shape[0], dtype=dtype)
        self.image_size = image_size

    def forward(self, x):
        """x: (N, 1, H, W) -> ``(scores (N, num_classes), caches)``."""
        p = self.params
        caches = []
        h = x
        for conv, padding in (("conv1", 2), ("conv2", 0)):
            h, c_conv = conv2d_forward(h, p[f"{conv}_w"], p[f"{conv}_b"], padding=padding)
            h, c_relu = relu_forward(h)
            h, c_pool = maxpool2d_forward(h, 2)
            caches.append((c_conv, c_relu, c_pool))
        flat_shape = h.shape
        h = h.reshape(h.shape[0], -1)
        for fc in ("fc1", "fc2"):
            h, c_fc = linear_forward(h, p[f"{fc}_w"], p[f"{fc}_b"])
            h, c_relu = relu_forward(h)
            caches.append((c_fc, c_relu))
        scores, c_out = linear_forward(h, p["fc3_w"], p["fc3_b"])
        caches.append((c_out, flat_shape))
        return scores, caches

    def backward(self, dscores, caches):
        """Gradients of every parameter, a dict with the keys of ``params``."""
        grads = {}
        c_out, flat_shape = caches[4]
        dh, grads["fc3_w"], grads["fc3_b"] = linear_backward(dscores, c_out)
        for fc, (c_fc, c_relu) in zip(("fc2", "fc1"), (caches[3], caches[2])):
            dh, grads[f"{fc}_w"], grads[f"{fc}_b"] = linear_backward(relu_backward(dh, c_relu),
                                                                     c_fc)
        dh = dh.reshape(flat_shape)
        for conv, (c_conv, c_relu, c_pool) in zip(("conv2", "conv1"), (caches[1], caches[0])):
            dh = relu_backward(maxpool2d_backward(dh, c_pool), c_relu)
            dh, grads[f"{conv}_w"], grads[f"{conv}_b"] = conv2d_backward(dh, c_conv)
        return grads

    def loss_and_grads(self, x, y):
        """Softmax cross-entropy of a batch and the gradients of all parameters."""
        scores, caches = self.forward(x)
        loss, dscores = softmax_cross_entropy(scores, y)
        return loss, self.backward(dscores.astype(scores.dtype), caches)

    def train_step(self, x, y, optimizer):
        """One forward, backward and optimiser step; returns the batch loss."""
        loss, grads = self.loss_and_grads(x, y)
        optimizer.step(grads)
        return loss

    def predict(self, x, batch_size=256):
        """Class indices (N,) for inputs x (N, 1, H, W)."""
        return np.concatenate([self.forward(x[i:i + batch_size])[0].argmax(axis=1)
                               for i in range(0, len(x), batch_size)])
