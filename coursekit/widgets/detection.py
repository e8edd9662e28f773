"""DetectionExplorer: score and NMS thresholds over a detector's raw boxes on held-out images."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from coursekit.viz.detection import filter_detections, operating_point, plot_detections
from coursekit.widgets.base import FigureWidget, new_static_figure, wide_label


class DetectionExplorer(FigureWidget):
    """A detector's raw output (every box it proposes, with its score and class) on held-out
    images, thinned by a score threshold and per-class non-maximum suppression.

    images (N, 3, H, W); raw_boxes, raw_scores, raw_labels: lists per image of (D_i, 4),
    (D_i,), (D_i,); gt_boxes, gt_labels: lists per image of the ground truth; class_names.
    Controls: ``score_threshold``, ``iou_threshold`` (NMS; 1.0 switches it off),
    ``image_index``. The picture shows the boxes kept on the chosen image (green: true
    positive at IoU >= 0.5, red: false positive, dashed: ground truth) and the precision and
    recall of the boxes kept over all the held-out images.
    """

    figsize = (9.0, 3.9)

    def __init__(self, images, raw_boxes, raw_scores, raw_labels, gt_boxes, gt_labels,
                 class_names, score_threshold=0.5, iou_threshold=0.5, min_score=0.01):
        super().__init__()
        self.images = np.asarray(images, dtype=np.float32)
        n = len(self.images)
        if not all(len(v) == n for v in (raw_boxes, raw_scores, raw_labels, gt_boxes, gt_labels)):
            raise ValueError(f"every list must have one entry per image ({n})")
        self.class_names = tuple(class_names)
        # boxes below min_score can never be kept by the slider: drop them once
        self.raw = filter_detections(raw_boxes, raw_scores, raw_labels, min_score, 1.0)
        self.gt_boxes = [np.asarray(b, float).reshape(-1, 4) for b in gt_boxes]
        self.gt_labels = [np.asarray(lab) for lab in gt_labels]
        self.score_threshold = widgets.FloatSlider(value=score_threshold, min=0.05, max=0.95,
                                                   step=0.05, description="score threshold",
                                                   continuous_update=False)
        self.iou_threshold = widgets.FloatSlider(value=iou_threshold, min=0.1, max=1.0, step=0.05,
                                                 description="NMS IoU threshold",
                                                 continuous_update=False)
        self.image_index = widgets.IntSlider(value=0, min=0, max=n - 1, description="image",
                                             continuous_update=False)
        wide_label(self.score_threshold, self.iou_threshold)
        self.result = None
        self._build_ui()
        self.update()

    def _controls(self):
        return [self.score_threshold, self.iou_threshold, self.image_index]

    def compute(self, score_threshold, iou_threshold):
        """Boxes kept and the operating point over all images, for these thresholds (the
        last result is reused when only the image changes)."""
        key = (float(score_threshold), float(iou_threshold))
        if getattr(self, "_cache", (None,))[0] != key:
            kept = filter_detections(*self.raw, score_threshold, iou_threshold)
            self._cache = (key, (kept, operating_point(*kept, self.gt_boxes, self.gt_labels)))
        return self._cache[1]

    def layout_key(self):
        return "two panels"  # the panels never change: layout once, then redraw them only

    def make_axes(self, figure):
        return list(figure.subplots(1, 2))

    def draw_axes(self, axes):
        kept, point = self.compute(self.score_threshold.value, self.iou_threshold.value)
        self.result = (kept, point)
        i = self.image_index.value
        raw_count = int((self.raw[1][i] >= self.score_threshold.value).sum())
        ax_raw, ax_kept = axes
        plot_detections(ax_raw, self.images[i], self.raw[0][i][self.raw[1][i] >=
                                                                self.score_threshold.value],
                        gt_boxes=self.gt_boxes[i],
                        title=f"before NMS: {raw_count} boxes with score ≥ "
                              f"{self.score_threshold.value:.2f}")
        plot_detections(ax_kept, self.images[i], kept[0][i], kept[2][i], kept[1][i],
                        self.class_names, self.gt_boxes[i], point["is_tp"][i],
                        title=f"after NMS (IoU > {self.iou_threshold.value:.2f} suppressed): "
                              f"{len(kept[0][i])} kept")
        self.message.value = (f"all {len(self.images)} held-out images: {point['tp']} true and "
                              f"{point['fp']} false positives of {point['n_ground_truth']} objects: "
                              f"precision {point['precision']:.2f}, recall {point['recall']:.2f}")

    def state(self) -> dict:
        """The thresholds, the image, the boxes kept and the operating point (TP, FP, precision,
        recall) (the testing contract)."""
        kept, point = self.result
        i = self.image_index.value
        return {"score_threshold": self.score_threshold.value,
                "iou_threshold": self.iou_threshold.value, "image_index": i,
                "n_kept": int(sum(len(b) for b in kept[0])), "n_kept_image": len(kept[0][i]),
                "kept_boxes_image": kept[0][i].copy(), "tp": point["tp"], "fp": point["fp"],
                "precision": point["precision"], "recall": point["recall"]}

    def render_static(self, settings=((0.05, 1.0), (0.05, 0.5), (0.5, 0.5), (0.9, 0.5))):
        """The chosen image under several (score threshold, NMS IoU threshold) settings."""
        i = self.image_index.value
        figure, axes = new_static_figure(len(settings), panel_size=(3.0, 3.3),
                                         title="Score threshold and NMS on the detector's raw boxes")
        for ax, (score, iou) in zip(axes, settings):
            kept, point = self.compute(score, iou)
            nms = "no NMS" if iou >= 1.0 else f"NMS {iou:.2f}"
            plot_detections(ax, self.images[i], kept[0][i], gt_boxes=self.gt_boxes[i],
                            is_tp=point["is_tp"][i],
                            title=f"score ≥ {score:.2f}, {nms}\nP {point['precision']:.2f}, "
                                  f"R {point['recall']:.2f} (all images)")
        return figure
