"""Box arithmetic of coursekit.nn.detection: hand-computed cases, invariants, edge cases."""

import numpy as np
import pytest

from coursekit.gradcheck import numerical_gradient
from coursekit.nn import detection as D


# ------------------------------------------------------------------ IoU
def test_iou_hand_computed():
    a = np.array([[0, 0, 2, 2], [0, 0, 4, 4], [0, 0, 1, 1]])
    b = np.array([[1, 1, 3, 3], [1, 1, 3, 3], [2, 2, 3, 3], [1, 0, 2, 1]])
    iou = D.box_iou(a, b)
    assert iou.shape == (3, 4)
    assert iou[0, 0] == pytest.approx(1 / 7)  # overlap 1, union 4 + 4 - 1
    assert iou[1, 1] == pytest.approx(4 / 16)  # containment: small area / big area
    assert iou[2, 2] == 0.0  # no overlap
    assert iou[2, 3] == 0.0  # touching edges only
    assert D.box_area([[0, 0, 3, 2]])[0] == 6


def test_iou_invariants():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 50, size=(30, 2))
    boxes = np.c_[xy, xy + rng.uniform(1, 20, size=(30, 2))]
    iou = D.box_iou(boxes, boxes)
    np.testing.assert_allclose(iou, iou.T)
    np.testing.assert_allclose(np.diag(iou), 1.0)
    assert np.all((iou >= 0) & (iou <= 1))
    np.testing.assert_allclose(D.box_iou(boxes + 7.5, boxes + 7.5), iou, atol=1e-12)  # translation
    np.testing.assert_allclose(D.box_iou(3 * boxes, 3 * boxes), iou, atol=1e-12)  # scale


def test_iou_edge_cases_and_validation():
    assert D.box_iou(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)
    assert D.box_iou([0, 0, 1, 1], [0, 0, 1, 1]).shape == (1, 1)
    assert D.box_iou([[1, 1, 1, 1]], [[1, 1, 1, 1]])[0, 0] == 0.0  # empty boxes: 0, not NaN
    with pytest.raises(ValueError, match="x1 <= x2"):
        D.box_iou([[5, 5, 2, 8]], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        D.box_iou([[0, 0, 1]], [[0, 0, 1, 1]])


# ------------------------------------------------------------------ NMS
def test_nms_hand_computed():
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]
    scores = [0.9, 0.8, 0.7]
    # IoU(0, 1) = 81 / 119 = 0.68
    assert D.nms(boxes, scores, 0.5).tolist() == [0, 2]
    assert D.nms(boxes, scores, 0.7).tolist() == [0, 1, 2]
    assert D.nms(boxes, [0.1, 0.8, 0.7], 0.5).tolist() == [1, 2]
    assert D.nms(np.zeros((0, 4)), [], 0.5).tolist() == []


def test_nms_ties_and_threshold_equality():
    same = [[0, 0, 4, 4], [0, 0, 4, 4], [0, 0, 4, 4]]
    assert D.nms(same, [0.5, 0.5, 0.5], 0.5).tolist() == [0]  # equal scores: first index
    assert D.nms(same, [0.5, 0.6, 0.6], 0.5).tolist() == [1]
    # IoU exactly 1/3 is not greater than a threshold of 1/3: both stay
    assert D.nms([[0, 0, 2, 1], [1, 0, 3, 1]], [0.9, 0.8], 1 / 3).tolist() == [0, 1]


def test_nms_invariants_random():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 40, size=(60, 2))
    boxes = np.c_[xy, xy + rng.uniform(5, 20, size=(60, 2))]
    scores = rng.uniform(size=60)
    keep = D.nms(boxes, scores, 0.4)
    iou = D.box_iou(boxes, boxes)
    kept = iou[np.ix_(keep, keep)] - np.eye(len(keep))
    assert kept.max() <= 0.4  # survivors do not overlap each other too much
    assert np.all(np.diff(scores[keep]) <= 0)  # sorted by score
    dropped = np.setdiff1d(np.arange(60), keep)
    for i in dropped:  # each dropped box was suppressed by a kept box that scores higher
        killers = keep[(iou[i, keep] > 0.4) & (scores[keep] >= scores[i])]
        assert killers.size > 0
    assert D.nms(boxes, scores, 1.0).size == 60  # nothing has IoU > 1


def test_batched_nms_is_per_class():
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]]
    scores = [0.9, 0.8, 0.95]
    assert D.batched_nms(boxes, scores, [0, 0, 1], 0.5).tolist() == [2, 0]
    assert D.batched_nms(boxes, scores, [0, 1, 2], 0.5).tolist() == [2, 0, 1]
    assert D.batched_nms(np.zeros((0, 4)), [], [], 0.5).tolist() == []
    with pytest.raises(ValueError, match="iou_threshold must be in"):
        D.nms(boxes, scores, 1.5)
    with pytest.raises(ValueError, match="scores must have shape"):
        D.nms(boxes, [0.1], 0.5)


# ------------------------------------------------------------------ anchors
def test_anchor_shapes_area_and_ratio():
    wh = D.anchor_shapes([2, 4], [0.5, 1, 2])
    assert wh.shape == (6, 2)
    np.testing.assert_allclose(wh.prod(axis=1), [4, 4, 4, 16, 16, 16])
    np.testing.assert_allclose(wh[:, 1] / wh[:, 0], [0.5, 1, 2, 0.5, 1, 2])
    np.testing.assert_allclose(wh[0], [2 * np.sqrt(2), np.sqrt(2)])
    assert D.anchor_shapes([128, 256, 512], [0.5, 1, 2]).shape == (9, 2)  # Faster R-CNN's 9


def test_make_anchors_layout():
    anchors = D.make_anchors((2, 3), stride=8, scales=[16], ratios=[1])
    assert anchors.shape == (6, 4)
    np.testing.assert_allclose(anchors[0], [-4, -4, 12, 12])  # cell (0, 0) centred on (4, 4)
    grid = anchors.reshape(2, 3, 1, 4)
    np.testing.assert_allclose(grid[1, 2, 0], [20 - 8, 12 - 8, 20 + 8, 12 + 8])
    anchors = D.make_anchors((4, 4), stride=16, scales=[8, 16], ratios=[0.5, 1, 2])
    assert anchors.shape == (4 * 4 * 6, 4)
    centres = (anchors[:, :2] + anchors[:, 2:]) / 2
    np.testing.assert_allclose(centres.reshape(4, 4, 6, 2)[2, 1, :, :], [[24, 40]] * 6)
    with pytest.raises(ValueError, match="positive"):
        D.make_anchors((2, 2), 8, [0], [1])
    with pytest.raises(ValueError, match="feature_shape"):
        D.make_anchors(4, 8, [8], [1])


def test_box_coding_round_trip():
    rng = np.random.default_rng(2)
    anchors = D.make_anchors((3, 3), 10, [8, 12], [0.5, 2])
    xy = rng.uniform(0, 30, size=(len(anchors), 2))
    boxes = np.c_[xy, xy + rng.uniform(2, 15, size=(len(anchors), 2))]
    deltas = D.encode_boxes(boxes, anchors)
    np.testing.assert_allclose(D.decode_boxes(deltas, anchors), boxes, atol=1e-10)
    np.testing.assert_allclose(D.encode_boxes(anchors, anchors), 0.0, atol=1e-12)
    np.testing.assert_allclose(D.encode_boxes([[2, 0, 6, 8]], [[0, 0, 4, 4]]),
                               [[0.5, 0.5, 0.0, np.log(2)]])


# ------------------------------------------------------------------ RoI pooling
FEATURES = np.arange(16, dtype=float).reshape(1, 1, 4, 4)


def test_roi_pool_hand_computed():
    out, _ = D.roi_pool_forward(FEATURES, [[0, 0, 0, 4, 4]], 2)
    np.testing.assert_array_equal(out[0, 0], [[5, 7], [13, 15]])
    # a 3x3 region in 2x2 bins: bins overlap by one column/row (cols 0-1 and 1-2)
    out, _ = D.roi_pool_forward(FEATURES, [[0, 0, 0, 3, 3]], 2)
    np.testing.assert_array_equal(out[0, 0], [[5, 6], [9, 10]])
    # image coordinates at twice the feature map's resolution
    out, _ = D.roi_pool_forward(FEATURES, [[0, 0, 0, 8, 8]], 2, spatial_scale=0.5)
    np.testing.assert_array_equal(out[0, 0], [[5, 7], [13, 15]])
    # a fractional box covers every cell it touches: x in [0.5, 2.2) -> columns 0..2
    out, _ = D.roi_pool_forward(FEATURES, [[0, 0.5, 1, 2.2, 2]], (1, 3))
    np.testing.assert_array_equal(out[0, 0], [[4, 5, 6]])


def test_roi_pool_invariants():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 12, 12))
    rois = np.array([[0, 1, 2, 9, 11], [1, 0, 0, 12, 12], [1, 4, 4, 7, 7]], dtype=float)
    out, _ = D.roi_pool_forward(x, rois, (3, 2))
    assert out.shape == (3, 3, 3, 2)
    # the largest output is the region's maximum
    np.testing.assert_allclose(out[0].max(axis=(1, 2)), x[0, :, 2:11, 1:9].max(axis=(1, 2)))
    np.testing.assert_allclose(out[1].max(axis=(1, 2)), x[1].max(axis=(1, 2)))
    # an output as large as the region copies it
    crop, _ = D.roi_pool_forward(x, [[1, 4, 4, 7, 7]], 3)
    np.testing.assert_array_equal(crop[0], x[1, :, 4:7, 4:7])
    # shifting the features and the region together changes nothing
    shifted = np.roll(x, (2, 3), axis=(2, 3))
    a, _ = D.roi_pool_forward(x, [[0, 1, 1, 6, 7]], 2)
    b, _ = D.roi_pool_forward(shifted, [[0, 4, 3, 9, 9]], 2)
    np.testing.assert_array_equal(a, b)
    # a region outside the map gives zeros, not an error
    out, _ = D.roi_pool_forward(x, [[0, 20, 20, 30, 30]], 2)
    assert np.all(out == 0)


def test_roi_pool_backward_matches_numerical_gradient():
    rng = np.random.default_rng(4)
    x = rng.permutation(2 * 2 * 6 * 6).reshape(2, 2, 6, 6).astype(float)  # distinct: no ties
    rois = [[0, 0, 0, 5, 4], [1, 1, 1, 6, 6], [0, 2, 1, 4, 6]]
    out, cache = D.roi_pool_forward(x, rois, 2)
    dout = rng.normal(size=out.shape)
    dx = D.roi_pool_backward(dout, cache)
    num = numerical_gradient(lambda z: np.sum(D.roi_pool_forward(z, rois, 2)[0] * dout), x.copy(),
                             h=1e-3)
    np.testing.assert_allclose(dx, num, atol=1e-6)


def test_roi_pool_validation():
    with pytest.raises(ValueError, match=r"rois must have shape \(K, 5\)"):
        D.roi_pool_forward(FEATURES, [[0, 0, 4, 4]], 2)
    with pytest.raises(ValueError, match="batch indices"):
        D.roi_pool_forward(FEATURES, [[1, 0, 0, 4, 4]], 2)
    with pytest.raises(ValueError, match="features must have shape"):
        D.roi_pool_forward(FEATURES[0], [[0, 0, 0, 4, 4]], 2)


# ------------------------------------------------------------------ AP / mAP
def test_average_precision_hand_computed():
    # one class, two images, 3 objects; detections by score: TP, FP (duplicate), TP, FP
    gt_boxes = [np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [20, 20, 30, 30]])]
    gt_labels = [np.array([0]), np.array([0, 0])]
    pred_boxes = [np.array([[0, 0, 10, 10], [1, 1, 10, 10]]),
                  np.array([[20, 20, 30, 30], [50, 50, 60, 60]])]
    pred_scores = [np.array([0.9, 0.8]), np.array([0.7, 0.6])]
    pred_labels = [np.array([0, 0]), np.array([0, 0])]
    m = D.mean_average_precision(pred_boxes, pred_scores, pred_labels, gt_boxes, gt_labels)
    np.testing.assert_allclose(m.precision[0], [1, 1 / 2, 2 / 3, 1 / 2])
    np.testing.assert_allclose(m.recall[0], [1 / 3, 1 / 3, 2 / 3, 2 / 3])
    # envelope: precision 1 up to recall 1/3, 2/3 up to recall 2/3
    assert m.ap[0] == pytest.approx(1 / 3 * 1 + 1 / 3 * 2 / 3)
    assert m.map == pytest.approx(5 / 9)
    assert m.n_ground_truth.tolist() == [3]


def test_average_precision_envelope_and_empty():
    assert D.average_precision([], []) == 0.0
    assert D.average_precision([0.5, 1.0], [1.0, 1.0]) == pytest.approx(1.0)
    # a dip is filled by the later, higher precision
    assert D.average_precision([0.25, 0.25, 0.5], [1.0, 0.5, 2 / 3]) == pytest.approx(
        0.25 * 1 + 0.25 * 2 / 3)


def test_match_is_greedy_by_score_and_duplicates_are_false():
    gt = [[0, 0, 10, 10], [5, 0, 15, 10]]
    # the better-scored detection takes gt 0; the second overlaps gt 0 most (0.67 > 0.54), which
    # is taken, so it is a false positive (the PASCAL VOC rule)
    is_tp = D.match_detections([[2, 0, 12, 10], [0, 0, 10, 10]], [0.8, 0.9], gt)
    assert is_tp.tolist() == [False, True]
    assert D.match_detections([[0, 0, 10, 10]], [0.9], np.zeros((0, 4))).tolist() == [False]
    assert D.match_detections(np.zeros((0, 4)), [], gt).tolist() == []
    assert D.match_detections([[0, 0, 10, 5]], [0.9], gt, iou_threshold=0.5).tolist() == [True]
    assert D.match_detections([[0, 0, 10, 4]], [0.9], gt, iou_threshold=0.5).tolist() == [False]


def test_map_classes_without_detections_or_ground_truth():
    gt_boxes = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]])]
    gt_labels = [np.array([0, 1])]
    # class 0 found perfectly, class 1 never detected, class 2 has only a false detection
    pred_boxes = [np.array([[0, 0, 10, 10], [40, 40, 50, 50]])]
    m = D.mean_average_precision(pred_boxes, [np.array([0.9, 0.5])], [np.array([0, 2])],
                                 gt_boxes, gt_labels, n_classes=3)
    assert m.ap[0] == 1.0 and m.ap[1] == 0.0 and np.isnan(m.ap[2])
    assert m.map == pytest.approx(0.5)
    # no detections at all
    m = D.mean_average_precision([np.zeros((0, 4))], [np.zeros(0)], [np.zeros(0, int)],
                                 gt_boxes, gt_labels)
    assert m.map == 0.0 and m.precision[0].size == 0
    # perfect detections everywhere
    m = D.mean_average_precision(gt_boxes, [np.array([0.3, 0.2])], gt_labels, gt_boxes, gt_labels)
    assert m.map == 1.0
    with pytest.raises(ValueError, match="one entry per image"):
        D.mean_average_precision(gt_boxes, [], gt_labels, gt_boxes, gt_labels)
    with pytest.raises(ValueError, match="n_classes is 1"):
        D.mean_average_precision(gt_boxes, [np.array([0.3, 0.2])], gt_labels, gt_boxes,
                                 gt_labels, n_classes=1)


def test_map_does_not_depend_on_image_order_or_score_scale():
    rng = np.random.default_rng(5)
    gts, gls, pbs, pss, pls = [], [], [], [], []
    for _ in range(8):
        xy = rng.uniform(0, 50, size=(3, 2))
        g = np.c_[xy, xy + 10]
        gts.append(g)
        gls.append(rng.integers(0, 3, 3))
        noisy = g + rng.normal(scale=2.0, size=g.shape)
        noisy[:, 2:] = np.maximum(noisy[:, 2:], noisy[:, :2] + 1)
        pbs.append(np.r_[noisy, [[0, 0, 5, 5]]])
        pss.append(rng.uniform(size=4))
        pls.append(np.r_[gls[-1], [rng.integers(0, 3)]])
    m = D.mean_average_precision(pbs, pss, pls, gts, gls)
    assert 0 < m.map < 1
    order = rng.permutation(8)
    m2 = D.mean_average_precision([pbs[i] for i in order], [pss[i] * 10 for i in order],
                                  [pls[i] for i in order], [gts[i] for i in order],
                                  [gls[i] for i in order])
    assert m2.map == pytest.approx(m.map)
