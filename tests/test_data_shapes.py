"""Statistics of the procedural shapes set: balance, tight boxes, determinism, variety."""

import time

import numpy as np
import pytest

from coursekit import data
from coursekit.data import SHAPE_CLASSES, make_shape_scenes, make_shapes


def test_shapes_layout_and_class_balance():
    d = make_shapes(400, seed=1)
    assert d.images.shape == (400, 3, 32, 32) and d.images.dtype == np.float32
    assert 0.0 <= d.images.min() and d.images.max() <= 1.0
    assert d.labels.shape == (400,) and d.boxes.shape == (400, 4) and d.masks.shape == (400, 32, 32)
    assert d.class_names == SHAPE_CLASSES and len(SHAPE_CLASSES) >= 6
    assert np.bincount(d.labels).tolist() == [50] * 8
    # not in class order: shuffled
    assert np.mean(np.diff(d.labels) == 1) < 0.5


def test_classes_subset_relabels_from_zero():
    d = make_shapes(90, classes=("star", "ring", 0), seed=0)
    assert d.class_names == ("star", "ring", "circle")
    assert np.bincount(d.labels).tolist() == [30, 30, 30]


def _check_tight(boxes, masks):
    """Each box is exactly the bounding rectangle of its mask's pixels."""
    for box, mask in zip(boxes, masks):
        rows, cols = np.nonzero(mask)
        assert rows.size > 0
        np.testing.assert_array_equal(box, [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])


def test_shape_boxes_inside_and_tight():
    d = make_shapes(300, seed=2)
    assert np.all(d.boxes[:, :2] >= 0) and np.all(d.boxes[:, 2:] <= 32)
    assert np.all(d.boxes[:, 2:] > d.boxes[:, :2])
    _check_tight(d.boxes, d.masks)
    # a shape fills a fair part of its box (a thin ring or crescent the least)
    area = d.masks.sum(axis=(1, 2))
    box_area = np.prod(d.boxes[:, 2:] - d.boxes[:, :2], axis=1)
    assert np.all(area <= box_area) and np.all(area >= 0.15 * box_area)


def test_mask_pixels_are_painted_with_contrast():
    d = make_shapes(200, seed=3, noise=0.0, clutter=0)
    lum = np.tensordot([0.299, 0.587, 0.114], d.images, axes=(0, 1))  # (N, H, W)
    inside = np.array([lum[i][d.masks[i]].mean() for i in range(200)])
    outside = np.array([lum[i][~d.masks[i]].mean() for i in range(200)])
    # foreground and background differ by >= 0.3 in luminance before texture and gradient
    assert np.median(np.abs(inside - outside)) > 0.25


def test_determinism_per_seed():
    a, b, c = make_shapes(50, seed=7), make_shapes(50, seed=7), make_shapes(50, seed=8)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.boxes, b.boxes)
    assert not np.array_equal(a.images, c.images)
    s, t = make_shape_scenes(20, seed=3), make_shape_scenes(20, seed=3)
    np.testing.assert_array_equal(s.images, t.images)
    for b1, b2 in zip(s.boxes, t.boxes):
        np.testing.assert_array_equal(b1, b2)


def test_variety_of_size_position_colour():
    d = make_shapes(800, seed=4)
    width = d.boxes[:, 2] - d.boxes[:, 0]
    centre = (d.boxes[:, :2] + d.boxes[:, 2:]) / 2
    assert width.min() <= 10 and width.max() >= 24  # sizes span the range
    assert centre.std(axis=0).min() > 3  # positions vary in both directions
    colour = d.images.reshape(800, 3, -1).mean(axis=2)
    assert colour.std(axis=0).min() > 0.15  # colours vary in every channel
    # rotation: the same class has many box aspect ratios
    squares = d.labels == SHAPE_CLASSES.index("square")
    aspect = (width / (d.boxes[:, 3] - d.boxes[:, 1]))[squares]
    assert width[squares].std() > 2 and aspect.std() > 0.02


def test_scenes_boxes_labels_and_tightness():
    s = make_shape_scenes(150, image_size=64, objects=(1, 4), seed=5)
    assert s.images.shape == (150, 3, 64, 64) and len(s.boxes) == len(s.labels) == 150
    counts = np.array([len(b) for b in s.boxes])
    assert counts.min() >= 1 and counts.max() <= 4 and counts.mean() > 2
    all_labels = np.concatenate(s.labels)
    assert np.bincount(all_labels, minlength=8).min() > 0.5 * len(all_labels) / 8
    for i in range(150):
        b = s.boxes[i]
        assert b.shape == (counts[i], 4)
        assert np.all(b[:, :2] >= 0) and np.all(b[:, 2:] <= 64)
        assert set(np.unique(s.masks[i])) == set(range(counts[i] + 1))
        _check_tight(b, [s.masks[i] == j + 1 for j in range(counts[i])])
        # shapes do not overlap: their boxes cover disjoint pixel sets in the instance map
        assert (s.masks[i] > 0).sum() == sum((s.masks[i] == j + 1).sum() for j in range(counts[i]))


def test_scene_object_counts_follow_the_request():
    s = make_shape_scenes(40, objects=(2, 2), seed=0)
    assert all(len(b) == 2 for b in s.boxes)
    s = make_shape_scenes(20, objects=(0, 1), seed=0, classes=("cross",))
    assert {len(b) for b in s.boxes} == {0, 1}
    assert all(np.all(lab == 0) for lab in s.labels)
    assert all(b.shape[1] == 4 for b in s.boxes)


def test_fast_enough():
    make_shapes(50)
    start = time.process_time()
    make_shapes(1000, seed=0)
    assert time.process_time() - start < 1.5


@pytest.mark.parametrize("call, error, message", [
    (lambda: make_shapes(0), ValueError, "n_samples must be >= 1"),
    (lambda: make_shapes(10.5), TypeError, "n_samples must be an integer"),
    (lambda: make_shapes(10, image_size=8), ValueError, "image_size must be >= 16"),
    (lambda: make_shapes(10, classes=("circle", "blob")), ValueError, "unknown shape class 'blob'"),
    (lambda: make_shapes(10, classes="circle"), TypeError, "wrap it in a tuple"),
    (lambda: make_shapes(10, classes=(9,)), ValueError, "out of range"),
    (lambda: make_shapes(10, classes=("ring", "ring")), ValueError, "duplicates"),
    (lambda: make_shapes(10, classes=()), ValueError, "at least one"),
    (lambda: make_shapes(10, noise=-1), ValueError, "noise must be"),
    (lambda: make_shapes(10, clutter=-1), ValueError, "clutter must be >= 0"),
    (lambda: make_shapes(10, size_range=(0.4, 0.2)), ValueError, "size_range must satisfy"),
    (lambda: make_shapes(10, size_range=3), TypeError, "size_range must be a pair"),
    (lambda: make_shape_scenes(5, objects=3), TypeError, "objects must be a pair"),
    (lambda: make_shape_scenes(5, objects=(3, 1)), ValueError, r"objects\[1\]"),
    (lambda: make_shape_scenes(5, image_size=20), ValueError, "image_size must be >= 32"),
])
def test_validation_messages(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_reexported_from_data():
    assert data.make_shapes is make_shapes and data.ShapeScenes is not None
