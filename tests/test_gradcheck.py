"""coursekit.gradcheck: numerical gradients, relative error, layer checks."""

import numpy as np
import pytest

from coursekit.gradcheck import check_layer, numerical_gradient, rel_error
from coursekit.nn import functional as F


def test_numerical_gradient_of_known_functions():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numerical_gradient(lambda v: np.sum(v**3), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8)
    np.testing.assert_array_equal(x, [[1.0, -2.0], [0.5, 3.0]])  # restored
    dout = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(numerical_gradient(np.sin, x, dout=dout), np.cos(x) * dout, rtol=1e-8)


def test_rel_error_definition():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert abs(rel_error(np.array([100.0, 0.0]), np.array([100.0, 1e-6])) - 1e-8) < 1e-20
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(2), np.zeros(3))


def test_check_layer_accepts_correct_and_flags_wrong_backward():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 4)), rng.standard_normal(2)
    errors = check_layer(F.linear_forward, F.linear_backward, x, w, b)
    assert len(errors) == 3 and max(errors) < 1e-8

    def wrong_backward(dout, cache):
        dx, dw, db = F.linear_backward(dout, cache)
        return dx, 2 * dw, db

    errors = check_layer(F.linear_forward, wrong_backward, x, w, b)
    assert errors[0] < 1e-8 and errors[1] > 0.1


def test_check_layer_on_conv_and_batchnorm():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    errors = check_layer(lambda x, w, b: F.conv2d_forward(x, w, b, stride=2, padding=1),
                         F.conv2d_backward, x, w, b)
    assert max(errors) < 1e-7
    g, beta = rng.standard_normal(2), rng.standard_normal(2)
    errors = check_layer(lambda x, g, beta: F.batchnorm_forward(x, g, beta, None),
                         F.batchnorm_backward, x, g, beta)
    assert max(errors) < 1e-7


def test_numerical_gradient_rejects_integer_arrays():
    with pytest.raises(TypeError, match="x must be a float numpy array"):
        numerical_gradient(np.sum, np.array([1, 2]))
