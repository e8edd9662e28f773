"""Object detection's box arithmetic, NumPy only: IoU, NMS, anchors, box coding, RoI pooling,
and mAP@0.5.

Boxes are in corner format ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``, in pixel
units, x along the width. Box coordinates are continuous (pixel edges): a box from 0 to 4
covers four pixels, area ``(x2 - x1) * (y2 - y1)``, with no "+1" (torchvision's convention,
not the old VOC devkit's).

- ``box_area``, ``box_iou``                 areas (...,) and pairwise IoU (N, M)
- ``nms``, ``batched_nms``                  greedy non-maximum suppression (per class)
- ``anchor_shapes``, ``make_anchors``       Faster R-CNN's anchors for scales and ratios
- ``encode_boxes``, ``decode_boxes``        box regression targets relative to anchors
- ``roi_pool_forward``, ``roi_pool_backward``  Fast R-CNN's RoI max pooling
- ``match_detections``, ``average_precision``, ``precision_recall_curve``,
  ``mean_average_precision``                the PASCAL VOC metric (all-point AP, IoU >= 0.5)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .functional._checks import as_float_array, check_positive_int

# ---------------------------------------------------------------- checks


def _as_boxes(name, boxes):
    """``boxes`` as a float array (N, 4); a single box (4,) becomes (1, 4)."""
    b = as_float_array(name, boxes)
    if b.ndim == 1 and b.shape[0] == 4:
        b = b[None]
    if b.ndim == 1 and b.shape[0] == 0:
        b = b.reshape(0, 4)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4) with rows (x1, y1, x2, y2), "
                         f"got shape {np.shape(boxes)}")
    if not np.all(np.isfinite(b)):
        raise ValueError(f"{name} must hold finite numbers")
    if np.any(b[:, 2] < b[:, 0]) or np.any(b[:, 3] < b[:, 1]):
        bad = int(np.flatnonzero((b[:, 2] < b[:, 0]) | (b[:, 3] < b[:, 1]))[0])
        raise ValueError(f"{name} must be in corner format (x1, y1, x2, y2) with x1 <= x2 and "
                         f"y1 <= y2; row {bad} is {b[bad].tolist()} (is it (x, y, w, h) or "
                         f"(y1, x1, y2, x2)?)")
    return b


def _as_scores(name, scores, n):
    s = as_float_array(name, scores).reshape(-1) if np.size(scores) else np.zeros(0)
    if s.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one per box, "
                         f"got shape {np.shape(scores)}")
    return s


def _check_threshold(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 1], got {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return float(value)


# ---------------------------------------------------------------- IoU


def box_area(boxes):
    """Areas of boxes (..., 4) in corner format: (...,) ``(x2 - x1) * (y2 - y1)``."""
    b = np.asarray(boxes, dtype=float)
    return (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])


def box_iou(boxes_a, boxes_b):
    """Intersection over union of every pair: a (N, 4), b (M, 4) -> (N, M).

    ``IoU = |A ∩ B| / |A ∪ B|``; boxes that do not overlap (or only touch) give 0, and two
    empty boxes give 0 rather than 0 / 0.
    """
    a, b = _as_boxes("boxes_a", boxes_a), _as_boxes("boxes_b", boxes_b)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])  # (N, M, 2)
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(bottom_right - top_left, 0.0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


# ---------------------------------------------------------------- NMS


def nms(boxes, scores, iou_threshold=0.5):
    """Greedy non-maximum suppression: indices of the boxes kept, highest score first.

    Repeatedly keep the highest-scoring remaining box and drop every remaining box whose
    IoU with it is greater than ``iou_threshold`` (a box at exactly the threshold stays,
    as in torchvision). Equal scores are taken in index order (a stable sort), so of two
    identical boxes with the same score the first is kept.
    """
    b = _as_boxes("boxes", boxes)
    s = _as_scores("scores", scores, len(b))
    thr = _check_threshold("iou_threshold", iou_threshold)
    order = np.argsort(-s, kind="stable")
    iou = box_iou(b, b)
    suppressed = np.zeros(len(b), dtype=bool)
    keep = []
    for i in order:
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > thr
    return np.asarray(keep, dtype=np.int64)


def batched_nms(boxes, scores, labels, iou_threshold=0.5):
    """NMS within each class separately (boxes of different labels never suppress each
    other): indices kept, sorted by decreasing score (stable)."""
    b = _as_boxes("boxes", boxes)
    s = _as_scores("scores", scores, len(b))
    lab = np.asarray(labels).reshape(-1) if np.size(labels) else np.zeros(0, dtype=np.int64)
    if lab.shape != (len(b),):
        raise ValueError(f"labels must have shape ({len(b)},), one per box, got {np.shape(labels)}")
    keep = [np.flatnonzero(lab == c)[nms(b[lab == c], s[lab == c], iou_threshold)]
            for c in np.unique(lab)]
    keep = np.concatenate(keep) if keep else np.zeros(0, dtype=np.int64)
    return keep[np.argsort(-s[keep], kind="stable")].astype(np.int64)


# ---------------------------------------------------------------- anchors


def anchor_shapes(scales, ratios):
    """Anchor widths and heights (len(scales) * len(ratios), 2), scale-major.

    An anchor of scale ``s`` and aspect ratio ``r = height / width`` has area ``s**2``:
    ``w = s / sqrt(r)``, ``h = s * sqrt(r)`` (Faster R-CNN: scales 128, 256, 512 px and
    ratios 1:2, 1:1, 2:1 give its 9 anchors per position).
    """
    scales = as_float_array("scales", scales).reshape(-1)
    ratios = as_float_array("ratios", ratios).reshape(-1)
    if scales.size == 0 or ratios.size == 0:
        raise ValueError("scales and ratios must each hold at least one value")
    if np.any(scales <= 0) or np.any(ratios <= 0):
        raise ValueError(f"scales and ratios must be positive, got scales={scales.tolist()}, "
                         f"ratios={ratios.tolist()}")
    s, r = np.meshgrid(scales, ratios, indexing="ij")
    return np.stack([s / np.sqrt(r), s * np.sqrt(r)], axis=-1).reshape(-1, 2)


def make_anchors(feature_shape, stride, scales, ratios):
    """All anchors of a feature map: (H * W * A, 4) in corner format, image pixels.

    ``feature_shape`` is (H, W) of the feature map, ``stride`` its step in image pixels; the
    anchors of cell (i, j) are centred on ``((j + 0.5) * stride, (i + 0.5) * stride)``. The
    order is row i, then column j, then the A = len(scales) * len(ratios) shapes of
    :func:`anchor_shapes`, so ``anchors.reshape(H, W, A, 4)`` indexes them by cell.
    """
    try:
        h, w = feature_shape
    except (TypeError, ValueError):
        raise ValueError(f"feature_shape must be (H, W), got {feature_shape!r}") from None
    h, w = check_positive_int("feature_shape[0]", h), check_positive_int("feature_shape[1]", w)
    if isinstance(stride, bool) or not isinstance(stride, (int, float, np.integer, np.floating)) \
            or stride <= 0:
        raise ValueError(f"stride must be a positive number of pixels, got {stride!r}")
    wh = anchor_shapes(scales, ratios)  # (A, 2)
    cy, cx = np.meshgrid((np.arange(h) + 0.5) * stride, (np.arange(w) + 0.5) * stride,
                         indexing="ij")
    centres = np.stack([cx, cy], axis=-1).reshape(-1, 1, 2)  # (H W, 1, 2)
    anchors = np.concatenate([centres - wh / 2, centres + wh / 2], axis=-1)
    return anchors.reshape(-1, 4)


def encode_boxes(boxes, anchors):
    """Regression targets of boxes (N, 4) relative to anchors (N, 4): (N, 4) ``(tx, ty, tw, th)``.

    ``tx = (x - xa) / wa``, ``ty = (y - ya) / ha``, ``tw = log(w / wa)``, ``th = log(h / ha)``
    with (x, y) the centre and (w, h) the size (R-CNN's parameterization).
    """
    b, a = _as_boxes("boxes", boxes), _as_boxes("anchors", anchors)
    if b.shape != a.shape:
        raise ValueError(f"boxes and anchors must pair up: shapes {b.shape} and {a.shape}")
    wa, ha = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    if np.any(wa <= 0) or np.any(ha <= 0) or np.any(b[:, 2:] <= b[:, :2]):
        raise ValueError("boxes and anchors must have positive width and height to encode")
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    return np.stack([((b[:, 0] + b[:, 2]) - (a[:, 0] + a[:, 2])) / 2 / wa,
                     ((b[:, 1] + b[:, 3]) - (a[:, 1] + a[:, 3])) / 2 / ha,
                     np.log(w / wa), np.log(h / ha)], axis=1)


def decode_boxes(deltas, anchors):
    """Inverse of :func:`encode_boxes`: deltas (N, 4) and anchors (N, 4) -> boxes (N, 4)."""
    d = as_float_array("deltas", deltas)
    a = _as_boxes("anchors", anchors)
    if d.shape != a.shape:
        raise ValueError(f"deltas and anchors must pair up: shapes {d.shape} and {a.shape}")
    wa, ha = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    x = (a[:, 0] + a[:, 2]) / 2 + d[:, 0] * wa
    y = (a[:, 1] + a[:, 3]) / 2 + d[:, 1] * ha
    w, h = wa * np.exp(d[:, 2]), ha * np.exp(d[:, 3])
    return np.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], axis=1)


# ---------------------------------------------------------------- RoI pooling


def _roi_bins(start, length, n_bins, limit):
    """Integer bin edges along one axis: bin p covers [lo[p], hi[p]) (clipped to [0, limit))."""
    p = np.arange(n_bins)
    lo = start + np.floor(p * length / n_bins).astype(int)
    hi = start + np.ceil((p + 1) * length / n_bins).astype(int)
    return np.clip(lo, 0, limit), np.clip(hi, 0, limit)


def roi_pool_forward(features, rois, output_size, spatial_scale=1.0):
    """Fast R-CNN's RoI max pooling: a fixed-size grid of maxima from each region.

    features: (N, C, H, W). rois: (K, 5) rows ``(batch_index, x1, y1, x2, y2)`` in image
    coordinates; ``spatial_scale`` maps them onto the feature map (1 / total stride, e.g.
    1/16 for VGG's conv5). output_size: int or (PH, PW).

    The region covers feature columns ``floor(x1 * scale) .. ceil(x2 * scale) - 1`` (at least
    one), split into PW bins of (fractional) width ``roi_w / PW``; bin q covers columns
    ``floor(q roi_w / PW) .. ceil((q + 1) roi_w / PW) - 1`` from the region's start (bins may
    overlap by a column when the size is not a multiple), likewise rows. Each output is the
    maximum over its bin; a bin outside the feature map gives 0. (torchvision's ``roi_pool``
    rounds the corners and counts x2 as inclusive; here box edges are continuous.)

    Returns ``(out, cache)``: out (K, C, PH, PW) and cache for :func:`roi_pool_backward`.
    """
    x = as_float_array("features", features)
    if x.ndim != 4:
        raise ValueError(f"features must have shape (N, C, H, W), got shape {x.shape}")
    r = as_float_array("rois", rois)
    if r.ndim == 1 and r.size == 5:
        r = r[None]
    if r.ndim != 2 or r.shape[1] != 5:
        raise ValueError(f"rois must have shape (K, 5) with rows (batch_index, x1, y1, x2, y2), "
                         f"got shape {np.shape(rois)}")
    _as_boxes("rois[:, 1:]", r[:, 1:])
    if isinstance(output_size, (tuple, list)):
        ph, pw = (check_positive_int("output_size", v) for v in output_size)
    else:
        ph = pw = check_positive_int("output_size", output_size)
    if not float(spatial_scale) > 0:
        raise ValueError(f"spatial_scale must be positive, got {spatial_scale!r}")
    n, c, h, w = x.shape
    batch = r[:, 0].astype(int)
    if np.any(batch != r[:, 0]) or np.any(batch < 0) or np.any(batch >= n):
        raise ValueError(f"rois[:, 0] must be batch indices in 0..{n - 1}, got {r[:, 0].tolist()}")
    out = np.zeros((len(r), c, ph, pw), dtype=x.dtype)
    argmax = np.full((len(r), c, ph, pw), -1, dtype=np.int64)  # flat index into H * W
    for k in range(len(r)):
        x1, y1, x2, y2 = r[k, 1:] * spatial_scale
        col0, row0 = math.floor(x1), math.floor(y1)
        roi_w = max(math.ceil(x2) - col0, 1)
        roi_h = max(math.ceil(y2) - row0, 1)
        c_lo, c_hi = _roi_bins(col0, roi_w, pw, w)
        r_lo, r_hi = _roi_bins(row0, roi_h, ph, h)
        fmap = x[batch[k]]
        for i in range(ph):
            for j in range(pw):
                if r_hi[i] <= r_lo[i] or c_hi[j] <= c_lo[j]:
                    continue  # the bin lies outside the feature map
                window = fmap[:, r_lo[i]:r_hi[i], c_lo[j]:c_hi[j]].reshape(c, -1)
                best = np.argmax(window, axis=1)
                out[k, :, i, j] = window[np.arange(c), best]
                bw = c_hi[j] - c_lo[j]
                argmax[k, :, i, j] = (r_lo[i] + best // bw) * w + c_lo[j] + best % bw
    return out, (x.shape, batch, argmax)


def roi_pool_backward(dout, cache):
    """Gradient of :func:`roi_pool_forward` w.r.t. the features: each output's gradient goes
    to the one position that was its maximum (summed where bins or regions share it).
    dout (K, C, PH, PW) -> dfeatures (N, C, H, W)."""
    shape, batch, argmax = cache
    n, c, h, w = shape
    dout = np.asarray(dout, dtype=float)
    if dout.shape != argmax.shape:
        raise ValueError(f"dout must have shape {argmax.shape}, got {dout.shape}")
    dx = np.zeros((n, c, h * w))
    k_idx, c_idx, _, _ = np.indices(argmax.shape)
    valid = argmax >= 0
    np.add.at(dx, (batch[k_idx[valid]], c_idx[valid], argmax[valid]), dout[valid])
    return dx.reshape(shape)


# ---------------------------------------------------------------- mAP


def match_detections(det_boxes, det_scores, gt_boxes, iou_threshold=0.5):
    """Label each detection of one class in one image as true or false positive.

    Detections are visited by decreasing score (stable: equal scores in index order). Each
    takes the ground-truth box it overlaps most; it is a true positive if that IoU is
    ``>= iou_threshold`` and that ground truth is not yet taken, otherwise a false positive
    (a duplicate of an already found object counts as a false positive). This is the PASCAL
    VOC rule. Returns ``is_tp`` (D,) bool in the detections' original order.
    """
    d = _as_boxes("det_boxes", det_boxes)
    s = _as_scores("det_scores", det_scores, len(d))
    g = _as_boxes("gt_boxes", gt_boxes)
    thr = _check_threshold("iou_threshold", iou_threshold)
    is_tp = np.zeros(len(d), dtype=bool)
    if len(d) == 0 or len(g) == 0:
        return is_tp
    iou = box_iou(d, g)
    taken = np.zeros(len(g), dtype=bool)
    for i in np.argsort(-s, kind="stable"):
        j = int(np.argmax(iou[i]))
        if iou[i, j] >= thr and not taken[j]:
            taken[j] = True
            is_tp[i] = True
    return is_tp


def precision_recall_curve(scores, is_tp, n_ground_truth):
    """Precision and recall after each detection in order of decreasing score.

    scores (D,), is_tp (D,) bool (pooled over images), ``n_ground_truth`` the number of
    objects of the class. Returns ``(precision, recall, sorted_scores)``, each (D,).
    """
    s = as_float_array("scores", scores).reshape(-1)
    tp = np.asarray(is_tp, dtype=bool).reshape(-1)
    if tp.shape != s.shape:
        raise ValueError("scores and is_tp must have the same length, "
                         f"got {s.shape} and {tp.shape}")
    if n_ground_truth < 0:
        raise ValueError(f"n_ground_truth must be >= 0, got {n_ground_truth}")
    order = np.argsort(-s, kind="stable")
    tp_cum = np.cumsum(tp[order])
    fp_cum = np.cumsum(~tp[order])
    precision = tp_cum / np.maximum(tp_cum + fp_cum, 1)
    recall = tp_cum / n_ground_truth if n_ground_truth > 0 else np.zeros(len(s))
    return precision, recall, s[order]


def average_precision(recall, precision):
    """All-point interpolated AP (PASCAL VOC 2010 on): the area under the precision–recall
    curve after replacing each precision by the best precision at any higher recall.

    ``AP = sum_k (r_k - r_{k-1}) * max_{r >= r_k} p(r)`` over the recalls reached, r_0 = 0.
    recall, precision: (D,) in order of decreasing score. No detections give AP 0.
    """
    r = as_float_array("recall", recall).reshape(-1)
    p = as_float_array("precision", precision).reshape(-1)
    if r.shape != p.shape:
        raise ValueError("recall and precision must have the same length, "
                         f"got {r.shape}, {p.shape}")
    if r.size == 0:
        return 0.0
    mrec = np.concatenate([[0.0], r, [1.0]])
    mpre = np.concatenate([[0.0], p, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # precision envelope
    step = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[step + 1] - mrec[step]) * mpre[step + 1]))


class DetectionMetrics(NamedTuple):
    """``map``: mean AP over the classes that have ground truth; ``ap`` (n_classes,) with
    NaN for classes without ground truth; ``precision``, ``recall``: per class the curve
    (arrays in order of decreasing score); ``n_ground_truth`` (n_classes,) int."""

    map: float
    ap: np.ndarray
    precision: list
    recall: list
    n_ground_truth: np.ndarray


def mean_average_precision(pred_boxes, pred_scores, pred_labels, gt_boxes, gt_labels,
                           n_classes=None, iou_threshold=0.5):
    """mAP over a set of images: AP per class (detections pooled over images, matched per
    image with :func:`match_detections`), averaged over the classes that have ground truth.

    Each argument is a list with one entry per image: pred_boxes[i] (D_i, 4), pred_scores[i]
    (D_i,), pred_labels[i] (D_i,) int, gt_boxes[i] (G_i, 4), gt_labels[i] (G_i,) int.
    A class with ground truth but no detections has AP 0; a class with no ground truth is
    left out of the mean (AP NaN), even if it has (false) detections.
    """
    lists = (pred_boxes, pred_scores, pred_labels, gt_boxes, gt_labels)
    names = ("pred_boxes", "pred_scores", "pred_labels", "gt_boxes", "gt_labels")
    n_images = len(pred_boxes)
    for name, value in zip(names, lists):
        if len(value) != n_images:
            raise ValueError(f"{name} must have one entry per image ({n_images}), got {len(value)}")
    labels_seen = [np.asarray(v, dtype=np.int64).reshape(-1) for v in (*pred_labels, *gt_labels)]
    top = max((int(v.max()) for v in labels_seen if v.size), default=-1)
    if n_classes is None:
        n_classes = top + 1
    elif top >= n_classes:
        raise ValueError(f"labels go up to {top} but n_classes is {n_classes}")
    scores_by_class = [[] for _ in range(n_classes)]
    tp_by_class = [[] for _ in range(n_classes)]
    n_gt = np.zeros(n_classes, dtype=np.int64)
    for i in range(n_images):
        db = _as_boxes(f"pred_boxes[{i}]", pred_boxes[i])
        ds = _as_scores(f"pred_scores[{i}]", pred_scores[i], len(db))
        dl = np.asarray(pred_labels[i], dtype=np.int64).reshape(-1)
        gb = _as_boxes(f"gt_boxes[{i}]", gt_boxes[i])
        gl = np.asarray(gt_labels[i], dtype=np.int64).reshape(-1)
        if dl.shape != (len(db),) or gl.shape != (len(gb),):
            raise ValueError(f"image {i}: one label per box is needed")
        for c in range(n_classes):
            d_sel, g_sel = dl == c, gl == c
            n_gt[c] += g_sel.sum()
            if d_sel.any():
                scores_by_class[c].append(ds[d_sel])
                tp_by_class[c].append(match_detections(db[d_sel], ds[d_sel], gb[g_sel],
                                                       iou_threshold))
    ap = np.full(n_classes, np.nan)
    precisions, recalls = [], []
    for c in range(n_classes):
        s = np.concatenate(scores_by_class[c]) if scores_by_class[c] else np.zeros(0)
        tp = np.concatenate(tp_by_class[c]) if tp_by_class[c] else np.zeros(0, dtype=bool)
        p, r, _ = precision_recall_curve(s, tp, int(n_gt[c]))
        precisions.append(p)
        recalls.append(r)
        if n_gt[c] > 0:
            ap[c] = average_precision(r, p)
    valid = n_gt > 0
    m = float(np.mean(ap[valid])) if valid.any() else float("nan")
    return DetectionMetrics(m, ap, precisions, recalls, n_gt)
