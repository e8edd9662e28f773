"""Loss functions. Each returns ``(loss, dscores)``.

``loss`` is a Python float averaged over the batch (torch's ``reduction="mean"``)
and ``dscores`` is the gradient of that average with respect to the scores,
shaped like the scores, ready to feed into the last layer's backward pass.

Two label conventions, as in the lectures:
- regression losses compare ``pred`` with a real-valued ``target`` of the same shape;
- margin losses for two classes take scores (N,) and labels y in {-1, +1}; the
  quantity that matters is the margin ``y * score`` (positive = correct side).
  Multi-class versions take scores (N, C) and integer labels y (N,) in [0, C).
"""

import numpy as np

from .functional._checks import as_float_array
from .functional.activations import sigmoid


def _check_same_shape(pred, target):
    pred = as_float_array("pred", pred)
    target = as_float_array("target", target)
    if pred.shape != target.shape:
        raise ValueError(
            f"target must have the shape of pred {pred.shape}, got shape {target.shape}"
        )
    return pred, target


def _check_labels(scores, y, binary_ok=True):
    """Validate (scores, y); returns (scores, y, is_binary)."""
    scores = as_float_array("scores", scores)
    y = np.asarray(y)
    if scores.ndim == 1 and binary_ok:
        if y.shape != scores.shape or not np.all(np.isin(y, (-1, 1))):
            hint = ""
            if y.shape == scores.shape and y.size and np.all(np.isin(y, (0, 1))):
                hint = "; labels in {0, 1}? a margin loss needs -1/+1: use 2*y - 1"
            raise ValueError(
                f"for scores of shape (N,) = {scores.shape}, y must have shape (N,) with "
                f"values in {{-1, +1}}; got shape {y.shape}, values {np.unique(y)[:5]}{hint}"
            )
        return scores, y.astype(scores.dtype), True
    if scores.ndim != 2:
        expected = "(N,) or (N, C)" if binary_ok else "(N, C)"
        raise ValueError(f"scores must have shape {expected}, got shape {scores.shape}")
    n, c = scores.shape
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        hint = ""
        if y.shape == (n, c):
            hint = "; one-hot labels? use y.argmax(axis=1)"
        elif y.shape == (n,) and np.all(np.mod(y, 1) == 0):
            hint = "; whole numbers stored as floats? use y.astype(int)"
        raise ValueError(
            f"y must be an integer array of shape ({n},) (one class index per row of "
            f"scores {scores.shape}); got shape {y.shape}, dtype {y.dtype}{hint}"
        )
    if n and (y.min() < 0 or y.max() >= c):
        raise ValueError(f"y must hold class indices in [0, {c}), got {y.min()}..{y.max()}")
    return scores, y, False


def mse_loss(pred, target):
    """Mean squared error ``mean((pred - target)**2)``; grows quadratically with outliers."""
    pred, target = _check_same_shape(pred, target)
    diff = pred - target
    return float(np.mean(diff**2)), 2.0 * diff / diff.size


def mae_loss(pred, target):
    """Mean absolute error ``mean(|pred - target|)``; robust to outliers, kink at 0
    (gradient ``sign``, 0 at the kink as in torch)."""
    pred, target = _check_same_shape(pred, target)
    diff = pred - target
    return float(np.mean(np.abs(diff))), np.sign(diff) / diff.size


def huber_loss(pred, target, delta=1.0):
    """Huber loss: quadratic ``0.5 d**2`` for ``|d| <= delta``, linear beyond
    (``delta * (|d| - delta/2)``); torch's ``huber_loss``."""
    pred, target = _check_same_shape(pred, target)
    if delta <= 0:
        raise ValueError(f"delta must be positive, got {delta!r}")
    d = pred - target
    small = np.abs(d) <= delta
    loss = np.where(small, 0.5 * d**2, delta * (np.abs(d) - 0.5 * delta))
    grad = np.where(small, d, delta * np.sign(d))
    return float(np.mean(loss)), grad / d.size


def zero_one_loss(scores, y):
    """Fraction of misclassified examples.

    Binary: scores (N,), y in {-1, +1}; a margin ``y * score <= 0`` counts as an error.
    Multi-class: scores (N, C), y (N,) integers; error when ``argmax(scores) != y``.
    The returned gradient is all zeros: the 0-1 loss is piecewise constant, so its
    derivative is 0 wherever it exists and undefined at the decision boundary.
    It tells gradient descent nothing -- that is why we train on surrogates
    (hinge, log, exponential loss) and only *report* the 0-1 loss.
    """
    scores, y, binary = _check_labels(scores, y)
    wrong = (y * scores <= 0) if binary else (scores.argmax(axis=1) != y)
    return float(np.mean(wrong)), np.zeros_like(scores)


def log_loss(scores, y):
    """Logistic loss ``mean(log(1 + exp(-y * score)))`` for y in {-1, +1}, scores (N,).

    The same quantity as :func:`binary_cross_entropy` with targets (y + 1) / 2;
    computed with ``logaddexp`` so large margins never overflow.
    """
    scores, y, binary = _check_labels(scores, y)
    if not binary:
        raise ValueError("log_loss takes binary scores (N,); use softmax_cross_entropy for (N, C)")
    margin = y * scores
    loss = np.logaddexp(0.0, -margin)
    # d/ds log(1 + exp(-y s)) = -y * sigmoid(-y s)
    return float(np.mean(loss)), -y * sigmoid(-margin) / scores.size


def binary_cross_entropy(logits, target):
    """Binary cross-entropy from logits (``torch.nn.functional.binary_cross_entropy_with_logits``).

    logits: any shape, real scores. target: same shape, probabilities in [0, 1].
    loss = mean(-t log sigmoid(s) - (1 - t) log(1 - sigmoid(s))), written as
    ``logaddexp(0, s) - t * s`` which is exact and never overflows.
    Gradient: ``(sigmoid(s) - t) / N``.
    """
    logits, target = _check_same_shape(logits, target)
    loss = np.logaddexp(0.0, logits) - target * logits
    return float(np.mean(loss)), (sigmoid(logits) - target) / logits.size


def hinge_loss(scores, y, margin=1.0):
    """Hinge loss (SVM).

    Binary: scores (N,), y in {-1, +1}: ``mean(max(0, margin - y * score))``.
    Multi-class SVM (Weston-Watkins, as in CS231n): scores (N, C), y (N,):
    ``mean_i sum_{j != y_i} max(0, scores[i, j] - scores[i, y_i] + margin)``.
    (torch's ``multi_margin_loss`` is this divided by C.)
    """
    scores, y, binary = _check_labels(scores, y)
    n = scores.shape[0]
    if binary:
        slack = margin - y * scores
        active = slack > 0
        return float(np.mean(np.where(active, slack, 0.0))), np.where(active, -y, 0.0) / n
    rows = np.arange(n)
    slack = scores - scores[rows, y][:, None] + margin
    slack[rows, y] = 0.0
    active = (slack > 0).astype(scores.dtype)
    dscores = active.copy()
    dscores[rows, y] = -active.sum(axis=1)
    return float(np.sum(slack * active) / n), dscores / n


def perceptron_loss(scores, y):
    """Perceptron loss: penalise only mistakes, with no margin.

    Binary: ``mean(max(0, -y * score))``; multi-class: ``mean(max_j s_j - s_y)``.
    Its gradient step is exactly the perceptron learning rule.
    """
    scores, y, binary = _check_labels(scores, y)
    n = scores.shape[0]
    if binary:
        wrong = -y * scores > 0
        return float(np.mean(np.where(wrong, -y * scores, 0.0))), np.where(wrong, -y, 0.0) / n
    rows = np.arange(n)
    best = scores.argmax(axis=1)
    loss = scores[rows, best] - scores[rows, y]
    dscores = np.zeros_like(scores)
    dscores[rows, best] += 1.0
    dscores[rows, y] -= 1.0
    return float(np.mean(loss)), dscores / n


def exponential_loss(scores, y):
    """Exponential loss ``mean(exp(-y * score))`` (AdaBoost's loss); y in {-1, +1}.

    Punishes confident mistakes exponentially, hence sensitive to label noise.
    """
    scores, y, binary = _check_labels(scores, y)
    if not binary:
        raise ValueError("exponential_loss takes binary scores (N,) with y in {-1, +1}")
    e = np.exp(-y * scores)
    return float(np.mean(e)), -y * e / scores.size


def _check_scores_2d(scores):
    scores = as_float_array("scores", scores)
    if scores.ndim != 2:
        hint = "; one row of C scores? use scores[None] (a batch of 1)" if scores.ndim == 1 else ""
        raise ValueError(f"scores must have shape (N, C) (2-D: one row per example), got shape "
                         f"{scores.shape}{hint}")
    return scores


def log_softmax(scores):
    """Row-wise ``log(softmax(scores))`` for scores (N, C), shifted by the max for stability."""
    scores = _check_scores_2d(scores)
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(scores):
    """Row-wise softmax of scores (N, C); rows sum to 1."""
    return np.exp(log_softmax(scores))


def softmax_cross_entropy(scores, y, label_smoothing=0.0):
    """Softmax cross-entropy (``torch.nn.functional.cross_entropy``).

    scores: (N, C) logits; y: (N,) integer labels in [0, C).
    label_smoothing eps: the target is ``(1 - eps) * onehot(y) + eps / C``.
    Gradient: ``(softmax(scores) - target) / N`` -- "p minus y".
    """
    scores, y, _ = _check_labels(scores, y, binary_ok=False)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
    n, c = scores.shape
    target = np.full_like(scores, label_smoothing / c)
    target[np.arange(n), y] += 1.0 - label_smoothing
    logp = log_softmax(scores)
    loss = -np.sum(target * logp) / n
    return float(loss), (np.exp(logp) - target) / n


def focal_loss(logits, target, gamma=2.0, alpha=0.25):
    """Binary focal loss from logits (Lin et al. 2017; torchvision's ``sigmoid_focal_loss``).

    logits, target: same shape, target in {0, 1}.
    ``FL = -alpha_t * (1 - p_t)**gamma * log(p_t)`` with ``p_t`` the probability of
    the true class. ``gamma`` down-weights easy, well-classified examples so rare
    classes count; ``gamma = 0, alpha = None`` gives binary cross-entropy.
    alpha: weight of the positive class in [0, 1], or None for no weighting.
    Returns the mean over all entries and its gradient.
    """
    logits, target = _check_same_shape(logits, target)
    p = sigmoid(logits)
    ce = np.logaddexp(0.0, logits) - target * logits  # -log(p_t)
    p_t = p * target + (1 - p) * (1 - target)
    modulating = (1.0 - p_t) ** gamma
    loss = ce * modulating
    # d ce / ds = p - t;  d p_t / ds = (2t - 1) p (1 - p)
    dp_t = (2 * target - 1) * p * (1 - p)
    if gamma == 0:
        dmod = np.zeros_like(p_t)
    else:
        dmod = -gamma * (1.0 - p_t) ** (gamma - 1) * dp_t
    grad = (p - target) * modulating + ce * dmod
    if alpha is not None:
        alpha_t = alpha * target + (1 - alpha) * (1 - target)
        loss, grad = alpha_t * loss, alpha_t * grad
    return float(np.mean(loss)), grad / logits.size
