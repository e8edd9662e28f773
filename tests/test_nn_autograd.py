"""The tiny autograd Tensor: values and gradients against torch for random expressions."""

import numpy as np
import pytest
import torch

from coursekit.gradcheck import rel_error
from coursekit.nn.autograd import MLP, Linear, Tensor


def _both(arrays):
    ours = [Tensor(a) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def _assert_same(ours_out, theirs_out, ours_in, theirs_in):
    assert rel_error(ours_out.data, theirs_out.detach().numpy()) < 1e-12
    for o, t in zip(ours_in, theirs_in):
        assert rel_error(o.grad, t.grad.numpy()) < 1e-10


def test_micrograd_example_by_hand():
    x, y, z = Tensor(-2.0), Tensor(5.0), Tensor(-4.0)
    f = (x + y) * z
    f.backward()
    assert (f.item(), x.grad.item(), y.grad.item(), z.grad.item()) == (-12.0, -4.0, -4.0, 3.0)


EXPRESSIONS = {
    "arith": lambda a, b, c: ((a * b + c) ** 2 - a / (b * b + 1.0)).sum(),
    "exp_log": lambda a, b, c: ((a * a + 1.0).log() * b.exp() - 3.0 * c).mean(),
    "activations": lambda a, b, c: (a.relu() * b.sigmoid() + c.tanh() * a).sum(),
    "broadcast": lambda a, b, c: ((a + b.sum(axis=0, keepdims=True)) * c.mean(axis=1, keepdims=True)).sum(),
    "reused_node": lambda a, b, c: (lambda h: (h * h + h).sum())(a * b - c),
    "rsub_rdiv": lambda a, b, c: ((2.0 - a) * (1.0 / (c * c + 2.0)) + b).sum(),
}


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
@pytest.mark.parametrize("seed", [0, 1])
def test_elementwise_expressions_match_torch(name, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((3, 4)) for _ in range(3)]
    ours, theirs = _both(arrays)
    out_ours, out_theirs = EXPRESSIONS[name](*ours), EXPRESSIONS[name](*theirs)
    out_ours.backward()
    out_theirs.backward()
    _assert_same(out_ours, out_theirs, ours, theirs)


@pytest.mark.parametrize("shapes", [((3, 4), (4, 2)), ((4,), (4, 3)), ((3, 4), (4,)),
                                    ((2, 3, 4), (4, 5))])
def test_matmul_with_reshape_and_bias_matches_torch(shapes):
    rng = np.random.default_rng(len(shapes[0]))
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    bias = rng.standard_normal(shapes[1][-1] if len(shapes[1]) > 1 else 1)
    ours, theirs = _both([a, b, bias])

    def expr(a, b, bias):
        return (((a @ b) + bias).reshape(-1) ** 3).sum()  # bias broadcasts over rows

    out_ours, out_theirs = expr(*ours), expr(*theirs)
    out_ours.backward()
    out_theirs.backward()
    _assert_same(out_ours, out_theirs, ours, theirs)


def test_transpose_and_non_scalar_backward():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 2))
    ours, theirs = _both([a])
    out_o, out_t = (ours[0].T * 2.0).exp(), (theirs[0].T * 2.0).exp()
    seed_grad = rng.standard_normal((2, 3))
    out_o.backward(seed_grad)
    out_t.backward(torch.tensor(seed_grad))
    _assert_same(out_o, out_t, ours, theirs)
    with pytest.raises(ValueError, match="single-element tensor"):
        Tensor(np.ones(3)).exp().backward()


def test_mlp_matches_torch_with_copied_weights():
    rng = np.random.default_rng(4)
    model = MLP([3, 5, 4, 2], activation="tanh", rng=0)
    torch_model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4),
                                      torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    torch_linears = [m for m in torch_model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for ours, theirs in zip(model.layers, torch_linears):
            theirs.weight.copy_(torch.tensor(ours.weight.data))
            theirs.bias.copy_(torch.tensor(ours.bias.data))
    x = rng.standard_normal((6, 3))
    loss = (model(x) ** 2).mean()
    torch_loss = (torch_model(torch.tensor(x)) ** 2).mean()
    loss.backward()
    torch_loss.backward()
    assert abs(loss.item() - torch_loss.item()) < 1e-12
    for ours, theirs in zip(model.layers, torch_linears):
        assert rel_error(ours.weight.grad, theirs.weight.grad.numpy()) < 1e-10
        assert rel_error(ours.bias.grad, theirs.bias.grad.numpy()) < 1e-10
    assert len(model.parameters()) == 6
    model.zero_grad()
    assert all(np.all(p.grad == 0) for p in model.parameters())


def test_mlp_learns_xor_with_gradient_descent():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    model = MLP([2, 8, 1], activation="tanh", rng=1)
    for _ in range(300):
        model.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.2 * p.grad
    assert loss.item() < 0.01


def test_linear_shape_error():
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\), got \(2, 4\)"):
        Linear(3, 2, rng=0)(np.zeros((2, 4)))
