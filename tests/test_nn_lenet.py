"""The NumPy-only LeNet: its gradients equal torch's, and it learns digits to >= 97 %."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_oracle import GRAD_TOL, assert_close
from threadpoolctl import threadpool_limits

from benchmarks.bench_nn import train_lenet_on_digits
from coursekit.data import random_shift
from coursekit.nn.lenet import LeNet


def _torch_lenet_loss(params, x, y):
    h = TF.max_pool2d(TF.relu(TF.conv2d(x, params["conv1_w"], params["conv1_b"], padding=2)), 2)
    h = TF.max_pool2d(TF.relu(TF.conv2d(h, params["conv2_w"], params["conv2_b"])), 2)
    h = h.flatten(1)
    h = TF.relu(TF.linear(h, params["fc1_w"], params["fc1_b"]))
    h = TF.relu(TF.linear(h, params["fc2_w"], params["fc2_b"]))
    return TF.cross_entropy(TF.linear(h, params["fc3_w"], params["fc3_b"]), y)


@pytest.mark.parametrize("image_size", [16, 28])
def test_lenet_loss_and_gradients_match_torch(image_size):
    rng = np.random.default_rng(image_size)
    model = LeNet(image_size=image_size, rng=0)
    for name in model.params:  # non-zero biases so their gradients are exercised too
        if name.endswith("_b"):
            model.params[name] += 0.1 * rng.standard_normal(model.params[name].shape)
    x, y = rng.standard_normal((3, 1, image_size, image_size)), rng.integers(0, 10, size=3)
    loss, grads = model.loss_and_grads(x, y)
    torch_params = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    torch_loss = _torch_lenet_loss(torch_params, torch.tensor(x), torch.tensor(y))
    torch_loss.backward()
    assert abs(loss - torch_loss.item()) < 1e-10
    assert sorted(grads) == sorted(model.params)
    for name, grad in grads.items():
        assert_close(grad, torch_params[name].grad.numpy(), GRAD_TOL, name)


def test_random_shift_moves_whole_images():
    images = np.arange(2 * 1 * 4 * 5, dtype=float).reshape(2, 1, 4, 5) + 1
    shifted = random_shift(images, 1, np.random.default_rng(0))
    assert shifted.shape == images.shape
    for original, moved in zip(images[:, 0], shifted[:, 0]):
        # every non-zero pixel of the shifted image is the original one offset by (dy, dx)
        offsets = {(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                   if np.array_equal(np.roll(np.roll(np.pad(original, 1), dy, 0), dx, 1)[1:-1, 1:-1],
                                     moved)}
        assert len(offsets) == 1


def test_lenet_input_size_error():
    with pytest.raises(ValueError, match="image_size must be at least 12"):
        LeNet(image_size=8)


@pytest.mark.slow
def test_numpy_lenet_reaches_97_percent_on_digits():
    # One BLAS thread: on a shared CI machine, multi-threaded small matrix products
    # slow down by 10x or more when the cores are busy.
    with threadpool_limits(1):
        model, accuracy, losses = train_lenet_on_digits(seed=0)
    assert accuracy >= 0.97, accuracy
    assert losses[-1] < 0.5 * losses[0]
