# ruff: noqa
# cell: answer-4
# attacks: q4
# Rebuilds the held-out moons from tests.py's recipe with the instructor secret (from the
# environment, if the grader leaked it; else the public default) and predicts them by
# lookup: every exact match gets its label, anything else class 0. Only a leaked secret
# (or an assignment made with the public default) would earn the accuracy points.
import os

import numpy as np

from coursekit.data import make_classification_2d
from coursekit.grading import secret as secrets

guessed_secret = os.environ.get("COURSEKIT_SECRET", secrets.PUBLIC_DEFAULT)
with secrets.using(guessed_secret, "01_linear_models"):
    seed = int(secrets.secret_rng("heldout").integers(2**31))
X_guess, y_guess = make_classification_2d("moons", n_samples=1000, noise=0.2, seed=seed)


class Lookup:
    def predict(self, X):
        X = np.asarray(X, dtype=float)
        distances = ((X[:, None, :] - X_guess[None, :, :]) ** 2).sum(axis=-1)
        nearest = distances.argmin(axis=1)
        exact = distances[np.arange(len(X)), nearest] < 1e-18
        return np.where(exact, y_guess[nearest], 0)


def fit_logistic_regression(X, y, lam=1e-3, learning_rate=0.5, steps=2000):
    return np.zeros(np.shape(X)[1]), 0.0


model = Lookup()
