"""Chapter 05a (modern CNNs): models and counts, attribution maps, experiment scripts, the notebook.

- coursekit.models: shapes, parameter counts against the formulas, FLOPs against the
  hand formula and FlopCounterMode's convention, seeding, FineTuned / replace_head;
- coursekit.viz.saliency against cases with a known answer;
- each experiments/05_*.py script run with --quick still learns;
- the stored results tables and the notebook: every number the text cites and every stated
  conclusion against the stored outputs. (nbval re-executes the notebook in `make test`.)
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch import nn

from coursekit.assets import load_results, load_weights
from coursekit.models import (
    ARCHITECTURES,
    BasicBlock,
    Bottleneck,
    DenseBlock,
    FineTuned,
    InceptionBlock,
    build,
    count_flops,
    count_parameters,
    from_arrays,
    plain_net,
    replace_head,
    residual_net,
    resnet,
    to_arrays,
    weighted_layers,
)
from coursekit.viz.saliency import occlusion_map, rgb_filters, saliency_map

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05a_modern_cnns.ipynb"


# ------------------------------------------------------------------ models
@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_every_architecture_maps_images_to_class_scores(name):
    model = build(name, n_classes=5, seed=3)
    model.eval()
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 5)
    again = build(name, n_classes=5, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    other = build(name, n_classes=5, seed=4)
    assert not all(torch.equal(a, b) for a, b in zip(model.parameters(), other.parameters()))


def test_building_a_model_leaves_the_global_generator_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    build("VGG", n_classes=8, seed=11)
    assert torch.equal(torch.rand(3), expected)


def test_build_and_builders_validate_their_arguments():
    with pytest.raises(ValueError, match="unknown architecture"):
        build("LeNet-7")
    with pytest.raises(ValueError, match="n_classes"):
        build("VGG", n_classes=1)
    with pytest.raises(ValueError, match="block"):
        resnet(4, block="wide")
    with pytest.raises(ValueError, match="n "):
        plain_net(4, n=0)


@pytest.mark.parametrize("c_in, c_out, stride", [(16, 16, 1), (16, 32, 2), (8, 24, 1)])
def test_basic_block_parameters_follow_the_formula(c_in, c_out, stride):
    block = BasicBlock(c_in, c_out, stride)
    expected = 9 * c_in * c_out + 9 * c_out * c_out + 4 * c_out  # two convs without bias, two BNs
    if stride != 1 or c_in != c_out:
        expected += c_in * c_out + 2 * c_out  # 1x1 projection + BN
    assert count_parameters(block) == expected
    x = torch.randn(2, c_in, 8, 8)
    assert block(x).shape == (2, c_out, 8 // stride, 8 // stride)


def test_basic_block_with_zero_residual_passes_its_input_through():
    block = BasicBlock(4, 4).eval()
    nn.init.zeros_(block.bn2.weight)  # F(x) = BN2(...) = beta = 0
    x = torch.rand(2, 4, 6, 6)  # non-negative: ReLU(x) = x
    assert torch.allclose(block(x), x)
    plain = BasicBlock(4, 4, shortcut=False).eval()
    nn.init.zeros_(plain.bn2.weight)
    assert torch.count_nonzero(plain(x)) == 0  # without the shortcut nothing passes


def test_bottleneck_is_cheaper_than_a_basic_block_of_the_same_width():
    bottleneck, basic = Bottleneck(64, 64), BasicBlock(64, 64)
    assert count_parameters(bottleneck) == 64 * 16 + 9 * 16 * 16 + 16 * 64 + 2 * (16 + 16 + 64)
    assert count_parameters(bottleneck) < count_parameters(basic) / 10


def test_inception_and_dense_blocks_concatenate_channels():
    inception = InceptionBlock(24, 16, 16, 24, 4, 8, 8)
    assert inception(torch.zeros(1, 24, 16, 16)).shape == (1, 56, 16, 16)
    dense = DenseBlock(10, growth=6, n_layers=4)
    out = dense(torch.randn(2, 10, 8, 8))
    assert out.shape == (2, 10 + 4 * 6, 8, 8)
    assert [layer[2].in_channels for layer in dense.layers] == [10, 16, 22, 28]


def test_flops_follow_the_hand_formula_and_skip_pooling_and_activations():
    conv = nn.Conv2d(3, 24, 5, stride=2, padding=2)
    assert count_flops(conv) == 2 * 5 * 5 * 3 * 24 * 16 * 16
    assert count_flops(nn.Sequential(nn.ReLU(), nn.MaxPool2d(2), nn.AvgPool2d(2), nn.BatchNorm2d(3))) == 0
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))
    assert count_flops(mlp) == 2 * 3 * 32 * 32 * 10


def test_plain_and_residual_twins_have_the_same_layers():
    plain, residual = plain_net(8, n=3), residual_net(8, n=3)
    assert len(weighted_layers(plain)) == len(weighted_layers(residual)) == 6 * 3 + 2
    assert count_flops(plain) < count_flops(residual) < 1.02 * count_flops(plain)  # only projections added


def test_fine_tuned_freezes_the_body_and_keeps_it_in_eval_mode():
    pretrained = resnet(4, seed=0)
    model = FineTuned(replace_head(pretrained, 3, seed=1), n_frozen=3)
    assert all(not p.requires_grad for p in model.body.parameters())
    assert all(p.requires_grad for p in model.rest.parameters())
    model.train()
    assert not model.body.training and model.rest.training
    before = model.body[0][1].running_mean.clone()
    model(torch.randn(4, 3, 32, 32) + 3.0)
    assert torch.equal(model.body[0][1].running_mean, before)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 3)
    assert pretrained[-1].out_features == 4  # replace_head copies
    with pytest.raises(ValueError, match="n_frozen"):
        FineTuned(pretrained, 7)


def test_weights_round_trip_through_arrays():
    model = resnet(4, seed=5)
    copy = from_arrays(resnet(4, seed=6), to_arrays(model))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), copy.state_dict().values()))


# ------------------------------------------------------------------ saliency and occlusion
def test_saliency_of_a_linear_model_is_its_weight():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 4))
    image = np.random.default_rng(0).random((3, 8, 8))
    saliency, target = saliency_map(model, image, target=2)
    weight = model[1].weight[2].detach().numpy().reshape(3, 8, 8)
    assert target == 2
    np.testing.assert_allclose(saliency, np.abs(weight).max(axis=0), rtol=1e-6)
    _, predicted = saliency_map(model, image)
    assert predicted == int(model(torch.as_tensor(image[None], dtype=torch.float32)).argmax())


def test_occlusion_only_matters_where_the_model_looks():
    class TopLeft(nn.Module):
        def forward(self, x):  # class 1's score is the mean of the top-left 8x8 corner
            corner = x[:, :, :8, :8].mean(dim=(1, 2, 3))
            return torch.stack([torch.zeros_like(corner), 10 * corner], dim=1)

    image = np.zeros((3, 16, 16), dtype=np.float32)
    image[:, :8, :8] = 1.0
    heat, target = occlusion_map(TopLeft(), image, target=1, patch=4, stride=4, fill=0.0)
    assert target == 1 and heat.shape == (16, 16)
    assert np.all(heat[:8, :8] > 0)
    np.testing.assert_allclose(heat[8:, :], 0.0, atol=1e-7)
    np.testing.assert_allclose(heat[:, 8:], 0.0, atol=1e-7)
    with pytest.raises(ValueError, match="patch"):
        occlusion_map(TopLeft(), image, patch=20)


def test_rgb_filters_scale_each_filter_into_the_unit_interval():
    weight = np.random.default_rng(1).normal(size=(6, 3, 5, 5))
    pictures = rgb_filters(weight)
    assert pictures.shape == (6, 5, 5, 3)
    assert pictures.min() >= 0 and pictures.max() <= 1
    assert np.allclose(np.abs(pictures - 0.5).max(axis=(1, 2, 3)), 0.5)
    with pytest.raises(ValueError, match="RGB"):
        rgb_filters(np.zeros((4, 1, 3, 3)))


# ------------------------------------------------------------------ the scripts, --quick
def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_architectures_script_quick_still_learns(tmp_path):
    results = _script("05_architectures").main(["--quick", "--out", str(tmp_path)])
    stored = json.loads((tmp_path / "05_architectures.json").read_text())
    assert stored["results"] == json.loads(json.dumps(results))
    for row in results["architectures"]:
        assert row["accuracy_mean"] > 0.14  # chance is 1/8
        assert row["train_loss_final"][0] < np.log(8) - 0.2
        model = build(row["name"], n_classes=8)
        assert (row["parameters"], row["flops"]) == (count_parameters(model), count_flops(model))


def test_degradation_script_quick_still_learns(tmp_path):
    results = _script("05_degradation").main(["--quick", "--out", str(tmp_path)])
    assert (tmp_path / "05_degradation.json").is_file()
    for name, entry in results["nets"].items():
        curve = entry["train_loss"][0]
        assert len(curve) == results["config"]["epochs"]
        assert len(entry["grad_norm_init"][0]) == len(entry["layers"])
        if name.startswith("plain, 8"):
            assert curve[-1] < curve[0] - 0.1


def test_transfer_script_quick_still_learns(tmp_path):
    results = _script("05_transfer").main(["--quick", "--out", str(tmp_path)])
    assert results["pretrain_accuracy_a"] > 0.35  # chance is 1/4
    assert max(results["mean"][s]["30"] for s in results["strategies"]) > 0.3
    weights = load_weights("05_transfer_pretrained", folder=tmp_path)
    from_arrays(resnet(4), weights)  # loads into the architecture the notebook uses


# ------------------------------------------------------------------ stored results and the notebook
def _notebook():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    prose = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    outputs = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            outputs.append("".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"))
    return notebook, re.sub(r"\s+", " ", prose), outputs


def _output_containing(outputs, text):
    found = [o for o in outputs if text in o]
    assert found, f"no stored output contains {text!r}: re-execute the notebook"
    return found[0]


def _mean_std(values):
    return float(np.mean(values)), float(np.std(values))


def test_architecture_table_is_consistent_and_shown():
    record = load_results("05_architectures")
    rows = record["results"]["architectures"]
    assert [row["name"] for row in rows] == list(ARCHITECTURES)
    assert len(record["seeds"]) >= 3
    _, _, outputs = _notebook()
    table = _output_containing(outputs, "FLOPs/image")
    for row in rows:
        assert len(row["test_accuracy"]) == len(record["seeds"])
        mean, std = _mean_std(row["test_accuracy"])
        assert row["accuracy_mean"] == pytest.approx(mean, abs=1e-4)
        assert row["accuracy_std"] == pytest.approx(std, abs=1e-4)
        model = build(row["name"], n_classes=8)
        assert (row["parameters"], row["flops"]) == (count_parameters(model), count_flops(model))
        assert f"{row['parameters']:10,}" in table and f"{row['accuracy_mean']:.3f} ± {row['accuracy_std']:.3f}" in table
        assert row["accuracy_mean"] > 0.125  # every architecture learned something (chance 1/8)


def test_degradation_results_are_shown():
    nets = load_results("05_degradation")["results"]["nets"]
    _, _, outputs = _notebook()
    shown = _output_containing(outputs, "after epoch 15")
    for entry in nets.values():
        curves = np.array(entry["train_loss"])
        assert curves.shape == (3, 15)
        assert f"{curves[:, -1].mean():.3f} ± {curves[:, -1].std():.3f}" in shown


def test_transfer_results_are_shown():
    transfer = load_results("05_transfer")["results"]
    _, _, outputs = _notebook()
    shown = _output_containing(outputs, "test accuracy on B (")
    for strategy in transfer["strategies"]:
        for size in transfer["sizes"]:
            values = transfer["test_accuracy"][strategy][str(size)]
            assert len(values) == 3
            mean, std = _mean_std(values)
            assert transfer["mean"][strategy][str(size)] == pytest.approx(mean, abs=1e-4)
            assert f"{transfer['mean'][strategy][str(size)]:.3f} ± {transfer['std'][strategy][str(size)]:.3f}" in shown


def test_degradation_conclusions_hold_and_are_cited():
    nets = load_results("05_degradation")["results"]["nets"]
    final = {name: np.array([curve[-1] for curve in entry["train_loss"]]) for name, entry in nets.items()}
    shallow, deep, residual = final["plain, 8 layers"], final["plain, 32 layers"], final["residual, 32 layers"]
    # the deep plain net fits worse than the shallow one and than its residual twin, beyond the spread
    assert deep.mean() - deep.std() > shallow.mean() + shallow.std()
    assert deep.mean() - deep.std() > residual.mean() + residual.std()
    assert deep.mean() > 2 * residual.mean()
    # within the budget the residual twin does not beat the shallow net (the text says so)
    assert residual.mean() > shallow.mean()
    init = {name: np.mean(entry["grad_norm_init"], axis=0) for name, entry in nets.items()}
    plain_ratio = init["plain, 32 layers"][0] / init["plain, 32 layers"][-1]
    residual_ratio = init["residual, 32 layers"][0] / init["residual, 32 layers"][-1]
    assert plain_ratio > 10 * residual_ratio
    _, prose, _ = _notebook()
    for values in (shallow, deep, residual):
        assert f"{values.mean():.3f} ± {values.std():.3f}" in prose
    assert f"{plain_ratio:.0f} times the last layer's" in prose
    assert f"the ratio is {residual_ratio:.1f}" in prose


def test_attention_lies_on_the_shape():
    _, _, outputs = _notebook()
    text = _output_containing(outputs, "of the occlusion sensitivity")
    area, saliency, std_saliency, occlusion, std_occlusion = (float(v) for v in re.findall(r"\d+\.\d+", text))
    assert occlusion > 1.5 * area and occlusion - std_occlusion > area  # "about half ... under a third"
    assert area < saliency < area + std_saliency  # "a little more ... spread as large as the difference"
    assert area < 1 / 3 and 0.4 < occlusion < 0.65


def test_architecture_conclusions_hold_and_are_cited():
    """The text claims no ranking of the architectures (the budget is too small), only costs,
    near-chance accuracies, AlexNet's plateau and the gap between training and test accuracy."""
    rows = {row["name"]: row for row in load_results("05_architectures")["results"]["architectures"]}
    means = [row["accuracy_mean"] for row in rows.values()]
    assert 0.125 < min(means) and max(means) < 0.25  # "between 0.15 and 0.23 (chance is 0.125)"
    assert f"between {min(means):.2f} and {max(means):.2f}" in re.sub(r"\s+", " ", _notebook()[1])
    assert all(abs(v - np.log(8)) < 0.01 for v in rows["AlexNet"]["train_loss_final"])
    others = [v for name, row in rows.items() if name != "AlexNet" for v in row["train_loss_final"]]
    assert max(others) < np.log(8) - 0.15
    assert rows["DenseNet"]["flops"] == max(row["flops"] for row in rows.values())
    assert rows["DenseNet"]["parameters"] < rows["AlexNet"]["parameters"] / 3.5
    cheapest = "ResNet (bottleneck blocks)"
    assert all(rows[cheapest][k] == min(row[k] for row in rows.values()) for k in ("parameters", "flops"))
    _, prose, outputs = _notebook()
    assert f"final training loss {min(others):.2f}–{max(others):.2f}" in prose
    for name, row in rows.items():
        assert f"{row['accuracy_mean']:.3f} ± {row['accuracy_std']:.3f}" in prose, name
    # the live run fits its training images far better than new ones ("almost half ... one in five")
    live = _output_containing(outputs, "accuracy on its training images")
    train_accuracy, test_accuracy = (float(v) for v in
                                     re.search(r"training images ([\d.]+), test accuracy ([\d.]+)", live).groups())
    assert 0.4 < train_accuracy < 0.5 and 0.15 < test_accuracy < 0.25
    assert train_accuracy > 2 * test_accuracy


def test_transfer_conclusions_hold_and_are_cited():
    transfer = load_results("05_transfer")["results"]

    def m(strategy, size):
        return transfer["mean"][strategy][str(size)]

    def s(strategy, size):
        return transfer["std"][strategy][str(size)]

    for size in transfer["sizes"]:  # pre-training pays off at every size, far beyond the spread
        assert m("linear probe", size) - m("from scratch", size) > 3 * (s("linear probe", size) + s("from scratch", size))
        assert m("last block fine-tuned", size) - m("from scratch", size) > s("last block fine-tuned", size) + s("from scratch", size)
    assert m("from scratch", 1) < 0.3  # near chance (0.25)
    for size in (1, 3, 10):  # fine-tuning everything is clearly worse than the probe with little data
        assert m("linear probe", size) - m("all fine-tuned", size) > s("linear probe", size) + s("all fine-tuned", size)
        assert m("linear probe", size) >= m("last block fine-tuned", size)
    for size in (1, 3):
        assert m("linear probe", size) - m("last block fine-tuned", size) < s("linear probe", size) + s("last block fine-tuned", size)
    assert m("last block fine-tuned", 30) > m("linear probe", 30)
    _, prose, _ = _notebook()
    for strategy, size in [("from scratch", 1), ("linear probe", 1), ("from scratch", 10), ("linear probe", 10),
                           ("last block fine-tuned", 10), ("all fine-tuned", 30)]:
        assert f"{m(strategy, size):.3f} ± {s(strategy, size):.3f}" in prose, (strategy, size)
    gaps = [m("linear probe", k) - m("from scratch", k) for k in transfer["sizes"]]
    assert f"{min(gaps):.2f} to {max(gaps):.2f} in accuracy" in prose


def test_exercise_threshold_sits_well_above_the_baseline():
    transfer = load_results("05_transfer")["results"]
    scratch, probe = transfer["mean"]["from scratch"]["10"], transfer["mean"]["linear probe"]["10"]
    assert scratch + 0.25 < 0.68 < probe  # q7's full-credit threshold (solutions/05_modern_cnns/tests.py)


def test_numpy_basic_block_matches_torch_in_the_notebook():
    _, _, outputs = _notebook()
    shown = _output_containing(outputs, "in NumPy against torch")
    assert shown.count("max |difference| < 1e-10: True") == 2 and "False" not in shown


# ------------------------------------- exercise 05: no read-only cell holds q1's answer (IoU)
def test_exercise_release_gives_no_iou_and_q2_q4_use_the_injected_reference(tmp_path):
    from grading_support import grade_variants, honest_answers

    release = json.loads((ROOT / "exercises" / "05_modern_cnns_exercises.ipynb").read_text())
    readonly = ["".join(cell["source"]) for cell in release["cells"] if cell["cell_type"] == "code"
                and cell["metadata"]["coursekit"]["kind"] == "readonly"]
    assert readonly and not any("iou" in source.lower() or "union" in source for source in readonly)
    answers = honest_answers("05_modern_cnns")
    (q1,) = [k for k, source in answers.items() if "def box_iou" in source]
    grades = grade_variants(tmp_path, "05_modern_cnns", {
        "reference": {},
        # the old loophole: q1 answered by the read-only cell's vectorized IoU
        "helper": {q1: "def box_iou(boxes_a, boxes_b):\n    return iou_matrix(boxes_a, boxes_b)\n"},
        # a wrong IoU costs q1 only: q2 and q4 are graded with the reference box_iou injected
        "wrong_iou": {q1: "def box_iou(boxes_a, boxes_b):\n    return np.zeros((len(boxes_a), len(boxes_b)))\n"},
    })
    assert grades["reference"] == {"q1": 2.0, "q2": 3.0, "q3": 2.0, "q4": 3.0, "q5": 3.0, "q6": 3.0, "q7": 4.0}
    for name in ("helper", "wrong_iou"):
        assert grades[name] == {**grades["reference"], "q1": 0.0}, name
