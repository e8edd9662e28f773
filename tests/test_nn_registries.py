"""The one registry of activations and the one of optimizers, and the views that use them."""

import numpy as np
import pytest

from coursekit.nn import functional as F
from coursekit.nn import init, optim


def test_every_activation_viewer_takes_its_names_from_the_registry():
    from coursekit.viz import activations, gradient_flow, playground

    for names in (activations.ACTIVATIONS, gradient_flow.ACTIVATIONS, playground.ACTIVATIONS):
        assert set(names) <= set(F.ACTIVATIONS)
        assert list(names) == [n for n in F.ACTIVATIONS if n in names]  # teaching order


@pytest.mark.parametrize("name", F.activation_names("elementwise", "identity"))
def test_registry_pairs_are_a_forward_and_its_derivative(name):
    act = F.ACTIVATIONS[name]
    x = np.linspace(-2.1, 2.3, 7)
    out, cache = act.forward(x)
    eps = 1e-6
    numeric = (act.forward(x + eps)[0] - act.forward(x - eps)[0]) / (2 * eps)
    assert np.allclose(act.backward(np.ones_like(x), cache), numeric, atol=1e-6)


def test_gains_match_the_old_per_module_mappings():
    expected = {"sigmoid": 1.0, "tanh": 5 / 3, "relu": 2**0.5, "leaky_relu": init.calculate_gain("leaky_relu"),
                "elu": 2**0.5, "gelu": 2**0.5, "linear": 1.0}
    for name, gain in expected.items():
        assert F.activation_gain(name) == pytest.approx(gain)


def test_unknown_activation_names_the_allowed_ones():
    with pytest.raises(ValueError, match=r"activation must be one of .*'relu'.*got 'swish'"):
        F.get_activation("swish")


def test_gd_and_sgd_are_one_optimizer():
    assert optim.resolve_optimizer("GD") == optim.resolve_optimizer("SGD") == "SGD"
    for name in ("GD", "SGD"):
        assert type(optim.make_optimizer(name, {"w": np.zeros(2)}, lr=0.1)) is optim.SGD


def test_rmsprop_default_decay_is_torchs():
    opt = optim.make_optimizer("RMSprop", {"w": np.zeros(2)}, lr=0.1)
    assert opt.alpha == 0.99


def test_wrong_case_optimizer_gets_the_right_spelling():
    with pytest.raises(ValueError, match=r"got 'adam'; did you mean 'Adam'"):
        optim.resolve_optimizer("adam")


def test_race_and_playground_accept_both_spellings():
    from coursekit.viz.optimizers import optimizer_path
    from coursekit.viz.playground import playground_model

    gd, _, _ = optimizer_path("quadratic", "GD", steps=5)
    sgd, _, _ = optimizer_path("quadratic", "SGD", steps=5)
    assert np.array_equal(gd, sgd)
    assert playground_model(optimizer="GD", n_samples=40).config.optimizer == "SGD"
