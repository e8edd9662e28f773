"""Questions and tests of exercise set 02 (multilayer perceptrons and backpropagation).

Expected values are computed by `coursekit assign` from the reference solution in
02_mlp_backprop.ipynb; only inputs are written here. Public tests are shown to
students (`check("q1")`) and carry 5 % of each question's points; hidden tests are run
by `coursekit grade` only, on inputs and held-out digits drawn from the instructor
secret (`secret_rng`).
"""

import numpy as np

from coursekit.data import load_digits
from coursekit.grading import Question, accuracy, call, raises, secret_rng
from coursekit.grading.heldout import perturb_images

rng = secret_rng("hidden")  # every hidden input below comes from the instructor secret
public_rng = np.random.default_rng(2025)  # public inputs only


def no_ties(z, w, gap=1e-3):
    """Nudge w away from z so that max(z, w) is never a tie."""
    return np.where(np.abs(z - w) < gap, w + 2 * gap, w)


def layer_inputs(n, d, m, rng=rng):
    """(dout, x, W, b) for a layer with n examples, d inputs and m outputs."""
    return rng.normal(size=(n, m)), rng.normal(size=(n, d)), rng.normal(size=(m, d)), \
        rng.normal(size=m)


def mlp_problem(n, d, h, c, scale=1.0, rng=rng):
    params = {"W1": scale * rng.normal(size=(h, d)), "b1": scale * rng.normal(size=h),
              "W2": scale * rng.normal(size=(c, h)), "b2": scale * rng.normal(size=c)}
    return params, rng.normal(size=(n, d)), rng.integers(0, c, size=n)


def sigmoid_net(scale=1.0):
    """Random inputs (i, t, W1, b1, W2, b2) for the 2-2-2 network."""
    return (rng.normal(size=2), rng.uniform(0, 1, size=2), scale * rng.normal(size=(2, 2)),
            scale * rng.normal(size=2), scale * rng.normal(size=(2, 2)), scale * rng.normal(size=2))


z_grid = np.sort(rng.uniform(-5, 5, size=41))
z_wide = rng.normal(scale=3.0, size=(4, 5))
z_wide[0, 0] = 0.0  # the ReLU convention at exactly 0
W_dead = rng.normal(size=(12, 5))
b_dead = rng.normal(size=12)
b_dead[[2, 7]] = -50.0  # two units that no input can switch on
X_dead = rng.uniform(0, 1, size=(30, 5))

WORKED_EXAMPLE = (np.array([0.05, 0.10]), np.array([0.01, 0.99]),
                  np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([0.35, 0.35]),
                  np.array([[0.40, 0.45], [0.50, 0.55]]), np.array([0.60, 0.60]))

z_low, w_gap = -round(abs(float(rng.normal())), 2), round(float(rng.uniform(0.5, 2.0)), 2)
z_arr, w_arr = rng.normal(size=6), rng.normal(size=6)
w_arr = no_ties(z_arr, w_arr)

digits_split = load_digits(test_size=0.25, seed=0)
X_val, y_val = digits_split.X_train[1100:], digits_split.y_train[1100:]   # as in the notebook
# Held-out digits: the test split (never in the notebook's namespace) with pixel noise
# (std 0.05) drawn from the secret, so the graded images exist only in the bundle.
# Measured over 6 noise draws: the reference 96.0-97.1 %; plain SGD (learning rate 0.01,
# no momentum, 128 hidden units, batch 32) 90-92 % after 20 epochs, 66-76 % after 5.
# Shifts are not used: a shift of even 1/4 pixel drops the reference to 85 %.
X_heldout = perturb_images(digits_split.X_test, secret_rng("heldout"), image_shape=(8, 8),
                           max_shift=0, noise=0.05)
y_heldout = digits_split.y_test

QUESTIONS = [
    Question(
        "q1", points=2, title="Activations, derivatives and dead units",
        public=[call("activation", "sigmoid", np.array([-2.0, 0.0, 3.0])),
                call("activation", "sigmoid", np.array([-1000.0, 1000.0]), warnings="error",
                     note="(|z| = 1000, no overflow warning)"),
                call("activation", "relu", np.array([-1.0, 0.0, 2.0])),
                raises("activation", "softplus", np.array([1.0]), exception=ValueError,
                       note="(an unknown name)")],
        hidden=[call("activation", "sigmoid",
                     np.concatenate([[-1000.0, -40.0, 0.0, 40.0, 1000.0],
                                     rng.normal(size=5) * 800]),
                     warnings="error", weight=2, note="(very large |z|, no overflow warning)"),
                raises("activation", "Sigmoid", rng.normal(size=3), exception=ValueError,
                       note="(an unknown name)"),
                call("activation", "tanh", z_grid),
                call("activation", "relu", z_wide, note="(a 2-D array, one entry exactly 0)"),
                call("activation", "leaky_relu", z_grid, kwargs={"alpha": 0.1},
                     note="(alpha = 0.1)"),
                call("activation", "elu", z_wide, kwargs={"alpha": 1.0}, note="(alpha = 1)"),
                call("dead_units", W_dead, b_dead, X_dead, weight=2)],
    ),
    Question(
        "q2", points=2, title="Gate gradients",
        public=[call("graph_add_multiply", -2.0, 5.0, -4.0),
                call("graph_max_multiply", 3.0, -4.0, 2.0, -1.0)],
        hidden=[call("graph_add_multiply", *(float(v) for v in rng.normal(size=3).round(2))),
                call("graph_add_multiply", rng.normal(size=5), rng.normal(size=5),
                     rng.normal(size=5), note="(arrays)"),
                call("graph_max_multiply", *(float(v) for v in rng.normal(size=2).round(2)), z_low,
                     z_low + w_gap, note="(w is the larger)"),
                call("graph_max_multiply", rng.normal(size=6), rng.normal(size=6), z_arr, w_arr,
                     weight=2, note="(arrays)")],
    ),
    Question(
        "q3", points=3, title="One backpropagation step of the 2-2-2 sigmoid network",
        public=[call("backprop_step", *WORKED_EXAMPLE, note="(the lecture's numbers)")],
        hidden=[call("backprop_step", *sigmoid_net(), weight=2),
                call("backprop_step", *sigmoid_net(scale=3.0), weight=2,
                     note="(larger weights)")],
    ),
    Question(
        "q4", points=2, title="Backward pass of a linear layer and a ReLU layer",
        public=[call("linear_backward", *layer_inputs(2, 3, 4, rng=public_rng)[:3]),
                call("relu_layer_backward", *layer_inputs(3, 2, 3, rng=public_rng))],
        hidden=[call("linear_backward", *layer_inputs(7, 5, 3)[:3]),
                call("relu_layer_backward", *layer_inputs(3, 4, 2)),
                call("relu_layer_backward", *layer_inputs(20, 6, 8), weight=2)],
    ),
    Question(
        "q5", points=2, title="Softmax cross-entropy and its gradient",
        public=[call("softmax_cross_entropy", np.array([[3.2, 5.1, -1.7]]), np.array([0]),
                     note="(the cat image of chapter 01)")],
        hidden=[call("softmax_cross_entropy", rng.normal(size=(10, 4)), rng.integers(0, 4, 10)),
                call("softmax_cross_entropy", 1000.0 * rng.normal(size=(6, 3)),
                     rng.integers(0, 3, 6), note="(scores in the thousands)", weight=2)],
    ),
    Question(
        "q6", points=3, title="The full gradient of a two-layer MLP",
        # q6 reuses q4 and q5: its tests run with the reference's versions of those
        # functions, so a mistake in q4 or q5 costs only q4 or q5
        inject=["linear_backward", "relu_layer_backward", "softmax_cross_entropy"],
        public=[call("mlp_loss_and_gradients", *mlp_problem(4, 3, 5, 2, rng=public_rng))],
        hidden=[call("mlp_loss_and_gradients", *mlp_problem(16, 6, 10, 4), weight=2),
                call("mlp_loss_and_gradients", *mlp_problem(32, 64, 20, 10, scale=0.3),
                     weight=2, note="(digit-sized: 64 inputs, 10 classes)")],
    ),
    Question(
        # trained with the given autograd_loss_and_gradients (a read-only cell), not
        # with the student's q6: a wrong q6 does not cost q7
        "q7", points=3, title="An MLP trained on digits",
        public=[accuracy("model", X_val, y_val, thresholds={0.92: 0.5, 0.95: 1.0},
                         note="(the validation digits)")],
        hidden=[accuracy("model", X_heldout, y_heldout, thresholds={0.93: 0.5, 0.95: 1.0},
                         weight=3, note="(held-out digits)")],
    ),
]
