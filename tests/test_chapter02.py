"""Chapter 02 (MLP and backpropagation): the exercise reference answers and the lecture notebook.

The reference answers of solutions/02_mlp_backprop are checked against independent
oracles (numerical gradients, coursekit.nn, torch autograd) and the syllabus's worked
example; the stored lecture notebook must show the syllabus numbers and the required
accuracy. (nbval re-executes the notebook itself in `make test`.)
"""

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from coursekit.gradcheck import numerical_gradient, rel_error
from coursekit.nn import functional as F
from coursekit.nn.losses import softmax_cross_entropy as library_softmax_cross_entropy

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "02_mlp_backprop" / "02_mlp_backprop.ipynb"
LECTURE = ROOT / "notebooks" / "02_mlp_backprop.ipynb"

WORKED_EXAMPLE = dict(
    i=np.array([0.05, 0.10]), t=np.array([0.01, 0.99]),
    W1=np.array([[0.15, 0.20], [0.25, 0.30]]), b1=np.array([0.35, 0.35]),
    W2=np.array([[0.40, 0.45], [0.50, 0.55]]), b2=np.array([0.60, 0.60]))


@pytest.fixture(scope="module")
def reference():
    """Namespace after running the reference solution's code cells (not the check cells)."""
    namespace = {}
    notebook = nbformat.read(SOLUTION, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and not cell.source.lstrip().startswith("check("):
            source = cell.source.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", "")
            exec(compile(source, str(SOLUTION), "exec"), namespace)
    return namespace


def test_backprop_step_reproduces_the_syllabus_example(reference):
    E, dW1, db1, dW2, db2 = reference["backprop_step"](**WORKED_EXAMPLE)
    assert E == pytest.approx(0.298371, abs=5e-7)
    assert dW2[0, 0] == pytest.approx(0.082167, abs=5e-7)
    assert dW1[0, 0] == pytest.approx(0.000439, abs=5e-7)
    assert 0.40 - 0.5 * dW2[0, 0] == pytest.approx(0.358916, abs=5e-7)
    assert 0.15 - 0.5 * dW1[0, 0] == pytest.approx(0.149781, abs=5e-7)


def test_backprop_step_matches_torch(reference):
    rng = np.random.default_rng(0)
    values = dict(i=rng.normal(size=2), t=rng.uniform(size=2), W1=rng.normal(size=(2, 2)),
                  b1=rng.normal(size=2), W2=rng.normal(size=(2, 2)), b2=rng.normal(size=2))
    E, dW1, db1, dW2, db2 = reference["backprop_step"](**values)
    tensors = {k: torch.tensor(v, requires_grad=k not in ("i", "t")) for k, v in values.items()}
    h = torch.sigmoid(tensors["W1"] @ tensors["i"] + tensors["b1"])
    o = torch.sigmoid(tensors["W2"] @ h + tensors["b2"])
    loss = 0.5 * ((tensors["t"] - o) ** 2).sum()
    loss.backward()
    assert E == pytest.approx(loss.item(), rel=1e-12)
    for name, ours in (("W1", dW1), ("b1", db1), ("W2", dW2), ("b2", db2)):
        np.testing.assert_allclose(ours, tensors[name].grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name, forward, backward, kwargs", [
    ("sigmoid", F.sigmoid_forward, F.sigmoid_backward, {}),
    ("tanh", F.tanh_forward, F.tanh_backward, {}),
    ("relu", F.relu_forward, F.relu_backward, {}),
    ("leaky_relu", F.leaky_relu_forward, F.leaky_relu_backward, {"negative_slope": 0.1}),
    ("elu", F.elu_forward, F.elu_backward, {"alpha": 1.0}),
])
def test_activation_matches_the_library(reference, name, forward, backward, kwargs):
    z = np.linspace(-6, 6, 121)
    alpha = kwargs.get("negative_slope", kwargs.get("alpha", 0.01))
    value, derivative = reference["activation"](name, z, alpha=alpha)
    library_value, cache = forward(z, **kwargs)
    np.testing.assert_allclose(value, library_value, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(derivative, backward(np.ones_like(z), cache), rtol=1e-12,
                               atol=1e-15)


def test_sigmoid_is_finite_for_huge_inputs(reference):
    value, derivative = reference["activation"]("sigmoid", np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(value, [0.0, 1.0])
    np.testing.assert_array_equal(derivative, [0.0, 0.0])


def test_dead_units_finds_units_no_input_activates(reference):
    rng = np.random.default_rng(1)
    W, b, X = rng.normal(size=(6, 3)), rng.normal(size=6), rng.uniform(0, 1, size=(20, 3))
    b[[1, 4]] = -100.0
    b[[0, 2, 3, 5]] = 100.0
    np.testing.assert_array_equal(reference["dead_units"](W, b, X),
                                  [False, True, False, False, True, False])


def test_gate_gradients_match_torch(reference):
    f, dx, dy, dz = reference["graph_add_multiply"](-2.0, 5.0, -4.0)
    assert (f, dx, dy, dz) == (-12.0, -4.0, -4.0, 3.0)
    values = [torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for v in (3.0, -4.0, 2.0, -1.0)]
    x, y, z, w = values
    torch_f = 2 * (x * y + torch.maximum(z, w))
    torch_f.backward()
    ours = reference["graph_max_multiply"](3.0, -4.0, 2.0, -1.0)
    assert float(ours[0]) == pytest.approx(torch_f.item())
    assert [float(g) for g in ours[1:]] == pytest.approx([v.grad.item() for v in values])


def test_layer_backward_matches_numerical_gradients(reference):
    rng = np.random.default_rng(2)
    x, W, b = rng.normal(size=(5, 4)), rng.normal(size=(3, 4)), rng.normal(size=3)
    dout = rng.normal(size=(5, 3))
    dx, dW, db = reference["relu_layer_backward"](dout, x, W, b)

    def relu_layer(_):
        return np.maximum(x @ W.T + b, 0.0)

    for analytic, array in ((dx, x), (dW, W), (db, b)):
        assert rel_error(analytic, numerical_gradient(relu_layer, array, dout=dout)) < 1e-7


def test_softmax_cross_entropy_matches_the_library_even_for_huge_scores(reference):
    rng = np.random.default_rng(3)
    for scale in (1.0, 1000.0):
        S, y = scale * rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
        loss, dS = reference["softmax_cross_entropy"](S, y)
        library_loss, library_dS = library_softmax_cross_entropy(S, y)
        assert np.isfinite(loss) and loss == pytest.approx(library_loss, rel=1e-10)
        np.testing.assert_allclose(dS, library_dS, rtol=1e-10, atol=1e-15)


def test_mlp_gradients_match_numerical_gradients(reference):
    rng = np.random.default_rng(4)
    params = {"W1": rng.normal(size=(7, 5)), "b1": rng.normal(size=7),
              "W2": rng.normal(size=(3, 7)), "b2": rng.normal(size=3)}
    X, y = rng.normal(size=(9, 5)), rng.integers(0, 3, size=9)
    _, grads = reference["mlp_loss_and_gradients"](params, X, y)
    assert set(grads) == set(params)
    for name, value in params.items():
        numeric = numerical_gradient(
            lambda _: reference["mlp_loss_and_gradients"](params, X, y)[0], value)
        assert rel_error(grads[name], numeric) < 1e-7, name


def test_trained_reference_model_beats_the_full_credit_threshold(reference):
    from coursekit.data import load_digits

    split = load_digits(test_size=0.25, seed=0)
    accuracy = np.mean(reference["model"].predict(split.X_test) == split.y_test)
    assert accuracy >= 0.965  # full credit from 96 %: keep a margin


def lecture_text():
    notebook = nbformat.read(LECTURE, as_version=4)
    chunks = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"stored error in: {cell.source[:60]}"
            chunks.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(chunks)


def test_lecture_notebook_shows_the_worked_example_numbers():
    text = lecture_text()
    for number in ("h1 = 0.593270", "h2 = 0.596884", "o1 = 0.751365", "o2 = 0.772928",
                   "E = 0.298371", "dE/dw5 = 0.082167 -> w5 = 0.358916",
                   "dE/dw1 = 0.000439 -> w1 = 0.149781"):
        assert number in text, number
    # by hand, with the autograd Tensor and with torch
    assert text.count("dE/dw1 = 0.000439 -> w1 = 0.149781") == 3


def test_lecture_notebook_mlps_reach_96_percent_on_digits():
    text = lecture_text()
    line = next(s for s in text.splitlines() if s.startswith("PyTorch MLP: test accuracy"))
    torch_accuracy, numpy_accuracy = (float(v) for v in re.findall(r"([\d.]+) %", line))
    assert torch_accuracy >= 96.0 and numpy_accuracy >= 96.0


def lecture_cells():
    return nbformat.read(LECTURE, as_version=4).cells


def test_lecture_uses_the_course_aliases():
    """F is torch.nn.functional in every chapter; coursekit's NumPy functional is F_np."""
    cells = lecture_cells()
    first = next(c.source for c in cells if c.cell_type == "code"
                 and "install" not in c.metadata.get("tags", []))  # after Colab's install cell
    for line in ("import numpy as np", "import torch", "from torch import nn",
                 "import torch.nn.functional as F", "from coursekit.nn import functional as F_np",
                 "import matplotlib.pyplot as plt", "use_single_thread()"):
        assert line in first, line
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    assert "from coursekit.nn import functional as F\n" not in code
    assert "F_np.sigmoid_forward" in code


def test_saturation_table_shows_both_thresholds_and_the_text_explains_them():
    text = lecture_text()
    rows = {}
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 5 and parts[0] in ("sigmoid", "tanh", "ReLU", "Leaky ReLU", "ELU"):
            rows[parts[0]] = [float(p) for p in parts[1:]]
    # absolute threshold: sigmoid flat on 24 % of [-6, 6], tanh on 50 %; relative to its own
    # peak sigmoid is flat on 0 % there (it is a tanh stretched twice as wide)
    assert rows["sigmoid"][:3] == [0.25, 0.24, 0.0]
    assert rows["tanh"][:3] == [1.0, 0.5, 0.5]
    prose = "\n".join(c.source for c in lecture_cells() if c.cell_type == "markdown")
    assert "up\n  to $4^{10}" not in prose and "*at least* $4^{10}" in prose
    assert "\\tanh(z/2)" in prose
    # recomputed: sigmoid(z) = 1/2 + tanh(z/2)/2, so its relative flat share of [-12, 12]
    # equals tanh's of [-6, 6]
    z = np.linspace(-6, 6, 1201)
    tanh_slope = 1 - np.tanh(z) ** 2
    sigmoid_slope = (lambda s: s * (1 - s))(1 / (1 + np.exp(-2 * z)))  # sigmoid at 2z: [-12, 12]
    assert np.mean(sigmoid_slope < 0.01 * 0.25) == pytest.approx(np.mean(tanh_slope < 0.01), abs=0.01)


def test_elm_dips_at_the_interpolation_threshold_over_three_seeds():
    text = lecture_text()
    assert "test accuracy over 3 random hidden layers (mean ± std, %):" in text
    table = {int(n): (float(a), float(sa), float(b), float(sb)) for n, a, sa, b, sb in re.findall(
        r"^\s*(\d+) \|\s+([\d.]+) ± ([\d.]+) \|\s+([\d.]+) ± ([\d.]+)$", text, re.M)}
    assert {400, 1100, 1347, 1600, 2000} <= set(table)
    at_400, at_n, at_1600, at_2000 = (table[n] for n in (400, 1347, 1600, 2000))
    # lambda = 0.01: the dip is at n = N (1347) and 1600, deeper than the spread, and recovers past N
    dip = at_400[0] - at_n[0]
    assert dip > 2.0 and dip > 2 * (at_400[1] + at_n[1])
    assert at_400[0] - at_1600[0] > 2 * (at_400[1] + at_1600[1])
    assert at_2000[0] - at_n[0] > 1.0
    # lambda = 1: no dip
    assert min(table[n][2] for n in (1100, 1347, 1600, 2000)) >= at_400[2] - 0.5
    prose = "\n".join(c.source for c in lecture_cells() if c.cell_type == "markdown")
    assert "96.1 ± 1.0 % at $n = 1347$ and 96.6 ± 0.5 % at 1600" in prose
    assert f"{at_n[0]:.1f} ± {at_n[1]:.1f} % at $n = 1347$" in prose
    assert f"({at_2000[0]:.1f} ± {at_2000[1]:.1f} % at 2000)" in prose
    assert f"{at_400[0]:.1f} ± {at_400[1]:.1f} % with 400 units" in prose


def test_the_2_2_2_graph_is_drawn_in_readable_pieces():
    cells = lecture_cells()
    source = next(c.source for c in cells if "o_leaf, h_leaf" in c.source)
    assert source.count("draw_graph(") == 1 and "for piece, title in" in source
    outputs = next(c for c in cells if "o_leaf, h_leaf" in c.source).outputs
    assert "the pieces give the full graph's gradients: True True" in "".join(o.get("text", "") for o in outputs)
    widths = []
    for output in outputs:
        if "image/png" in output.get("data", {}):
            import base64
            import struct
            png = base64.b64decode(output["data"]["image/png"])
            widths.append(struct.unpack(">I", png[16:20])[0])
    assert len(widths) == 3 and max(widths) < 1400  # the single graph was 2220 px wide
