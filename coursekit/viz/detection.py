"""Pictures of object detection: boxes on images, the effect of thresholds, PR curves.

Compute (NumPy, over the box arithmetic of ``coursekit.nn.detection``):
``filter_detections`` (score threshold, then per-class NMS), ``operating_point`` (true and
false positives, precision and recall of the boxes kept). Draw: ``plot_detections``,
``plot_anchors``, ``plot_pr_curve``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from coursekit.nn import detection

__all__ = ["filter_detections", "operating_point", "plot_detections", "plot_anchors",
           "plot_pr_curve"]

TP_COLOUR, FP_COLOUR, GT_COLOUR = "#2ca02c", "#d62728", "white"


def filter_detections(boxes, scores, labels, score_threshold=0.5, iou_threshold=0.5):
    """Per image: keep boxes with score >= score_threshold, then per-class NMS at
    ``iou_threshold`` (1.0 keeps every box: no IoU exceeds 1). Lists of arrays in, lists of
    arrays out: ``(boxes, scores, labels)`` of the boxes kept, by decreasing score."""
    kept_boxes, kept_scores, kept_labels = [], [], []
    for b, s, lab in zip(boxes, scores, labels):
        b, s, lab = np.asarray(b, float).reshape(-1, 4), np.asarray(s, float), np.asarray(lab)
        sel = s >= score_threshold
        b, s, lab = b[sel], s[sel], lab[sel]
        keep = detection.batched_nms(b, s, lab, iou_threshold)
        kept_boxes.append(b[keep])
        kept_scores.append(s[keep])
        kept_labels.append(lab[keep])
    return kept_boxes, kept_scores, kept_labels


def operating_point(boxes, scores, labels, gt_boxes, gt_labels, iou_threshold=0.5):
    """The detections as they stand (no further threshold): which are true positives, and
    precision and recall pooled over images and classes.

    Returns a dict: ``is_tp`` (list per image of (D_i,) bool, VOC matching per class at
    ``iou_threshold``), ``tp``, ``fp``, ``n_ground_truth`` (ints), ``precision`` (TP / kept;
    1.0 when nothing is kept) and ``recall`` (TP / ground truth).
    """
    is_tp = []
    for b, s, lab, gb, gl in zip(boxes, scores, labels, gt_boxes, gt_labels):
        lab, gl = np.asarray(lab), np.asarray(gl)
        flags = np.zeros(len(lab), dtype=bool)
        for c in np.unique(lab):
            sel = lab == c
            flags[sel] = detection.match_detections(np.asarray(b)[sel], np.asarray(s)[sel],
                                                    np.asarray(gb).reshape(-1, 4)[gl == c],
                                                    iou_threshold)
        is_tp.append(flags)
    tp = int(sum(f.sum() for f in is_tp))
    n_kept = int(sum(len(f) for f in is_tp))
    n_gt = int(sum(len(g) for g in gt_labels))
    return {"is_tp": is_tp, "tp": tp, "fp": n_kept - tp, "n_ground_truth": n_gt,
            "precision": tp / n_kept if n_kept else 1.0, "recall": tp / n_gt if n_gt else 0.0}


def _show_image(ax, image):
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[0] in (1, 3):
        image = np.moveaxis(image, 0, -1)
    ax.imshow(np.clip(image, 0, 1), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def plot_detections(ax, image, boxes, labels=None, scores=None, class_names=None, gt_boxes=None,
                    is_tp=None, title=None, fontsize=9):
    """The image (C, H, W) or (H, W, C) with boxes (D, 4): green true positives and red
    false positives when ``is_tp`` is given (else one colour), ground truth dashed white,
    a "name score" tag per box. Pixel (i, j) covers [j, j + 1) x [i, i + 1). Returns ax."""
    _show_image(ax, image)
    for g in np.asarray(gt_boxes if gt_boxes is not None else np.zeros((0, 4))).reshape(-1, 4):
        ax.add_patch(Rectangle((g[0] - 0.5, g[1] - 0.5), g[2] - g[0], g[3] - g[1], fill=False,
                               ec=GT_COLOUR, lw=1.2, ls="--"))
    for k, b in enumerate(np.asarray(boxes).reshape(-1, 4)):
        colour = "#ffbf00" if is_tp is None else (TP_COLOUR if is_tp[k] else FP_COLOUR)
        ax.add_patch(Rectangle((b[0] - 0.5, b[1] - 0.5), b[2] - b[0], b[3] - b[1], fill=False,
                               ec=colour, lw=1.8))
        tag = []
        if labels is not None:
            lab = int(labels[k])
            tag.append(class_names[lab] if class_names is not None else str(lab))
        if scores is not None:
            tag.append(f"{scores[k]:.2f}")
        if tag:
            ax.text(b[0] - 0.5, b[1] - 1.0, " ".join(tag), color="white", fontsize=fontsize,
                    va="bottom", bbox={"fc": colour, "ec": "none", "pad": 0.8, "alpha": 0.8})
    h, w = np.asarray(image).shape[-2:] if np.asarray(image).shape[0] in (1, 3) else \
        np.asarray(image).shape[:2]
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_anchors(ax, image, anchors, centre_index=None, title=None):
    """The image with anchors (A, 4) drawn in the class colours; ``centre_index`` marks the
    anchors' shared centre. Returns ax."""
    from coursekit.viz.style import CLASS_COLORS

    _show_image(ax, image)
    for k, a in enumerate(np.asarray(anchors).reshape(-1, 4)):
        ax.add_patch(Rectangle((a[0] - 0.5, a[1] - 0.5), a[2] - a[0], a[3] - a[1], fill=False,
                               ec=CLASS_COLORS[k % len(CLASS_COLORS)], lw=1.5))
    if centre_index is not None:
        a = np.asarray(anchors).reshape(-1, 4)[centre_index]
        ax.plot((a[0] + a[2]) / 2 - 0.5, (a[1] + a[3]) / 2 - 0.5, "w+", ms=10, mew=2)
    h, w = np.asarray(image).shape[-2:]
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_pr_curve(ax, recall, precision, label=None, point=None, interpolated=True):
    """A precision–recall curve (steps in score order) and, if ``interpolated``, its
    all-point envelope (the area under the envelope is the AP); ``point`` = (recall,
    precision) marks an operating point. Returns ax."""
    r = np.concatenate([[0.0], np.asarray(recall, float)])
    p = np.concatenate([[1.0], np.asarray(precision, float)])
    line, = ax.plot(r, p, lw=1.2, label=label)
    if interpolated and len(r) > 1:
        envelope = np.maximum.accumulate(p[::-1])[::-1]
        ax.plot(r, envelope, lw=2.0, alpha=0.5, color=line.get_color(), ls="--")
    if point is not None:
        ax.plot(*point, "o", color="black", ms=7, zorder=5)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    return ax
