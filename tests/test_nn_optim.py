"""Optimisers: 50 steps against torch.optim on the same problem give the same
parameters to 1e-10; schedules against torch.optim.lr_scheduler."""

import math

import numpy as np
import pytest
import torch

from coursekit.gradcheck import rel_error
from coursekit.nn import optim, schedules

CASES = [
    ("SGD", "SGD", {"lr": 0.05}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    ("AdaGrad", "Adagrad", {"lr": 0.1}),
    ("AdaGrad", "Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.05,
                            "initial_accumulator_value": 0.1}),
    ("RMSprop", "RMSprop", {"lr": 0.01}),
    ("RMSprop", "RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.01}),
    ("AdaDelta", "Adadelta", {}),
    ("AdaDelta", "Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1}),
    ("Adam", "Adam", {"lr": 0.05}),
    ("Adam", "Adam", {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", "AdamW", {"lr": 0.05}),
    ("AdamW", "AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
]


def _gradient(p, curvature, xp):
    """Gradient of sum(curvature * p**2 / 2 + sin(3 p)): a non-trivial, deterministic field."""
    return curvature * p + 3 * xp.cos(3 * p)


@pytest.mark.parametrize("ours_name, torch_name, kwargs", CASES)
def test_optimizer_matches_torch_for_50_steps(ours_name, torch_name, kwargs):
    rng = np.random.default_rng(0)
    start = {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    curvature = {k: rng.uniform(0.1, 3.0, v.shape) for k, v in start.items()}
    params = {k: v.copy() for k, v in start.items()}
    opt = getattr(optim, ours_name)(params, **kwargs)
    torch_params = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    torch_opt = getattr(torch.optim, torch_name)(list(torch_params.values()), **kwargs)
    for _ in range(50):
        opt.step({k: _gradient(params[k], curvature[k], np) for k in params})
        for k, p in torch_params.items():
            p.grad = _gradient(p.detach(), torch.tensor(curvature[k]), torch)
        torch_opt.step()
    for k in params:
        assert rel_error(params[k], torch_params[k].detach().numpy()) < 1e-10, k
        assert not np.allclose(params[k], start[k])


def test_step_updates_in_place_and_skips_missing_grads():
    point = np.array([1.5, -0.5])
    other = np.array([3.0])
    opt = optim.SGD({"point": point, "other": other}, lr=0.1)
    opt.step({"point": 2 * point})  # gradient of |point|^2
    np.testing.assert_allclose(point, [1.2, -0.4])
    assert other[0] == 3.0


def test_adam_minimises_a_2d_quadratic():
    params = {"xy": np.array([2.0, -3.0])}
    opt = optim.Adam(params, lr=0.1)
    for _ in range(500):
        opt.step({"xy": np.array([2 * params["xy"][0], 20 * params["xy"][1]])})
    assert np.linalg.norm(params["xy"]) < 1e-2


def test_optimizer_input_errors():
    with pytest.raises(TypeError, match="params must be a non-empty dict"):
        optim.SGD([np.zeros(2)])
    with pytest.raises(TypeError, match=r"params\['w'\] must be a float numpy array"):
        optim.Adam({"w": [1.0, 2.0]})
    opt = optim.SGD({"w": np.zeros(2)}, lr=0.1)
    with pytest.raises(ValueError, match=r"grads\['w'\] must have the parameter's shape \(2,\), got \(3,\)"):
        opt.step({"w": np.zeros(3)})
    with pytest.raises(ValueError, match="grads has key 'v' that is not a parameter"):
        opt.step({"v": np.zeros(2)})
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD({"w": np.zeros(2)}, nesterov=True)


def _torch_lrs(make_scheduler, steps, lr=0.5):
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=lr)
    scheduler = make_scheduler(opt)
    values = []
    for _ in range(steps):
        values.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return np.array(values)


@pytest.mark.parametrize("ours, make_torch", [
    (schedules.StepDecay(0.5, step_size=7, gamma=0.3),
     lambda o: torch.optim.lr_scheduler.StepLR(o, 7, 0.3)),
    (schedules.ExponentialDecay(0.5, decay_rate=0.9),
     lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9)),
    (schedules.CosineAnnealing(0.5, total_steps=30, min_lr=0.01),
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 30, 0.01)),
    (schedules.CosineWarmRestarts(0.5, first_cycle=5, cycle_mult=2, min_lr=0.02),
     lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 5, 2, 0.02)),
    (schedules.LinearWarmup(0.5, warmup_steps=10, start_factor=0.25),
     lambda o: torch.optim.lr_scheduler.LinearLR(o, 0.25, 1.0, 10)),
])
def test_schedules_match_torch(ours, make_torch):
    expected = _torch_lrs(make_torch, 40)
    np.testing.assert_allclose(ours.values(40), expected, rtol=1e-10, atol=1e-12)


def test_decay_formulas():
    inv = schedules.InverseTimeDecay(1.0, decay_rate=0.5, decay_steps=10)
    assert inv(0) == 1.0 and abs(inv(20) - 0.5) < 1e-15
    nat = schedules.NaturalExpDecay(1.0, decay_rate=0.1)
    assert abs(nat(10) - math.exp(-1)) < 1e-15
    stair = schedules.ExponentialDecay(1.0, decay_rate=0.5, decay_steps=4, staircase=True)
    assert [stair(t) for t in (0, 3, 4, 9)] == [1.0, 1.0, 0.5, 0.25]
    warm = schedules.LinearWarmup(0.1, warmup_steps=5, after=schedules.StepDecay(0.1, 10, 0.5))
    assert abs(warm(5) - 0.1) < 1e-15 and abs(warm(15) - 0.05) < 1e-15
    with pytest.raises(ValueError, match="step must be >= 0"):
        inv(-1)


def test_schedule_drives_optimizer_lr():
    params = {"w": np.array([1.0])}
    opt = optim.SGD(params, lr=1.0)
    schedule = schedules.StepDecay(0.1, step_size=1, gamma=0.5)
    for t in range(3):
        opt.lr = schedule(t)
        opt.step({"w": np.array([1.0])})
    np.testing.assert_allclose(params["w"], [1.0 - 0.1 - 0.05 - 0.025])
