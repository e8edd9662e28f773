# ruff: noqa
# cell: answer-3
# attacks: q3
# The cell itself finishes, but the functions never return: each test is stopped alone
# after the time limit (the feedback names the function), without running the notebook again.
def multiclass_hinge_loss(scores, y, margin=1.0):
    while True:
        pass


def softmax_cross_entropy(scores, y):
    while True:
        pass
