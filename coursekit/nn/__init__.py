"""coursekit.nn: the from-scratch deep-learning reference, NumPy only (never imports torch).

Submodules: ``functional`` (forward/backward pairs), ``losses``, ``init``,
``optim``, ``schedules``, ``autograd`` (a tiny Tensor with ``.backward()``), and
``lenet`` (a LeNet-style CNN assembled from ``functional``, trained on digits),
``mlp`` (``PlaygroundModel``: an MLP classifier for 2-D points with its trainer) and
``detection`` (IoU, NMS, anchors, RoI pooling, mAP).
Layouts follow torch so any result can be checked against it by copying weights.
"""

from . import autograd, detection, functional, init, lenet, losses, mlp, optim, schedules

__all__ = ["autograd", "detection", "functional", "init", "lenet", "losses", "mlp", "optim",
           "schedules"]
