"""The chapter-03 experiment scripts still learn on their reduced budgets, and the stored tables
hold what notebooks 03a and 03b print from them (experiments/03_*.py -> coursekit/assets/03_*.json)."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from coursekit.assets import load_results

ROOT = Path(__file__).resolve().parents[1]


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_schedules_script_quick_still_learns(tmp_path):
    results = _script("03_schedules").main(["--quick", "--out", str(tmp_path)])
    stored = json.loads((tmp_path / "03_schedules.json").read_text())
    assert stored["command"].endswith("--quick") and stored["seeds"] == [0]
    for name, runs in results["schedules"].items():
        run = runs[0]
        assert len(run["loss"]) == len(run["lr"]) == results["config"]["epochs"]
        assert run["loss"][-1] < 0.5 * run["loss"][0], name  # the training loss falls
        assert run["val_accuracy"][-1] > 0.8, name  # chance is 0.1


@pytest.mark.slow
def test_normalization_script_quick_still_learns(tmp_path):
    results = _script("03_normalization").main(["--quick", "--out", str(tmp_path)])
    assert (tmp_path / "03_normalization.json").is_file()
    for name in ("batch norm", "layer norm"):
        run = results["norms"][name][0]
        assert run["loss"][-1] < run["loss"][0]
        assert run["val_accuracy"][-1] > 0.5, name  # chance is 0.1


@pytest.mark.slow
def test_transfer_script_quick_still_learns(tmp_path):
    results = _script("03_transfer").main(["--quick", "--out", str(tmp_path)])
    assert results["source_accuracy"] > 0.9  # digits 0-4 after pre-training
    assert results["accuracy"]["from scratch"]["None"][0] > 0.8  # chance is 0.2
    assert set(results["accuracy"]) >= {"from scratch", "linear probe", "last layers fine-tuned",
                                        "all layers fine-tuned", "linear probe, random body"}


@pytest.mark.slow
def test_weight_decay_script_quick_still_learns(tmp_path):
    results = _script("03_weight_decay").main(["--quick", "--out", str(tmp_path)])
    assert (tmp_path / "03_weight_decay.json").is_file()
    for name, runs in results["methods"].items():
        curve = runs[0]["val_ce"]
        assert len(curve) == results["config"]["epochs"]
        assert curve[-1] < 0.5 * np.log(10), name  # it learns: well below chance (ln 10)


@pytest.mark.slow
def test_search_script_quick_still_learns(tmp_path):
    results = _script("03_search").main(["--quick", "--out", str(tmp_path)])
    assert (tmp_path / "03_search.json").is_file()
    assert max(t["score"] for t in results["random"][0]) > 0.5  # chance is 0.1
    run = results["halving"][0]
    assert len(run["rungs"]) == 3 and run["best_test_accuracy"] > 0.5


def test_stored_search_supports_the_text():
    """03b section 1: the budget is 81 epochs for every method, and the halving winners were
    trained 13 epochs against 9 (which the text says the comparison mixes in)."""
    search = load_results("03_search")["results"]
    assert sum(t["epochs"] for t in search["grid"]) == 81
    assert len(search["random"]) == len(search["halving"]) == 3
    for trials in search["random"]:
        assert sum(t["epochs"] for t in trials) == 81
    for run in search["halving"]:
        assert sum(t["epochs"] for t in run["trials"]) == 81
        assert run["trials"][run["best"]]["epochs"] == 13


def test_stored_tables_are_full_runs():
    schedules = load_results("03_schedules")
    assert not schedules["command"].endswith("--quick") and schedules["seeds"] == [0, 1, 2]
    for runs in schedules["results"]["schedules"].values():
        assert len(runs) == 3 and all(len(run["val_loss"]) == 20 for run in runs)
    norms = load_results("03_normalization")
    assert norms["seeds"] == [0, 1, 2]
    for runs in norms["results"]["norms"].values():
        assert len(runs) == 3 and all(len(run["loss"]) == 15 for run in runs)
    transfer = load_results("03_transfer")
    assert transfer["seeds"] == [0, 1, 2, 3, 4]
    for by_size in transfer["results"]["accuracy"].values():
        assert set(by_size) == {"1", "3", "10", "30", "None"}
        assert all(len(values) == 5 for values in by_size.values())
    decay = load_results("03_weight_decay")["results"]["methods"]
    for runs in decay.values():
        assert [run["lambda"] for run in runs] == [1e-3, 1e-2, 1e-1]
        assert all(len(run["val_ce"]) == 100 for run in runs)
    # the text: Adam + L2 collapses to chance (ln 10) at lambda = 0.1, AdamW does not
    assert abs(decay["Adam + L2 (weight_decay in Adam)"][2]["val_ce"][-1] - np.log(10)) < 0.01
    assert decay["AdamW (decoupled)"][2]["val_ce"][-1] < 1.0
    # the stored pre-trained network learned its source task
    assert transfer["results"]["source_accuracy"] > 0.95
    assert np.isclose(transfer["results"]["all_per_class"], 134, atol=2)


def _notebook_make_mlp(notebook):
    """The ``make_mlp`` a chapter-03 notebook defines (executed from its own source)."""
    import nbformat
    import torch
    from torch import nn

    cells = nbformat.read(ROOT / "notebooks" / notebook, as_version=4).cells
    source = next(c.source for c in cells if c.cell_type == "code" and "def make_mlp(" in c.source)
    namespace = {"torch": torch, "nn": nn, "np": np}
    exec(source, namespace)  # noqa: S102 - the course's own notebook cell
    return namespace["make_mlp"]


@pytest.mark.parametrize("notebook, configs", [
    ("03a_training_deep_networks.ipynb", [dict(sizes=[64, 32, 10]), dict(sizes=[64, 16, 16, 10], seed=3)]),
    ("03b_tuning_and_regularization.ipynb", [dict(sizes=[64, 256, 256, 10]), dict(sizes=[64, 32, 10], seed=2, dropout=0.5),
                                              dict(sizes=[64, 32, 32, 10], seed=1, norm="LayerNorm")]),
])
def test_shared_mlp_builder_is_the_notebooks_make_mlp(notebook, configs):
    """The 03 scripts build their networks with coursekit.models.mlp.make_mlp: the same layers,
    weights and outputs as the notebook's own make_mlp (so the stored tables keep their numbers)."""
    import torch
    from torch import nn

    from coursekit.models.mlp import make_mlp

    theirs = _notebook_make_mlp(notebook)
    x = torch.linspace(-1, 1, 5 * 64).reshape(5, 64)
    for config in configs:
        config = dict(config)
        if "norm" in config:
            config["norm"] = getattr(nn, config["norm"])
        a, b = make_mlp(**config), theirs(**config)
        assert [type(m) for m in a] == [type(m) for m in b]
        for (name, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
            assert torch.equal(p, q), name
        a.eval(), b.eval()
        assert torch.equal(a(x), b(x))


def test_shared_mlp_builder_validates_its_arguments():
    from coursekit.models.mlp import make_mlp

    with pytest.raises(ValueError, match="sizes"):
        make_mlp([64])
    with pytest.raises(ValueError, match="dropout"):
        make_mlp([64, 10], dropout=1.0)


def test_scripts_share_the_builder_and_the_command_line():
    """No chapter-03 script keeps its own copy of make_mlp or of the --quick/--out parser."""
    for path in sorted((ROOT / "experiments").glob("03_*.py")):
        source = path.read_text()
        assert "def make_mlp" not in source, path.name
        assert "argparse" not in source, path.name
        assert "from coursekit.models.mlp import make_mlp" in source, path.name
        assert "Experiment(__file__, argv" in source, path.name


@pytest.mark.slow
def test_regularizers_script_quick_still_learns(tmp_path):
    results = _script("03_regularizers").main(["--quick", "--out", str(tmp_path)])
    stored = json.loads((tmp_path / "03_regularizers.json").read_text())
    assert stored["command"].endswith("--quick") and stored["seeds"] == [0]
    for name, metrics in results["penalties"].items():
        assert metrics["val_accuracy"]["mean"] > 0.5, name  # chance is 0.1
    for name, metrics in results["dropout"].items():
        assert metrics["val_accuracy"]["mean"] > 0.5, name
    for name, metrics in results["label smoothing"].items():
        assert metrics["test_accuracy"]["mean"] > 0.5, name
        assert 0 <= metrics["ece"]["mean"] <= 1
