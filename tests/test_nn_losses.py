"""Losses: values and gradients against torch.nn.functional (float64), or against
torch autograd of the written-out formula / numerical gradients where torch has none."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_oracle import FORWARD_TOL, GRAD_TOL, assert_close

from coursekit.gradcheck import numerical_gradient
from coursekit.nn import losses


def _torch_loss(fn, scores, *rest):
    s = torch.tensor(scores, requires_grad=True)
    loss = fn(s, *[torch.tensor(r) for r in rest])
    loss.backward()
    return loss.item(), s.grad.numpy()


def _check(ours, theirs):
    (loss, grad), (t_loss, t_grad) = ours, theirs
    assert abs(loss - t_loss) <= FORWARD_TOL * max(1.0, abs(t_loss)), (loss, t_loss)
    assert_close(grad, t_grad, GRAD_TOL, "dscores")


@pytest.mark.parametrize("shape", [(1,), (7,), (4, 3)])
def test_regression_losses_match_torch(shape):
    rng = np.random.default_rng(len(shape))
    pred, target = 2 * rng.standard_normal(shape), 2 * rng.standard_normal(shape)
    _check(losses.mse_loss(pred, target), _torch_loss(TF.mse_loss, pred, target))
    _check(losses.mae_loss(pred, target), _torch_loss(TF.l1_loss, pred, target))
    for delta in (1.0, 0.5):
        _check(losses.huber_loss(pred, target, delta),
               _torch_loss(lambda p, t, d=delta: TF.huber_loss(p, t, delta=d), pred, target))


@pytest.mark.parametrize("shape", [(5,), (3, 4)])
def test_binary_cross_entropy_matches_torch_and_is_stable(shape):
    rng = np.random.default_rng(3)
    logits = 5 * rng.standard_normal(shape)
    target = rng.uniform(size=shape)
    _check(losses.binary_cross_entropy(logits, target),
           _torch_loss(TF.binary_cross_entropy_with_logits, logits, target))
    big = np.array([1000.0, -1000.0])
    loss, grad = losses.binary_cross_entropy(big, np.array([0.0, 1.0]))
    assert np.isfinite(loss) and abs(loss - 1000.0) < 1e-9 and np.all(np.isfinite(grad))


def test_log_loss_equals_bce_with_pm1_labels():
    rng = np.random.default_rng(4)
    scores, y = 3 * rng.standard_normal(9), rng.choice([-1, 1], size=9)
    loss, grad = losses.log_loss(scores, y)
    bce, bce_grad = losses.binary_cross_entropy(scores, (y + 1) / 2.0)
    assert abs(loss - bce) < 1e-12
    np.testing.assert_allclose(grad, bce_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("n, c", [(1, 3), (6, 4), (5, 10)])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_softmax_cross_entropy_matches_torch(n, c, label_smoothing):
    rng = np.random.default_rng(n * c)
    scores, y = 3 * rng.standard_normal((n, c)), rng.integers(0, c, size=n)
    _check(losses.softmax_cross_entropy(scores, y, label_smoothing),
           _torch_loss(lambda s, t: TF.cross_entropy(s, t, label_smoothing=label_smoothing),
                       scores, y))


def test_softmax_cross_entropy_is_stable_for_huge_scores():
    loss, grad = losses.softmax_cross_entropy(np.array([[1000.0, 0.0, -1000.0]]), np.array([1]))
    assert abs(loss - 1000.0) < 1e-9 and np.all(np.isfinite(grad))


@pytest.mark.parametrize("n, c", [(1, 3), (6, 5)])
def test_multiclass_hinge_matches_torch_multi_margin_times_c(n, c):
    rng = np.random.default_rng(n + c)
    scores, y = rng.standard_normal((n, c)), rng.integers(0, c, size=n)
    t_loss, t_grad = _torch_loss(lambda s, t: TF.multi_margin_loss(s, t) * c, scores, y)
    _check(losses.hinge_loss(scores, y), (t_loss, t_grad))


def _binary_formula_cases():
    return {
        "hinge_loss": lambda m: torch.clamp(1 - m, min=0),
        "perceptron_loss": lambda m: torch.clamp(-m, min=0),
        "exponential_loss": lambda m: torch.exp(-m),
        "log_loss": lambda m: TF.softplus(-m),
    }


@pytest.mark.parametrize("name", ["hinge_loss", "perceptron_loss", "exponential_loss", "log_loss"])
def test_binary_margin_losses_match_torch_formula(name):
    rng = np.random.default_rng(7)
    scores, y = 2 * rng.standard_normal(11), rng.choice([-1, 1], size=11)
    formula = _binary_formula_cases()[name]
    _check(getattr(losses, name)(scores, y),
           _torch_loss(lambda s, t: formula(t * s).mean(), scores, y.astype(float)))


def test_multiclass_perceptron_against_numerical_gradient():
    rng = np.random.default_rng(8)
    scores, y = rng.standard_normal((5, 4)), rng.integers(0, 4, size=5)
    loss, grad = losses.perceptron_loss(scores, y)
    expected = np.mean(scores.max(axis=1) - scores[np.arange(5), y])
    assert abs(loss - expected) < 1e-14
    numeric = numerical_gradient(lambda s: losses.perceptron_loss(s, y)[0], scores.copy())
    assert_close(grad, numeric, 1e-7, "perceptron gradient")


def test_zero_one_loss_counts_errors_and_has_zero_gradient():
    loss, grad = losses.zero_one_loss(np.array([2.0, -1.0, 0.5, -0.1]), np.array([1, 1, -1, -1]))
    assert loss == 0.5 and np.all(grad == 0)
    scores = np.array([[0.1, 0.9, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
    loss, grad = losses.zero_one_loss(scores, np.array([1, 1, 2]))
    assert abs(loss - 1 / 3) < 1e-15 and grad.shape == scores.shape and np.all(grad == 0)


@pytest.mark.parametrize("gamma, alpha", [(2.0, 0.25), (0.0, None), (1.5, 0.6), (0.5, None)])
def test_focal_loss_matches_torch_formula(gamma, alpha):
    """torchvision's sigmoid_focal_loss, written out (no torchvision dependency)."""
    rng = np.random.default_rng(9)
    logits = 3 * rng.standard_normal((4, 3))
    target = (rng.uniform(size=(4, 3)) < 0.3).astype(float)

    def torch_focal(s, t):
        p = torch.sigmoid(s)
        ce = TF.binary_cross_entropy_with_logits(s, t, reduction="none")
        p_t = p * t + (1 - p) * (1 - t)
        loss = ce * (1 - p_t) ** gamma
        if alpha is not None:
            loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
        return loss.mean()

    _check(losses.focal_loss(logits, target, gamma, alpha), _torch_loss(torch_focal, logits, target))
    if gamma == 0.0 and alpha is None:  # reduces to binary cross-entropy
        bce = losses.binary_cross_entropy(logits, target)
        assert abs(losses.focal_loss(logits, target, 0.0, None)[0] - bce[0]) < 1e-14


def test_loss_input_errors():
    with pytest.raises(ValueError, match=r"target must have the shape of pred \(3,\), got shape \(4,\)"):
        losses.mse_loss(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match=r"y must be an integer array of shape \(2,\)"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"values in \{-1, \+1\}"):
        losses.hinge_loss(np.zeros(3), np.array([0, 1, 1]))
