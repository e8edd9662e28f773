"""A tiny one-stage grid detector (YOLO-style) for the shapes scenes, in PyTorch.

The image is divided into a G x G grid (G = image_size / 8). The cell that contains an
object's centre is responsible for it and predicts, per cell, ``5 + C`` numbers:

- an objectness logit (is an object centred here?),
- the box: the centre's offset inside the cell ``(sigmoid(tx), sigmoid(ty))`` in [0, 1] and
  its size ``w = prior * exp(tw)``, ``h = prior * exp(th)`` (``prior`` = 2 cells),
- C class logits.

The score of a cell's box is ``sigmoid(objectness) * max softmax(class)``; every cell gives
one raw box, which non-maximum suppression then thins out. Used by notebook 05b and
``experiments/05_detection.py``; the box arithmetic and mAP are in
``coursekit.nn.detection``.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from coursekit.nn import detection

STRIDE = 8  # image pixels per grid cell
PRIOR = 2 * STRIDE  # box size (pixels) at tw = th = 0


def _block(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


class GridDetector(nn.Module):
    """x (N, 3, H, W) -> (N, 5 + n_classes, H / 8, W / 8): objectness, tx, ty, tw, th, classes.

    Three conv + max-pool stages (stride 8), then two 3x3 convs on the grid, so each cell
    sees about 50 pixels, and a 1x1 conv head. ``width`` sets the channels (w/2, w, 2w).
    """

    def __init__(self, n_classes: int, width: int = 32):
        super().__init__()
        self.n_classes = n_classes
        w = width
        self.features = nn.Sequential(
            _block(3, w // 2), nn.MaxPool2d(2),
            _block(w // 2, w), nn.MaxPool2d(2),
            _block(w, 2 * w), nn.MaxPool2d(2),
            _block(2 * w, 2 * w), _block(2 * w, 2 * w),
        )
        self.head = nn.Conv2d(2 * w, 5 + n_classes, 1)
        # start objectness near the fraction of cells holding an object (~2.5 of 64), as
        # RetinaNet does: otherwise the first steps only learn that most cells are empty
        with torch.no_grad():
            self.head.bias[0] = -np.log((1 - 0.04) / 0.04)

    def forward(self, x):
        return self.head(self.features(x))


def grid_targets(boxes, labels, image_size: int, stride: int = STRIDE):
    """Training targets for a batch of scenes (NumPy).

    boxes, labels: lists (one entry per image) of (k, 4) corner boxes and (k,) labels.
    Returns ``objectness`` (N, G, G) float 0/1, ``box`` (N, 4, G, G) float (offset x, offset y
    in [0, 1), log(w / PRIOR), log(h / PRIOR)) and ``cls`` (N, G, G) int (-1 where no object).
    If two centres fall into one cell the later object wins (the shapes scenes keep
    centres at least 14 pixels apart, so with 8-pixel cells it does not happen).
    """
    g = image_size // stride
    n = len(boxes)
    obj = np.zeros((n, g, g), dtype=np.float32)
    box = np.zeros((n, 4, g, g), dtype=np.float32)
    cls = np.full((n, g, g), -1, dtype=np.int64)
    for i, (b, lab) in enumerate(zip(boxes, labels)):
        b = np.asarray(b, dtype=float).reshape(-1, 4)
        cx, cy = (b[:, 0] + b[:, 2]) / 2 / stride, (b[:, 1] + b[:, 3]) / 2 / stride
        col = np.clip(cx.astype(int), 0, g - 1)
        row = np.clip(cy.astype(int), 0, g - 1)
        obj[i, row, col] = 1.0
        box[i, 0, row, col] = cx - col
        box[i, 1, row, col] = cy - row
        box[i, 2, row, col] = np.log((b[:, 2] - b[:, 0]) / PRIOR)
        box[i, 3, row, col] = np.log((b[:, 3] - b[:, 1]) / PRIOR)
        cls[i, row, col] = np.asarray(lab, dtype=np.int64)
    return obj, box, cls


def detection_loss(out, obj, box, cls, weights=(1.0, 5.0, 1.0)):
    """YOLO-style loss, summed over cells and divided by the number of objects.

    out (N, 5 + C, G, G) raw outputs; obj, box, cls as from :func:`grid_targets` (tensors).
    Terms: binary cross-entropy of objectness over every cell; smooth-L1 of the box at the
    cells that hold an object; cross-entropy of the class there. Returns
    ``(total, {"objectness", "box", "class"})``.
    """
    n_obj = obj.sum().clamp(min=1.0)
    l_obj = F.binary_cross_entropy_with_logits(out[:, 0], obj, reduction="sum") / n_obj
    pos = obj > 0.5
    pred_box = torch.cat([torch.sigmoid(out[:, 1:3]), out[:, 3:5]], dim=1)  # (N, 4, G, G)
    pred_box = pred_box.permute(0, 2, 3, 1)[pos]  # (P, 4)
    l_box = F.smooth_l1_loss(pred_box, box.permute(0, 2, 3, 1)[pos], reduction="sum") / n_obj
    logits = out[:, 5:].permute(0, 2, 3, 1)[pos]  # (P, C)
    l_cls = F.cross_entropy(logits, cls[pos], reduction="sum") / n_obj
    a, b, c = weights
    total = a * l_obj + b * l_box + c * l_cls
    return total, {"objectness": l_obj.item(), "box": l_box.item(), "class": l_cls.item()}


def decode(out, stride: int = STRIDE):
    """Raw boxes of every cell: out (N, 5 + C, G, G) -> lists per image of ``boxes`` (G*G, 4)
    corner format in pixels, ``scores`` (G*G,) and ``labels`` (G*G,) (NumPy)."""
    out = torch.as_tensor(out).detach().float()
    n, _, g, _ = out.shape
    obj = torch.sigmoid(out[:, 0])
    prob, label = torch.softmax(out[:, 5:], dim=1).max(dim=1)
    rows, cols = torch.meshgrid(torch.arange(g), torch.arange(g), indexing="ij")
    cx = (cols + torch.sigmoid(out[:, 1])) * stride
    cy = (rows + torch.sigmoid(out[:, 2])) * stride
    w = PRIOR * torch.exp(out[:, 3].clamp(max=4.0))
    h = PRIOR * torch.exp(out[:, 4].clamp(max=4.0))
    boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)
    boxes = boxes.reshape(n, -1, 4).numpy().astype(float)
    scores = (obj * prob).reshape(n, -1).numpy().astype(float)
    labels = label.reshape(n, -1).numpy()
    return list(boxes), list(scores), list(labels)


def postprocess(boxes, scores, labels, score_threshold=0.05, iou_threshold=0.5):
    """Keep the boxes with score >= score_threshold, then per-class NMS; per image lists."""
    kept = ([], [], [])
    for b, s, lab in zip(boxes, scores, labels):
        sel = s >= score_threshold
        b, s, lab = b[sel], s[sel], lab[sel]
        keep = detection.batched_nms(b, s, lab, iou_threshold)
        for store, values in zip(kept, (b, s, lab)):
            store.append(values[keep])
    return kept


@torch.no_grad()
def predict(model, images, batch_size: int = 256):
    """Raw outputs (N, 5 + C, G, G) of ``model`` in evaluation mode for images (N, 3, H, W)."""
    model.eval()
    x = torch.as_tensor(images)
    return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def evaluate(model, scenes, score_threshold=0.05, iou_threshold=0.5):
    """mAP@0.5 of ``model`` on a ShapeScenes set, after score filtering and NMS:
    a ``coursekit.nn.detection.DetectionMetrics``."""
    boxes, scores, labels = postprocess(*decode(predict(model, scenes.images)),
                                        score_threshold, iou_threshold)
    return detection.mean_average_precision(boxes, scores, labels, scenes.boxes, scenes.labels,
                                            n_classes=len(scenes.class_names))


def train_detector(scenes, epochs: int = 10, width: int = 32, lr: float = 3e-3,
                   batch_size: int = 32, seed: int = 0, log=None):
    """Train a :class:`GridDetector` on a ShapeScenes set with Adam and a cosine schedule.

    Returns ``(model, history)`` where history lists per epoch the mean training loss and
    its three terms, and the seconds taken. ``log`` (a callable) receives a line per epoch.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = GridDetector(len(scenes.class_names), width=width)
    size = scenes.images.shape[-1]
    obj, box, cls = (torch.as_tensor(a) for a in grid_targets(scenes.boxes, scenes.labels, size))
    x = torch.as_tensor(scenes.images)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * int(np.ceil(len(x) / batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps,
                                                   pct_start=0.15)
    history = []
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.as_tensor(rng.permutation(len(x)))
        totals = np.zeros(4)
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            batch = x[idx]
            if rng.random() < 0.5:  # horizontal flip: boxes mirror with the image
                batch, t_obj, t_box, t_cls = _flip(batch, obj[idx], box[idx], cls[idx])
            else:
                t_obj, t_box, t_cls = obj[idx], box[idx], cls[idx]
            loss, parts = detection_loss(model(batch), t_obj, t_box, t_cls)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            totals += len(idx) * np.array([loss.item(), *parts.values()])
        totals /= len(x)
        record = {"epoch": epoch + 1, "loss": totals[0], "objectness": totals[1],
                  "box": totals[2], "class": totals[3], "seconds": time.perf_counter() - start}
        history.append(record)
        if log is not None:
            log(f"epoch {epoch + 1}: loss {totals[0]:.3f} (obj {totals[1]:.3f}, box {totals[2]:.3f}, "
                f"class {totals[3]:.3f})")
    model.eval()
    return model, history


def load_detector(weights: dict, n_classes: int, width: int = 32) -> GridDetector:
    """A :class:`GridDetector` in evaluation mode with the float arrays of ``weights`` (as
    ``experiments/05_detection.py`` stores them; batch-norm's step counters are not needed)."""
    model = GridDetector(n_classes, width=width)
    state = {k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"weights do not fit GridDetector(n_classes={n_classes}, width={width}): "
                         f"missing {missing}, unexpected {unexpected}")
    return model.eval()


def _flip(x, obj, box, cls):
    """Mirror a batch left-right with its grid targets (the x offset becomes 1 - offset)."""
    box = box.flip(-1).clone()
    box[:, 0] = torch.where(obj.flip(-1) > 0.5, 1.0 - box[:, 0], box[:, 0])
    return x.flip(-1), obj.flip(-1), box, cls.flip(-1)
