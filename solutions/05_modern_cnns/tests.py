"""Questions and tests of exercise set 05 (modern CNNs and object detection, notebooks 05a, 05b).

Detection questions q1-q4 (IoU, NMS, anchors, AP). Expected values are computed by `coursekit
assign` from the reference solution, except where a test names an explicit ``expected``: those
come from coursekit.nn.detection, an independent implementation tested in
tests/test_nn_detection.py. Hidden inputs are drawn from the instructor secret
(``secret_rng``) at assign time; public tests carry the default public share (5 %).
"""

import numpy as np
import torch

from coursekit.data import make_shapes
from coursekit.grading import Question, accuracy, call, secret_rng
from coursekit.nn import detection as reference


def random_boxes(rng, n, extent=50.0, size=(2.0, 20.0)):
    """n corner-format boxes with random corners and sizes."""
    xy = rng.uniform(0, extent, size=(n, 2))
    return np.c_[xy, xy + rng.uniform(*size, size=(n, 2))].round(2)


def clustered_boxes(rng, n_objects, per_object, jitter=2.0):
    """Several jittered copies of each of n_objects boxes: what a detector's raw output looks like."""
    centres = random_boxes(rng, n_objects, extent=80.0, size=(8.0, 25.0))
    boxes = np.repeat(centres, per_object, axis=0)
    boxes = boxes + rng.normal(scale=jitter, size=boxes.shape)
    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1.0)
    return boxes.round(2)


# ---------------------------------------------------------------- q1 IoU
rng = secret_rng("q1")
iou_a, iou_b = random_boxes(rng, 7), random_boxes(rng, 5)
apart = random_boxes(rng, 4)
# each box of apart_b sits just below and right of its partner, a small gap in x and in y: the
# overlap widths are both negative, and a missing clip makes their product a positive "overlap"
size = apart[:, 2:] - apart[:, :2]
apart_b = apart + np.tile(size + rng.uniform(0.5, 2.0, size=(4, 2)).round(2), 2)
outer = random_boxes(rng, 3, size=(20.0, 30.0))
inner = np.c_[outer[:, :2] + 3.0, outer[:, 2:] - 3.0]

# ---------------------------------------------------------------- q2 NMS
rng = secret_rng("q2")
nms_boxes = clustered_boxes(rng, 6, 5)
nms_scores = rng.uniform(size=len(nms_boxes)).round(3)
nms_thr = round(float(rng.uniform(0.3, 0.6)), 2)
tie_boxes = np.repeat(random_boxes(rng, 3), 2, axis=0)
tie_scores = np.repeat(rng.uniform(size=3).round(2), 2)
cls_boxes = clustered_boxes(rng, 5, 4)
cls_scores = rng.uniform(size=len(cls_boxes)).round(3)
cls_labels = rng.integers(0, 3, size=len(cls_boxes))
# a pair at IoU exactly 1/3: kept both (the rule says "greater than")
edge_boxes = np.array([[0.0, 0.0, 2.0, 1.0], [1.0, 0.0, 3.0, 1.0], [10.0, 10.0, 12.0, 12.0]])
edge_scores = np.array([0.9, 0.8, 0.7])

# ---------------------------------------------------------------- q3 anchors
rng = secret_rng("q3")
anchor_case = ((int(rng.integers(2, 5)), int(rng.integers(3, 6))), int(rng.choice([8, 16, 32])),
               np.sort(rng.choice([16.0, 24.0, 32.0, 48.0, 64.0], size=2, replace=False)),
               np.array([0.5, 1.0, 2.0]))
anchor_case_2 = ((3, 2), 10, np.array([12.0]), np.sort(rng.uniform(0.3, 3.0, size=4)).round(2))

# ---------------------------------------------------------------- q4 AP
rng = secret_rng("q4")


def ap_case(rng, n_images, n_objects, n_extra, duplicate=True):
    """Detections of one class: noisy hits, some duplicates, some false alarms, some misses."""
    gts, gi, dets, di = [], [], [], []
    for image in range(n_images):
        g = random_boxes(rng, n_objects, extent=60.0, size=(10.0, 20.0))
        gts.append(g)
        gi += [image] * n_objects
        found = g[rng.random(n_objects) < 0.8]
        hits = found + rng.normal(scale=2.5, size=found.shape)
        extra = random_boxes(rng, n_extra, extent=60.0, size=(10.0, 20.0))
        d = np.r_[hits, hits[:1] + 1.0, extra] if duplicate and len(hits) else np.r_[hits, extra]
        d[:, 2:] = np.maximum(d[:, 2:], d[:, :2] + 1.0)
        dets.append(d)
        di += [image] * len(d)
    det_boxes = np.concatenate(dets).round(2)
    det_scores = rng.uniform(size=len(det_boxes)).round(3)
    return det_boxes, det_scores, np.array(di), np.concatenate(gts), np.array(gi)


def reference_ap(det_boxes, det_scores, det_image, gt_boxes, gt_image, iou_threshold=0.5):
    """The same AP through coursekit.nn.detection (one class, per-image lists)."""
    images = np.unique(np.r_[det_image, gt_image])
    result = reference.mean_average_precision(
        [det_boxes[det_image == i] for i in images], [det_scores[det_image == i] for i in images],
        [np.zeros((det_image == i).sum(), int) for i in images],
        [gt_boxes[gt_image == i] for i in images], [np.zeros((gt_image == i).sum(), int)
                                                     for i in images],
        n_classes=1, iou_threshold=iou_threshold)
    return float(result.ap[0])


ap_main = ap_case(rng, 6, 3, 2)
ap_other = ap_case(rng, 4, 2, 4)
# ties in score between a hit and a false alarm: the stable order decides
ap_ties = (np.array([[0, 0, 10, 10], [30, 30, 40, 40], [0, 0, 10, 10.0]]), np.array([0.5, 0.5, 0.4]),
           np.array([0, 0, 1]), np.array([[0, 0, 10, 10], [0, 0, 10, 10.0]]), np.array([0, 1]))
# the best-scored box of image 1 overlaps image 0's object only: it must not match across images
ap_cross = (np.array([[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60.0]]), np.array([0.9, 0.8, 0.7]),
            np.array([1, 0, 1]), np.array([[0, 0, 10, 10], [50, 50, 60, 60.0]]), np.array([0, 1]))


# ---------------------------------------------------------------- q5 residual block (chapter 05a)
def torch_residual_block(x, W1, b1, W2, b2):
    """ReLU(conv(ReLU(conv(x, W1) + b1), W2) + b2 + x) by torch (float64), an oracle independent of NumPy."""
    t = {k: torch.tensor(v) for k, v in dict(x=x, W1=W1, b1=b1, W2=W2, b2=b2).items()}
    hidden = torch.relu(torch.nn.functional.conv2d(t["x"], t["W1"], t["b1"], padding=1))
    return torch.relu(torch.nn.functional.conv2d(hidden, t["W2"], t["b2"], padding=1) + t["x"]).numpy()


def block_case(rng, n, c, h, w):
    return (rng.normal(size=(n, c, h, w)), rng.normal(scale=0.4, size=(c, c, 3, 3)), rng.normal(size=c),
            rng.normal(scale=0.4, size=(c, c, 3, 3)), rng.normal(size=c))


rng = secret_rng("q5")
block_main = block_case(rng, 2, 3, 5, 6)
block_single = block_case(rng, 1, 1, 4, 4)
c_a, c_b = (int(v) for v in rng.integers(3, 40, size=2))


def torch_block_parameters(c_in, c_out, stride):
    from coursekit.models import BasicBlock, count_parameters

    return count_parameters(BasicBlock(c_in, c_out, stride))


# ---------------------------------------------------------------- q6 FLOPs (chapter 05a)
def torch_flops(layers, input_shape):
    """FlopCounterMode on the torch network that the layer list describes (the chapter's convention)."""
    from torch import nn

    from coursekit.models import count_flops

    modules, c = [], input_shape[0]
    h, w = input_shape[1:]
    for layer in layers:
        if layer[0] == "conv":
            modules.append(nn.Conv2d(c, layer[1], layer[2], stride=layer[3], padding=layer[4]))
            c = layer[1]
            h = (h + 2 * layer[4] - layer[2]) // layer[3] + 1
            w = (w + 2 * layer[4] - layer[2]) // layer[3] + 1
        elif layer[0] == "maxpool":
            modules.append(nn.MaxPool2d(layer[1], layer[2]))
            h, w = (h - layer[1]) // layer[2] + 1, (w - layer[1]) // layer[2] + 1
        elif layer[0] == "relu":
            modules.append(nn.ReLU())
        elif layer[0] == "flatten":
            modules.append(nn.Flatten())
            c = c * h * w
        elif layer[0] == "linear":
            modules.append(nn.Linear(c, layer[1]))
            c = layer[1]
    return count_flops(nn.Sequential(*modules), (1, *input_shape))


rng = secret_rng("q6")
k1, k2 = (int(v) for v in rng.choice([3, 5], size=2))
c1, c2, n_hidden = (int(v) for v in rng.integers(4, 33, size=3))
size = int(rng.integers(20, 40))
net_strided = [("conv", c1, k1, 2, k1 // 2), ("relu",), ("conv", c2, k2, 1, 0), ("relu",), ("maxpool", 3, 2),
               ("flatten",), ("linear", n_hidden), ("relu",), ("linear", 7)]
net_odd = [("conv", c2, 3, 1, 1), ("maxpool", 2, 2), ("conv", c1, 3, 1, 1), ("relu",), ("maxpool", 2, 2),
           ("flatten",), ("linear", 5)]  # odd sizes: pooling floors
net_conv_only = [("conv", c1, 1, 1, 0), ("conv", c2, 3, 1, 1)]

# ---------------------------------------------------------------- q7 fine-tuning (chapter 05a)
# Held-out images of the unseen classes B, drawn from the instructor secret (not in the notebook).
# Baseline (notebook 05a, 05_transfer.json): from scratch on 10 images per class
# reaches about 0.33 (chance 0.25), a linear probe on the pre-trained body about 0.77;
# the thresholds sit well above it.
THRESHOLDS = {0.60: 0.5, 0.68: 1.0}
heldout_seed = int(secret_rng("heldout").integers(2**31))
heldout = make_shapes(240, classes=("star", "ring", "crescent", "hexagon"), seed=heldout_seed)
validation = make_shapes(200, classes=("star", "ring", "crescent", "hexagon"), seed=8)

QUESTIONS = [
    Question(
        "q1", points=2, title="IoU, batched",
        public=[call("box_iou", np.array([[0, 0, 2, 2], [0, 0, 4, 4.0]]),
                     np.array([[1, 1, 3, 3], [5, 5, 6, 6.0]]))],
        hidden=[call("box_iou", iou_a, iou_b, expected=reference.box_iou(iou_a, iou_b), weight=2,
                     note="(7 x 5 random boxes)"),
                call("box_iou", apart, apart_b, expected=reference.box_iou(apart, apart_b),
                     note="(boxes apart in both x and y)"),
                call("box_iou", outer, inner, expected=reference.box_iou(outer, inner),
                     note="(one box inside another)"),
                call("box_iou", iou_b[:1], iou_b[:1], expected=np.ones((1, 1)),
                     note="(a box with itself)")],
    ),
    Question(
        "q2", points=3, title="Non-maximum suppression, per class",
        inject=["box_iou"],  # q1's answer: the reference is put in its place while this is graded
        public=[call("nms", np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30.0]]),
                     np.array([0.9, 0.8, 0.7]), 0.5)],
        hidden=[call("nms", nms_boxes, nms_scores, nms_thr,
                     expected=reference.nms(nms_boxes, nms_scores, nms_thr), weight=2,
                     note="(clusters of overlapping boxes)"),
                call("nms", tie_boxes, tie_scores, 0.5,
                     expected=reference.nms(tie_boxes, tie_scores, 0.5), note="(equal scores)"),
                call("nms", edge_boxes, edge_scores, 1 / 3, expected=np.array([0, 1, 2]),
                     note="(IoU exactly at the threshold)"),
                call("nms", np.zeros((0, 4)), np.zeros(0), 0.5, expected=np.zeros(0, np.int64),
                     note="(no boxes)"),
                call("batched_nms", cls_boxes, cls_scores, cls_labels, 0.4,
                     expected=reference.batched_nms(cls_boxes, cls_scores, cls_labels, 0.4),
                     weight=2, note="(three classes)")],
    ),
    Question(
        "q3", points=2, title="Anchors for scales and ratios",
        public=[call("make_anchors", (1, 2), 8, np.array([8.0]), np.array([1.0, 4.0]))],
        hidden=[call("make_anchors", *anchor_case, expected=reference.make_anchors(*anchor_case),
                     weight=2, note="(several scales and ratios)"),
                call("make_anchors", *anchor_case_2,
                     expected=reference.make_anchors(*anchor_case_2),
                     note="(one scale, four ratios, a rectangular map)")],
    ),
    Question(
        "q4", points=3, title="Average precision from detections",
        inject=["box_iou"],  # q1's answer: the reference is put in its place while this is graded
        public=[call("average_precision",
                     np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30], [50, 50, 60, 60.0]]),
                     np.array([0.9, 0.8, 0.7, 0.6]), np.array([0, 0, 1, 1]),
                     np.array([[0, 0, 10, 10], [0, 0, 10, 10], [20, 20, 30, 30.0]]),
                     np.array([0, 1, 1]))],
        hidden=[call("average_precision", *ap_main, expected=reference_ap(*ap_main), rtol=1e-9,
                     weight=2, note="(six images, duplicates and false alarms)"),
                call("average_precision", *ap_other, kwargs={"iou_threshold": 0.3},
                     expected=reference_ap(*ap_other, iou_threshold=0.3), rtol=1e-9,
                     note="(IoU threshold 0.3)"),
                call("average_precision", *ap_ties, expected=reference_ap(*ap_ties), rtol=1e-9,
                     note="(equal scores)"),
                call("average_precision", *ap_cross, expected=reference_ap(*ap_cross), rtol=1e-9,
                     note="(boxes in other images)"),
                call("average_precision", np.zeros((0, 4)), np.zeros(0), np.zeros(0, int),
                     ap_main[3], ap_main[4], expected=0.0, note="(no detections)")],
    ),
    Question(
        "q5", points=3, title="A residual block: forward and parameter count",
        public=[call("residual_block_forward", *block_case(np.random.default_rng(0), 1, 2, 3, 3), weight=0.15),
                call("basic_block_parameters", 16, 16, 1, weight=0.15)],
        hidden=[call("residual_block_forward", *block_main, expected=torch_residual_block(*block_main),
                     rtol=1e-7, atol=1e-9, weight=2, note="(several images and channels, compared with torch)"),
                call("residual_block_forward", *block_single, expected=torch_residual_block(*block_single),
                     rtol=1e-7, atol=1e-9, note="(one channel)"),
                call("basic_block_parameters", c_a, c_b, 2, expected=torch_block_parameters(c_a, c_b, 2),
                     note="(stride 2: a projection shortcut)"),
                call("basic_block_parameters", c_a, c_a + 1, 1, expected=torch_block_parameters(c_a, c_a + 1, 1),
                     note="(stride 1, more channels out)"),
                call("basic_block_parameters", c_b, c_b, 1, expected=torch_block_parameters(c_b, c_b, 1),
                     note="(identity shortcut)")],
    ),
    Question(
        "q6", points=3, title="The FLOPs of a small architecture",
        public=[call("network_flops", [("conv", 4, 3, 1, 1), ("relu",), ("maxpool", 2, 2), ("flatten",),
                                       ("linear", 3)], (1, 8, 8), weight=0.3)],
        hidden=[call("network_flops", net_strided, (3, size, size), expected=torch_flops(net_strided, (3, size, size)),
                     weight=2, note="(strided conv, unpadded conv, overlapping pool, two linear layers)"),
                call("network_flops", net_odd, (2, 15, 15), expected=torch_flops(net_odd, (2, 15, 15)),
                     note="(odd image size: pooling rounds down)"),
                call("network_flops", net_conv_only, (5, size, size + 3),
                     expected=torch_flops(net_conv_only, (5, size, size + 3)),
                     note="(1x1 convolution, non-square image)")],
    ),
    Question(
        "q7", points=4, title="Fine-tuning on 10 images per class",
        public=[accuracy("model", validation.images, validation.labels, thresholds=THRESHOLDS, weight=0.3,
                         note="(validation images)")],
        hidden=[accuracy("model", heldout.images, heldout.labels, thresholds=THRESHOLDS, weight=3,
                         note="(held-out images of the classes B)")],
    ),
]
