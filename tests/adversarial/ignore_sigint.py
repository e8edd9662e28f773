# ruff: noqa
# cell: answer-3
# attacks: q3
# The tested functions ignore SIGINT and SIGTERM and loop forever (question-time hang).
import signal


def multiclass_hinge_loss(scores, y, margin=1.0):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        pass


softmax_cross_entropy = multiclass_hinge_loss
