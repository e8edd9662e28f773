"""Questions and tests of exercise set 01 (linear models).

Expected values are computed by `coursekit assign` from the reference solution in
01_linear_models.ipynb; only inputs are written here. Public tests are shown to
students (`check("q1")`) and carry 5 % of each question's points; hidden tests are run
by `coursekit grade` only, on inputs and held-out data drawn from the instructor secret
(`secret_rng`), so nobody can compute them from this public file.
"""

import numpy as np

from coursekit.data import make_classification_2d
from coursekit.grading import Question, accuracy, call, secret_rng, value

public_rng = np.random.default_rng(2024)  # public inputs only


def regression(rng, n, d, noise=0.1):
    X = rng.normal(size=(n, d))
    return X, X @ rng.normal(size=d) + noise * rng.normal(size=n)


def split_regression(rng, n, d, noise):
    """(X_train, y_train, X_val, y_val): one linear model, split in halves."""
    X, y = regression(rng, n, d, noise)
    return X[: n // 2], y[: n // 2], X[n // 2:], y[n // 2:]


def scores_and_labels(rng, n, k, scale=1.0):
    return scale * rng.normal(size=(n, k)), rng.integers(0, k, size=n)


def moons(rng, n):
    return make_classification_2d("moons", n_samples=n, noise=0.2, seed=int(rng.integers(2**31)))


# the lecture's worked example: one row of class scores (cat, car, frog) per image
LECTURE_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
LECTURE_LABELS = np.array([0, 1, 2])

q1, q2, q3, q4, q5 = (secret_rng(q) for q in ("q1", "q2", "q3", "q4", "q5"))
X_public_lr, y_public_lr = moons(np.random.default_rng(7), 20)
X_q4, y_q4 = moons(q4, 60)
# held-out moons for the accuracy test: a fresh draw seeded from the secret. Reference
# (lambda 1e-3, 2000 steps) over 200 draws of 1000 points: mean 87 %, never below 83 %;
# predicting one class scores 50 %. Thresholds 78 % (half) and 82 % (full).
X_heldout, y_heldout = moons(secret_rng("heldout"), 1000)

QUESTIONS = [
    Question(
        "q1", points=2, title="Closed-form least squares",
        public=[call("fit_least_squares", *regression(public_rng, 6, 2))],
        hidden=[call("fit_least_squares", *regression(q1, 50, 4)),
                call("fit_least_squares", *regression(q1, 200, 8, noise=1.0),
                     note="(n=200, d=8)")],
    ),
    Question(
        "q2", points=3, title="Sigmoid and log loss with gradient",
        public=[call("sigmoid", np.array([-2.0, 0.0, 3.0])),
                call("sigmoid", np.array([-1000.0, 1000.0]), warnings="error",
                     note="(|z| = 1000, no overflow warning)"),
                call("log_loss_and_gradient", np.array([0.5, -1.0]),
                     *regression(public_rng, 5, 2)[:1], np.array([1, 0, 1, 1, 0]))],
        hidden=[call("sigmoid", np.concatenate([[-1000.0, -50.0, 0.0, 50.0, 1000.0],
                                                q2.normal(size=5) * 800]),
                     warnings="error", weight=2, note="(very large |z|, no overflow warning)"),
                call("sigmoid", q2.normal(size=(3, 4)), warnings="error",
                     note="(a 2-D array)"),
                call("log_loss_and_gradient", q2.normal(size=3), q2.normal(size=(40, 3)),
                     q2.integers(0, 2, size=40)),
                call("log_loss_and_gradient", np.array([30.0, -30.0]),
                     q2.normal(size=(10, 2)) * 10, q2.integers(0, 2, size=10),
                     rtol=1e-6, note="(large scores)")],
    ),
    Question(
        "q3", points=3, title="Multi-class hinge loss and softmax cross-entropy",
        public=[call("multiclass_hinge_loss", LECTURE_SCORES, LECTURE_LABELS,
                     note="(the lecture's cat/car/frog scores)"),
                call("softmax_cross_entropy", LECTURE_SCORES, LECTURE_LABELS,
                     note="(the lecture's cat/car/frog scores)")],
        hidden=[call("multiclass_hinge_loss", *scores_and_labels(q3, 30, 5)),
                call("multiclass_hinge_loss", *scores_and_labels(q3, 10, 4),
                     kwargs={"margin": 0.5}, note="(margin 0.5)"),
                call("softmax_cross_entropy", *scores_and_labels(q3, 30, 5)),
                call("softmax_cross_entropy", *scores_and_labels(q3, 8, 3, scale=1000.0),
                     note="(scores in the thousands)")],
    ),
    Question(
        "q4", points=4, title="L2-regularized logistic regression",
        # the penalty is tested: (w, b) after given steps of gradient descent from zero,
        # against the reference, for given lambda (an unpenalized or differently
        # penalized fit, or any other classifier, fails these)
        public=[call("fit_logistic_regression", X_public_lr, y_public_lr,
                     kwargs={"lam": 0.5, "learning_rate": 0.5, "steps": 3},
                     note="(lambda 0.5, 3 steps)"),
                accuracy("model", *make_classification_2d("moons", n_samples=200, noise=0.2,
                                                           seed=2),
                         thresholds={0.78: 0.5, 0.82: 1.0}, note="(validation set)")],
        hidden=[call("fit_logistic_regression", X_q4, y_q4,
                     kwargs={"lam": 0.1, "learning_rate": 0.5, "steps": 200}, rtol=1e-6,
                     weight=2, note="(lambda 0.1, 200 steps)"),
                call("fit_logistic_regression", X_q4, y_q4,
                     kwargs={"lam": 2.0, "learning_rate": 0.2, "steps": 100}, rtol=1e-6,
                     note="(a strong penalty: lambda 2)"),
                call("fit_logistic_regression", X_q4, y_q4,
                     kwargs={"lam": 0.0, "learning_rate": 0.5, "steps": 50}, rtol=1e-6,
                     note="(lambda 0: no penalty)"),
                accuracy("model", X_heldout, y_heldout, thresholds={0.78: 0.5, 0.82: 1.0},
                         weight=2, note="(held-out moons)")],
    ),
    Question(
        "q5", points=3, title="Choosing lambda on a validation set",
        public=[call("fit_ridge", *regression(public_rng, 8, 3), 0.5)],
        hidden=[call("fit_ridge", *regression(q5, 30, 5), 2.0),
                # n=40, d=8, noise 1: over 300 draws the best lambda was never the last
                # one of the list (a constant "last lambda" answer must fail)
                call("choose_lambda", *split_regression(q5, 40, 8, noise=1.0),
                     [0.001, 0.1, 1.0, 3.0, 10.0, 100.0]),
                value("best_lambda")],
    ),
]
