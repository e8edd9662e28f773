# ruff: noqa
# cell: answer-3
# attacks: q3
# sys.exit at the top of the cell, and inside the tested functions.
import sys


def multiclass_hinge_loss(scores, y, margin=1.0):
    sys.exit(0)


def softmax_cross_entropy(scores, y):
    raise SystemExit(0)


sys.exit(0)
