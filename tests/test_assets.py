"""coursekit.assets: results tables and weights of the experiments, written and read back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from coursekit import assets


def test_results_round_trip_with_how_they_were_made(tmp_path):
    path = assets.save_results("05_demo", {"accuracy": [0.9, 0.91]}, script="experiments/x.py",
                               command="python experiments/x.py --quick", seeds=[0, 1],
                               log=["seed 0: 0.9"], folder=tmp_path)
    record = json.loads(path.read_text())
    assert record["results"] == {"accuracy": [0.9, 0.91]} and record["seeds"] == [0, 1]
    assert record["command"].endswith("--quick") and record["log"] == ["seed 0: 0.9"]
    assert assets.load_results("05_demo", folder=tmp_path) == record
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_weights_round_trip_without_pickle_and_refuse_over_1_mb(tmp_path):
    arrays = {"w": np.arange(6.0).reshape(2, 3), "b": np.zeros(3, dtype=np.float32)}
    assets.save_weights("tiny", arrays, folder=tmp_path)
    loaded = assets.load_weights("tiny", folder=tmp_path)
    assert set(loaded) == {"w", "b"} and np.array_equal(loaded["w"], arrays["w"])
    noise = np.random.default_rng(0).normal(size=300_000)  # incompressible: ~2.4 MB
    with pytest.raises(ValueError, match="1 MB"):
        assets.save_weights("big", {"w": noise}, folder=tmp_path)
    assert not (tmp_path / "big.npz").exists()


def test_errors_name_what_is_stored_and_what_is_allowed(tmp_path):
    assets.save_results("kept", {}, script="s", command="c", seeds=[], folder=tmp_path)
    with pytest.raises(FileNotFoundError, match="stored: kept"):
        assets.load_results("missing", folder=tmp_path)
    for bad in ("../escape", "", ".hidden"):
        with pytest.raises(ValueError, match="plain file name"):
            assets.load_results(bad, folder=tmp_path)


def test_every_stored_asset_loads_and_weights_stay_small():
    names = assets.available()
    assert names, "coursekit/assets/ holds no results"
    for name in names:
        if (assets.ASSETS / f"{name}.json").is_file():
            record = assets.load_results(name)
            assert {"script", "command", "seeds", "results"} <= set(record), name
        if (assets.ASSETS / f"{name}.npz").is_file():
            assert (assets.ASSETS / f"{name}.npz").stat().st_size <= assets.MAX_WEIGHTS_BYTES
            assert assets.load_weights(name)
