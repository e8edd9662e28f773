"""coursekit.nn: the from-scratch deep-learning reference, NumPy only (never imports torch).

Submodules: ``functional`` (forward/backward pairs), ``losses``, ``init``,
``optim``, ``schedules``, ``autograd`` (a tiny Tensor with ``.backward()``), and
``lenet`` (a LeNet-style CNN assembled from ``functional``, trained on digits).
Layouts follow torch so any result can be checked against it by copying weights.
"""

from . import autograd, functional, init, lenet, losses, optim, schedules

__all__ = ["autograd", "functional", "init", "lenet", "losses", "optim", "schedules"]
