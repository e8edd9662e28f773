"""Chapter 04 (convolutional networks): the lecture notebook, its experiment script, the musts.

- the from-scratch code the notebook writes (the loop convolution, the NumPy LeNet and its
  training loop's pieces) agrees with torch;
- every number the text cites and every conclusion it draws matches the stored outputs and
  the stored five-seed results (coursekit/assets/04_lenet_translation.json);
- the musts: PyTorch LeNet-5 >= 98.5 % mean over 5 seeds, NumPy LeNet >= 97 % (3 seeds);
- experiments/04_lenet_translation.py --quick still learns.
(nbval re-executes the notebook itself in `make test`.)
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from coursekit.assets import load_results
from coursekit.data import shift_images
from coursekit.nn.lenet import LeNet

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04_convolutional_networks.ipynb"
SCRIPT = ROOT / "experiments" / "04_lenet_translation.py"


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def text(notebook):
    """All stored stream output of the notebook, one string."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output["text"])
            assert output.get("output_type") != "error", cell.source[:80]
    return "".join(parts)


@pytest.fixture(scope="module")
def prose(notebook):
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


@pytest.fixture(scope="module")
def results():
    return load_results("04_lenet_translation")["results"]


def _cell_defining(notebook, name):
    """The source of the function ``name`` as the notebook defines it (only that function)."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and f"def {name}(" in cell.source:
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.FunctionDef) and node.name == name:
                    return ast.get_source_segment(cell.source, node)
    raise AssertionError(f"no cell defines {name}")


def _script():
    spec = importlib.util.spec_from_file_location("lenet_translation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------ from scratch against torch
@pytest.mark.parametrize("shape, kernel, stride, padding, dilation",
                         [((3, 7, 7), (2, 3, 3), 1, 0, 1), ((2, 9, 8), (4, 3, 3), 2, 1, 2),
                          ((1, 6, 6), (3, 1, 1), 1, 0, 1), ((4, 10, 10), (5, 5, 5), 3, 2, 1)])
def test_loop_convolution_matches_torch(notebook, shape, kernel, stride, padding, dilation):
    namespace = {"np": np}
    exec(_cell_defining(notebook, "conv2d_loops"), namespace)
    rng = np.random.default_rng(1)
    x = rng.normal(size=shape)
    w = rng.normal(size=(kernel[0], shape[0], kernel[1], kernel[2]))
    b = rng.normal(size=kernel[0])
    ours = namespace["conv2d_loops"](x, w, b, stride=stride, padding=padding, dilation=dilation)
    expected = torch.nn.functional.conv2d(torch.tensor(x[None]), torch.tensor(w), torch.tensor(b),
                                          stride=stride, padding=padding, dilation=dilation)[0]
    np.testing.assert_allclose(ours, expected.numpy(), atol=1e-12)


def test_numpy_lenet_gradients_match_torch(notebook):
    namespace = {"torch": torch, "nn": torch.nn}
    exec(_cell_defining(notebook, "lenet5"), namespace)
    numpy_net = LeNet(image_size=16, rng=3)
    twin = namespace["lenet5"](image_size=16).double()
    layers = [m for m in twin if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    names = ["conv1", "conv2", "fc1", "fc2", "fc3"]
    with torch.no_grad():
        for name, layer in zip(names, layers):
            layer.weight.copy_(torch.tensor(numpy_net.params[f"{name}_w"]))
            layer.bias.copy_(torch.tensor(numpy_net.params[f"{name}_b"]))
    rng = np.random.default_rng(0)
    x, y = rng.random((5, 1, 16, 16)), rng.integers(0, 10, size=5)
    loss, grads = numpy_net.loss_and_grads(x, y)
    loss_t = torch.nn.functional.cross_entropy(twin(torch.tensor(x)), torch.tensor(y))
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), abs=1e-12)
    for name, layer in zip(names, layers):
        np.testing.assert_allclose(grads[f"{name}_w"], layer.weight.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(grads[f"{name}_b"], layer.bias.grad.numpy(), atol=1e-10)


def test_notebook_and_script_train_the_same_lenet(notebook):
    namespace = {"torch": torch, "nn": torch.nn}
    exec(_cell_defining(notebook, "lenet5"), namespace)
    ours, theirs = namespace["lenet5"](seed=2), _script().lenet5(seed=2)
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), theirs.parameters()))
    assert sum(p.numel() for p in ours.parameters()) == 61706


def test_shift_images_moves_pixels_and_fills_zeros():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out = shift_images(x, 1, -1)[0, 0]
    np.testing.assert_array_equal(out[1:, :3], x[0, 0, :3, 1:])
    assert out[0].sum() == 0 and out[:, 3].sum() == 0
    both = shift_images(np.repeat(x, 2, axis=0), np.array([0, 2]), np.array([1, 0]))
    np.testing.assert_array_equal(both[0, 0, :, 1:], x[0, 0, :, :3])
    np.testing.assert_array_equal(both[1, 0, 2:], x[0, 0, :2])
    with pytest.raises(ValueError, match="smaller than the image"):
        shift_images(x, 4, 0)


# ------------------------------------------------------------ cited numbers
@pytest.mark.parametrize("fragment", [
    "1,000,001,000 parameters (4.0 GB float32)",
    "convolution, 100 filters 10x10  :          10,100 parameters",
    "coursekit: [-3. -5. -7.]",
    "matched filter peaks at position 140",
    "[[6. 7.]\n [3. 4.]]",
    "loops vs coursekit: True, coursekit vs torch: True",
    "gradients dx, dw, db match torch to 1e-12: True",
    "saving: 3.59x fewer parameters, 3.60x fewer multiply-adds",
    "1x1 conv = the same linear layer at every pixel: True",
    "2 stacked 3x3 layers: receptive field 5x5",
    "3 stacked 3x3 layers: receptive field 7x7",
    "3 x conv 3x3: measured 7, formula 7",
    "all 10 parameter gradients agree to 1e-10: True",
    "every seed above 97 %: True",
    "this run (seed 0) is above 97 %: True",
])
def test_stored_outputs_show(text, fragment):
    assert fragment in text


def test_output_size_table_matches_torch_column(text):
    rows = re.findall(r"\|\s+(\d+) \|\s+(\d+)\s{3}", text)
    assert len(rows) == 8
    assert all(ours == theirs for ours, theirs in rows)
    assert [int(ours) for ours, _ in rows] == [28, 28, 3, 4, 55, 112, 32, 4]


def test_lenet_table_counts(text, prose):
    assert re.search(r"C5\s+linear 400 -> 120\s+\(120,\)\s+48,120", text)
    assert re.search(r"total\s+61,706", text)
    conv = [int(n.replace(",", "")) for n in re.findall(r"conv 5x5, \d -> \d+(?:, padding 2)?\s+\([\d, ]+\)\s+([\d,]+)", text)]
    assert conv == [156, 2416] and sum(conv) == 2572
    assert "48,120 of 61,706" in prose and "2,572 between them" in prose


def test_max_pool_backward_routes_to_the_maxima(text):
    block = text.split("max-pool backward (each gradient to its window's maximum):\n")[1]
    rows = [list(map(float, line.strip(" []").split())) for line in block.splitlines()[:4]]
    np.testing.assert_array_equal(rows, [[0, 0, 2, 0], [1, 0, 0, 0], [0, 3, 0, 0], [0, 0, 4, 0]])


# ------------------------------------------------------------ the musts
def test_must_pytorch_lenet_mean_over_five_seeds(results, text):
    seeds = np.array(results["models"]["LeNet-5 + shifts"]["accuracy"])[:, 0]
    assert len(seeds) == 5 and results["image_size"] == 28
    assert seeds.mean() >= 0.985
    assert f"mean ± std over 5 seeds: {seeds.mean():.4f} ± {seeds.std():.4f}" in text


def test_must_numpy_lenet_trained_in_the_notebook(text, notebook):
    mean, std = map(float, re.search(r"NumPy LeNet, test accuracy over 3 seeds: ([\d.]+) ± ([\d.]+)", text).groups())
    assert mean >= 0.97 and std < 0.02
    loop = _cell_defining(notebook, "train_numpy_lenet")
    assert "model.loss_and_grads" in loop and "optimizer.step(grads)" in loop  # its own loop
    cells = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "digits16 = load_digits(test_size=0.25, seed=0, image_size=16)" in cells  # the 450 test digits


# ------------------------------------------------------------ conclusions of section 6
def _table(results):
    return {name: (np.array(e["mean"]), np.array(e["std"])) for name, e in results["models"].items()}


def test_cnn_degrades_more_slowly_than_mlp(results):
    t = _table(results)
    (cnn, cnn_std), (mlp, mlp_std) = t["LeNet-5"], t["MLP 784-128-10"]
    for i in range(1, 6):  # "at every shift from 1 to 5 pixels"
        assert cnn[i] - mlp[i] > max(cnn_std[i], mlp_std[i])
    assert abs(cnn[0] - mlp[0]) < 0.005  # "within half a point"


def test_augmentation_matters_more_than_architecture(results):
    t = _table(results)
    for i in range(2, 7):  # "from 2 pixels on, the augmented MLP beats the un-augmented LeNet-5"
        assert t["MLP + shifts"][0][i] - t["LeNet-5"][0][i] > t["LeNet-5"][1][i]
    assert (t["LeNet-5 + shifts"][0] > t["MLP + shifts"][0]).all()
    assert t["MLP + shifts"][0][0] < t["MLP 784-128-10"][0][0] - 2 * t["MLP + shifts"][1][0]
    assert t["LeNet-5 + shifts"][0][0] >= t["LeNet-5"][0][0]


def test_prose_numbers_match_the_stored_results(results, prose):
    t = _table(results)

    def cited(name, shift):
        return f"{t[name][0][shift]:.3f} ± {t[name][1][shift]:.3f}"

    for name, shift in [("LeNet-5 + shifts", 0), ("LeNet-5", 0), ("MLP 784-128-10", 0), ("LeNet-5", 3),
                        ("MLP 784-128-10", 3), ("MLP + shifts", 3), ("LeNet-5 + shifts", 3)]:
        assert cited(name, shift) in prose, (name, shift)
    assert f"{t['MLP + shifts'][0][0]:.3f} against {t['MLP 784-128-10'][0][0]:.3f}" in prose


# ------------------------------------------------------------ the experiment script
def test_script_quick_run_still_learns(tmp_path):
    results = _script().main(["--quick", "--out", str(tmp_path)])
    stored = load_results("04_lenet_translation", folder=tmp_path)
    assert stored["command"].endswith("--quick") and stored["seeds"] == [0]
    lenet = np.array(results["models"]["LeNet-5 + shifts"]["accuracy"][0])
    mlp = np.array(results["models"]["MLP 784-128-10"]["accuracy"][0])
    assert lenet[0] > 0.8 and mlp[0] > 0.8  # 10 classes: chance is 0.1
    assert lenet[-1] < lenet[0] and mlp[-1] < mlp[0]  # a 6-pixel shift hurts both
    assert all(0 <= a <= 1 for a in np.r_[lenet, mlp])
