"""Questions and tests of exercise set 01 (linear models).

Expected values are computed by `coursekit assign` from the reference solution in
01_linear_models.ipynb; only inputs are written here. Public tests are shown to
students (`check("q1")`); hidden tests are run by `coursekit grade` only.
"""

import numpy as np

from coursekit.data import make_classification_2d
from coursekit.grading import Question, accuracy, call, value

rng = np.random.default_rng(2024)


def regression(n, d, noise=0.1):
    X = rng.normal(size=(n, d))
    return X, X @ rng.normal(size=d) + noise * rng.normal(size=n)


def split_regression(n, d, noise):
    """(X_train, y_train, X_val, y_val): one linear model, split in halves."""
    X, y = regression(n, d, noise)
    return X[: n // 2], y[: n // 2], X[n // 2:], y[n // 2:]


def scores_and_labels(n, k, scale=1.0):
    return scale * rng.normal(size=(n, k)), rng.integers(0, k, size=n)


X_lsq_small, y_lsq_small = regression(6, 2)
X_heldout, y_heldout = make_classification_2d("moons", n_samples=400, noise=0.2, seed=11)

QUESTIONS = [
    Question(
        "q1", points=2, title="Closed-form least squares",
        public=[call("fit_least_squares", X_lsq_small, y_lsq_small)],
        hidden=[call("fit_least_squares", *regression(50, 4)),
                call("fit_least_squares", *regression(200, 8, noise=1.0), note="(n=200, d=8)")],
    ),
    Question(
        "q2", points=3, title="Sigmoid and log loss with gradient",
        public=[call("sigmoid", np.array([-2.0, 0.0, 3.0])),
                call("log_loss_and_gradient", np.array([0.5, -1.0]), *regression(5, 2)[:1],
                     np.array([1, 0, 1, 1, 0]))],
        hidden=[call("sigmoid", np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]),
                     note="(very large |z|)"),
                call("sigmoid", rng.normal(size=(3, 4)), note="(a 2-D array)"),
                call("log_loss_and_gradient", rng.normal(size=3), rng.normal(size=(40, 3)),
                     rng.integers(0, 2, size=40)),
                call("log_loss_and_gradient", np.array([30.0, -30.0]),
                     rng.normal(size=(10, 2)) * 10, rng.integers(0, 2, size=10),
                     rtol=1e-6, note="(large scores)")],
    ),
    Question(
        "q3", points=3, title="Multi-class hinge loss and softmax cross-entropy",
        public=[call("multiclass_hinge_loss", *scores_and_labels(4, 3)),
                call("softmax_cross_entropy", *scores_and_labels(4, 3))],
        hidden=[call("multiclass_hinge_loss", *scores_and_labels(30, 5)),
                call("multiclass_hinge_loss", *scores_and_labels(10, 4),
                     kwargs={"margin": 0.5}, note="(margin 0.5)"),
                call("softmax_cross_entropy", *scores_and_labels(30, 5)),
                call("softmax_cross_entropy", *scores_and_labels(8, 3, scale=1000.0),
                     note="(scores in the thousands)")],
    ),
    Question(
        "q4", points=4, title="L2-regularized logistic regression",
        public=[accuracy("model", *make_classification_2d("moons", n_samples=200, noise=0.2,
                                                           seed=2),
                         thresholds={0.80: 0.5, 0.85: 1.0}, note="(validation set)")],
        hidden=[accuracy("model", X_heldout, y_heldout, thresholds={0.80: 0.5, 0.85: 1.0},
                         weight=3, note="(held-out set)")],
    ),
    Question(
        "q5", points=3, title="Choosing lambda on a validation set",
        public=[call("fit_ridge", *regression(8, 3), 0.5)],
        hidden=[call("fit_ridge", *regression(30, 5), 2.0),
                call("choose_lambda", *split_regression(24, 8, noise=2.0),
                     [0.001, 0.1, 1.0, 3.0, 10.0, 100.0]),
                value("best_lambda")],
    ),
]
