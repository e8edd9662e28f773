"""Errors that tell a student what to fix: the course's predictable mistakes (review §6)."""

import numpy as np
import pytest

from coursekit.nn import functional as F
from coursekit.nn import losses
from coursekit.nn.autograd import Tensor

rng = np.random.default_rng(0)


def test_list_weights_are_converted():
    x = rng.standard_normal((4, 2))
    out, _ = F.linear_forward(x, [[1.0, 2.0]], [0.5])
    assert np.allclose(out[:, 0], x @ [1.0, 2.0] + 0.5)
    w = rng.standard_normal((2, 3, 3, 3))
    out_list, _ = F.conv2d_forward(rng.standard_normal((1, 3, 5, 5)), w.tolist(), list(np.zeros(2)))
    assert out_list.shape == (1, 2, 3, 3)
    out, _ = F.batchnorm_forward(rng.standard_normal((6, 3)), [1.0, 1.0, 1.0], [0, 0, 0], None)
    assert np.allclose(out.mean(0), 0)


@pytest.mark.parametrize("bad, message", [("w", r"w must be an array of real numbers, got ndarray of dtype <U1"),
                                          ([[1.0, 2.0], [3.0]], r"w must be an array of numbers .* equal length"),
                                          (None, r"w must be an array of real numbers, got ndarray of dtype object")])
def test_weights_that_are_not_numbers_name_the_argument(bad, message):
    with pytest.raises(TypeError, match=message):
        F.linear_forward(np.ones((2, 2)), bad)


def test_one_tuple_shapes_are_written_as_python_does():
    with pytest.raises(ValueError, match=r"gamma must have shape \(5,\), got shape \(3,\)"):
        F.batchnorm_forward(np.ones((4, 5)), np.ones(3), np.zeros(5), None)


def test_cs231n_weight_layout_suggests_the_transpose():
    with pytest.raises(ValueError, match=r"\(in_features, out_features\) layout \(CS231n's\) needs w\.T"):
        F.linear_forward(np.ones((4, 3)), np.ones((3, 2)))


def test_channels_last_images_suggest_the_transpose():
    with pytest.raises(ValueError, match=r"looks channels-last .*use x\.transpose\(0, 3, 1, 2\)"):
        F.conv2d_forward(np.ones((2, 8, 8, 3)), np.ones((4, 3, 3, 3)))


def test_one_hot_labels_suggest_argmax():
    y = np.eye(4)[[0, 2, 1]]
    with pytest.raises(ValueError, match=r"one-hot labels\? use y\.argmax\(axis=1\)"):
        losses.softmax_cross_entropy(np.zeros((3, 4)), y)


def test_zero_one_labels_for_a_margin_loss_suggest_2y_minus_1():
    with pytest.raises(ValueError, match=r"labels in \{0, 1\}\? .*use 2\*y - 1"):
        losses.hinge_loss(np.zeros(3), np.array([0, 1, 1]))


def test_one_unbatched_sequence_suggests_x_none():
    w = [rng.standard_normal((5, 3)), rng.standard_normal((5, 5))]
    with pytest.raises(ValueError, match=r"x must have shape \(N, T, D\) \(3-D\), got shape \(7, 3\).*use x\[None\]"):
        F.rnn_forward(np.zeros((7, 3)), None, *w)


def test_rnn_sized_weights_for_an_lstm_blame_w_ih():
    with pytest.raises(ValueError, match=r"w_ih must have shape \(4\*H, D\) = \(16, D\) with H = w_hh.shape\[1\] = 4"
                                         r".*gates i, f, g, o.*sized for a plain RNN"):
        F.lstm_forward(np.zeros((2, 5, 3)), None, None, np.zeros((4, 3)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"w_ih must have shape \(3\*H, D\).*gates r, z, n"):
        F.gru_forward(np.zeros((2, 5, 3)), None, np.zeros((4, 3)), np.zeros((4, 4)))


def test_softmax_of_one_row_suggests_a_batch_of_one():
    for function in (losses.softmax, losses.log_softmax):
        with pytest.raises(ValueError, match=r"scores must have shape \(N, C\).*got shape \(2,\).*scores\[None\]"):
            function(np.array([1.0, 2.0]))


def test_tensor_matmul_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"got a shape \(2, 3\) \(3\) and b shape \(2, 3\) \(2\); did you mean a @ b\.T\?"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"a shape \(2, 3\) \(3\) and b shape \(4,\) \(4\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones(4))
    assert (Tensor(np.ones((2, 3))) @ Tensor(np.ones(3))).shape == (2,)
