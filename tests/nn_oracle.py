"""Helpers for the coursekit.nn tests: run the same computation in torch (float64)
and compare. Not a test module (no test_ prefix); imported by tests/test_nn_*.py."""

import numpy as np
import torch

from coursekit.gradcheck import rel_error

FORWARD_TOL = 1e-8
GRAD_TOL = 1e-7


def torch_forward_backward(fn, *inputs, dout=None, seed=0):
    """Evaluate ``fn(*tensors)`` in float64 torch and backpropagate ``dout``.

    inputs: NumPy arrays (float ones get requires_grad) or other values passed as-is.
    Returns ``(out, grads, dout)``: out as NumPy, one gradient per input (None for
    non-float inputs), and the dout used (random standard normal if not given).
    """
    tensors = []
    for x in inputs:
        if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating):
            tensors.append(torch.tensor(x, dtype=torch.float64, requires_grad=True))
        elif isinstance(x, np.ndarray):
            tensors.append(torch.tensor(x))
        else:
            tensors.append(x)
    out = fn(*tensors)
    if dout is None:
        dout = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    out.backward(torch.tensor(dout, dtype=torch.float64))
    grads = [t.grad.numpy() if isinstance(t, torch.Tensor) and t.requires_grad else None
             for t in tensors]
    return out.detach().numpy(), grads, dout


def assert_close(ours, theirs, tol, what):
    assert ours is not None and theirs is not None, f"{what}: missing value"
    assert np.shape(ours) == np.shape(theirs), f"{what}: shape {np.shape(ours)} vs {np.shape(theirs)}"
    err = rel_error(ours, theirs)
    assert err < tol, f"{what}: relative error {err:.3g} exceeds {tol:g}"


def check_against_torch(forward, backward, torch_fn, inputs, grad_indices=None):
    """Run our forward/backward pair and torch on the same inputs; assert agreement.

    forward(*inputs) -> (out, cache); backward(dout, cache) -> grad or tuple of grads
    in the order of ``inputs``. torch_fn(*tensors) -> tensor.
    grad_indices: which entries of ``inputs`` the returned gradients belong to
    (default: the first len(grads)).
    """
    expected, torch_grads, dout = torch_forward_backward(torch_fn, *inputs)
    out, cache = forward(*inputs)
    assert_close(out, expected, FORWARD_TOL, "forward")
    grads = backward(dout, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if grad_indices is not None:
        indices = list(grad_indices)
        assert len(grads) >= len(indices), (
            f"backward returned {len(grads)} gradients for the {len(indices)} inputs {indices}")
    else:
        indices = list(range(len(grads)))
        missing = [i for i, g in enumerate(torch_grads) if g is not None and i >= len(grads)]
        assert not missing, f"backward returned no gradient for float input(s) {missing}"
    for grad, index in zip(grads, indices):
        if grad is None and (index >= len(torch_grads) or torch_grads[index] is None):
            continue  # e.g. db when the layer was called without a bias
        assert_close(grad, torch_grads[index], GRAD_TOL, f"gradient of input {index}")
