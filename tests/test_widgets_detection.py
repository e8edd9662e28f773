"""DetectionExplorer (headless) and the detection viz helpers."""

import numpy as np
import pytest

from coursekit.data import make_shape_scenes
from coursekit.viz.detection import filter_detections, operating_point
from coursekit.widgets import DetectionExplorer
from coursekit.widgets.base import FigureWidget


@pytest.fixture(autouse=True)
def small_pictures(monkeypatch):
    monkeypatch.setattr(FigureWidget, "dpi", 30)


def fake_raw_output(scenes, seed=0):
    """What a detector's raw boxes look like: several jittered copies of every object (the
    first scored highest), some wrongly labelled, plus low-scoring false alarms."""
    rng = np.random.default_rng(seed)
    boxes, scores, labels = [], [], []
    for gb, gl in zip(scenes.boxes, scenes.labels):
        copies = np.repeat(gb, 3, axis=0) + rng.normal(scale=1.0, size=(3 * len(gb), 4))
        copies[:, 2:] = np.maximum(copies[:, 2:], copies[:, :2] + 1)
        s = np.tile([0.9, 0.6, 0.3], len(gb)) * rng.uniform(0.8, 1.0, size=3 * len(gb))
        lab = np.repeat(gl, 3)
        xy = rng.uniform(0, 50, size=(4, 2))
        alarms = np.c_[xy, xy + 10]
        boxes.append(np.r_[copies, alarms])
        scores.append(np.r_[s, rng.uniform(0.05, 0.7, size=4)])
        labels.append(np.r_[lab, rng.integers(0, len(scenes.class_names), 4)])
    return boxes, scores, labels


@pytest.fixture
def explorer():
    scenes = make_shape_scenes(12, seed=3)
    return DetectionExplorer(scenes.images, *fake_raw_output(scenes), scenes.boxes, scenes.labels,
                             scenes.class_names)


def change(widget, control, value):
    before_png, before_count = widget.image.value, widget.redraw_count
    getattr(widget, control).value = value
    assert widget.redraw_count == before_count + 1
    return widget.image.value != before_png


def test_filter_and_operating_point():
    boxes = [np.array([[0, 0, 10, 10], [1, 1, 10, 10], [30, 30, 40, 40.0]])]
    kept = filter_detections(boxes, [np.array([0.9, 0.8, 0.3])], [np.array([0, 0, 1])], 0.5, 0.5)
    assert kept[0][0].tolist() == [[0, 0, 10, 10]]
    point = operating_point(*kept, [np.array([[0, 0, 10, 10], [30, 30, 40, 40.0]])],
                            [np.array([0, 1])])
    assert (point["tp"], point["fp"], point["precision"], point["recall"]) == (1, 0, 1.0, 0.5)
    no_nms = filter_detections(boxes, [np.array([0.9, 0.8, 0.3])], [np.array([0, 0, 1])], 0.5, 1.0)
    point = operating_point(*no_nms, [np.array([[0, 0, 10, 10]])], [np.array([0])])
    assert (point["tp"], point["fp"]) == (1, 1)  # the duplicate is a false positive


def test_every_control_changes_state_and_picture(explorer):
    s0 = explorer.state()
    assert change(explorer, "score_threshold", 0.2)
    s1 = explorer.state()
    assert s1["n_kept"] > s0["n_kept"] and s1["recall"] >= s0["recall"]
    assert change(explorer, "iou_threshold", 1.0)  # NMS off: the duplicates come back
    s2 = explorer.state()
    assert s2["n_kept"] > s1["n_kept"] and s2["fp"] > s1["fp"] and s2["precision"] < s1["precision"]
    assert change(explorer, "image_index", 5)
    assert explorer.state()["image_index"] == 5
    np.testing.assert_array_equal(explorer.state()["kept_boxes_image"].shape[1:], (4,))
    assert "precision" in explorer.message.value


def test_nms_removes_duplicates_and_high_threshold_trades_recall(explorer):
    explorer.set(score_threshold=0.05, iou_threshold=0.5)
    low = explorer.state()
    explorer.set(score_threshold=0.9)
    high = explorer.state()
    assert high["recall"] < low["recall"] and high["n_kept"] < low["n_kept"]
    assert low["recall"] > 0.9  # one copy of every object survives NMS


def test_render_static_and_validation(explorer):
    figure = explorer.render_static()
    assert len(figure.axes) == 4
    with pytest.raises(ValueError, match="one entry per image"):
        DetectionExplorer(explorer.images, [], [], [], [], [], ("a",))
