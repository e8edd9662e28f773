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
            dh, grads[f"{fc}_w"], grads[f"{fc}_b"] = linear_backward(relu_backward(dh, c_relu), c_fc)
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


def random_shift(images, max_shift, rng):
    """Translate each image (N, C, H, W) by its own random offset of up to
    ``max_shift`` pixels in each direction, filling with zeros (data augmentation:
    a shifted digit is the same digit, so the net learns translation invariance)."""
    n, _, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, n))
    rows = dy[:, None] + np.arange(h)  # (N, H) source rows per image
    cols = dx[:, None] + np.arange(w)
    return padded[np.arange(n)[:, None, None, None], np.arange(images.shape[1])[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def shift_images(images, dy, dx):
    """Translate every image (N, C, H, W) by ``dy`` rows down and ``dx`` columns right
    (negative: up / left), filling with zeros; what leaves the frame is lost.
    ``dy`` and ``dx`` are ints or arrays (N,) of per-image offsets."""
    images = np.asarray(images)
    n, _, h, w = images.shape
    dy = np.broadcast_to(np.asarray(dy, dtype=int), (n,))
    dx = np.broadcast_to(np.asarray(dx, dtype=int), (n,))
    if np.abs(dy).max(initial=0) >= h or np.abs(dx).max(initial=0) >= w:
        raise ValueError(f"shifts must be smaller than the image size {(h, w)}, got up to "
                         f"{int(np.abs(dy).max(initial=0))} rows and {int(np.abs(dx).max(initial=0))} columns")
    m = max(h, w)
    padded = np.pad(images, ((0, 0), (0, 0), (m, m), (m, m)))
    rows = (m - dy)[:, None] + np.arange(h)  # source row of each output row
    cols = (m - dx)[:, None] + np.arange(w)
    return padded[np.arange(n)[:, None, None, None], np.arange(images.shape[1])[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def train_lenet_on_digits(epochs=15, batch_size=32, lr=3e-3, image_size=16, max_shift=1, seed=0):
    """Train :class:`LeNet` with Adam and a cosine learning-rate schedule on
    scikit-learn's digits (via ``coursekit.data``, 25 % held out for testing), with
    random shifts of up to ``max_shift`` pixels as augmentation (0 turns it off).

    Returns ``(model, test_accuracy, losses)`` where losses lists the mean training
    loss of every epoch. With the defaults: about 98-99 % test accuracy.
    """
    from ..data import load_digits
    from .optim import Adam
    from .schedules import CosineAnnealing

    split = load_digits(image_size=image_size, seed=seed)
    x_train, y_train = split.X_train.astype(np.float64), split.y_train
    model = LeNet(image_size=image_size, rng=seed)
    optimizer = Adam(model.params, lr=lr)
    schedule = CosineAnnealing(lr, total_steps=epochs)
    rng = np.random.default_rng(seed)
    epoch_losses = []
    for epoch in range(epochs):
        optimizer.lr = schedule(epoch)
        order = rng.permutation(len(x_train))
        batch_losses = []
        for idx in np.array_split(order, max(1, len(order) // batch_size)):
            x_batch = random_shift(x_train[idx], max_shift, rng) if max_shift else x_train[idx]
            batch_losses.append(model.train_step(x_batch, y_train[idx], optimizer))
        epoch_losses.append(float(np.mean(batch_losses)))
    accuracy = float(np.mean(model.predict(split.X_test.astype(np.float64)) == split.y_test))
    return model, accuracy, epoch_losses
