"""PyTorch models of the course: the classic CNN architectures for 3×32×32 images (here)
and the one-stage grid detector of chapter 05b (``coursekit.models.grid_detector``), the
VAE and (conditional) GANs of chapter 08 (``coursekit.models.generative``).

Chapter 05 trains each of these on the procedural shapes images; the experiment
scripts in ``experiments/`` and the notebooks import them from here, so there is one
definition of each. (``coursekit.nn`` is the NumPy-only reference; torch models live
here.) Every builder takes ``n_classes`` and ``seed`` (the initial weights) and
returns an ``nn.Module`` mapping (N, 3, 32, 32) images to (N, n_classes) scores:

- ``alexnet``      ReLU, dropout, overlapping 3×3/2 max-pooling, local response norm
- ``vgg``          blocks of stacked 3×3 convolutions, each block ending in a 2×2 pool
- ``inception``    GoogLeNet's parallel 1×1 / 3×3 / 5×5 / pool branches, 1×1 bottlenecks
- ``resnet``       residual blocks (``block="basic"``: two 3×3; ``"bottleneck"``: 1×1-3×3-1×1)
- ``densenet``     dense blocks: each layer's output concatenated to its input
- ``plain_net`` / ``residual_net``: the degradation experiment's twins (same layers,
  with or without identity shortcuts), depth 6n + 2 as in He et al. (2016) for CIFAR

Transfer: ``FineTuned`` (a frozen body kept in eval mode + the trainable rest),
``replace_head``, ``to_arrays`` / ``from_arrays`` (weights as NumPy arrays for
``coursekit.assets``).

Counting: ``count_parameters`` and ``count_flops`` (torch's ``FlopCounterMode``: a
multiply-add is 2 FLOPs; only convolutions and matrix products are counted, not
pooling, activations, normalization or additions).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from coursekit.utils import count_parameters

__all__ = ["ARCHITECTURES", "BasicBlock", "Bottleneck", "DenseBlock", "FineTuned", "InceptionBlock",
           "alexnet", "build", "count_flops", "count_parameters", "densenet", "flops_by_module",
           "inception", "from_arrays", "plain_net", "replace_head", "residual_net", "resnet",
           "to_arrays", "vgg", "weighted_layers"]


def _check_classes(n_classes):
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    return n_classes


def _seeded(builder):
    """Build under ``torch.manual_seed(seed)`` without disturbing the global generator."""
    def wrapper(*args, seed: int = 0, **kwargs):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return builder(*args, **kwargs)
    wrapper.__name__, wrapper.__doc__ = builder.__name__, builder.__doc__
    return wrapper


def conv_bn_relu(c_in, c_out, kernel_size=3, stride=1):
    """Conv (no bias: BN adds one) - BatchNorm - ReLU, 'same' padding."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size, stride, kernel_size // 2, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU())


# ----------------------------------------------------------------------------- AlexNet
@_seeded
def alexnet(n_classes: int = 10, width: int = 24, dropout: float = 0.25) -> nn.Module:
    """AlexNet in miniature: five conv layers, three overlapping max-pools, LRN, two dropout FCs.

    32×32 → conv5×5/2 → 16×16 → pool 3×3/2 → 8×8 → conv5×5 → pool → 4×4 → three conv3×3
    → pool → 2×2 → FC 128 → FC 128 → n_classes. The pools overlap (window 3, stride 2)
    and the first two conv layers are followed by local response normalization, as in
    Krizhevsky et al. (2012). No batch normalization, so the weights get He initialization;
    dropout defaults to 0.25 (AlexNet: 0.5, which kept this small version on its initial
    plateau in trial runs on a few hundred images).
    """
    _check_classes(n_classes)
    w = width
    pool = dict(kernel_size=3, stride=2, padding=1)  # overlapping: window 3 > stride 2
    model = nn.Sequential(
        nn.Conv2d(3, w, 5, stride=2, padding=2), nn.ReLU(),
        nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0), nn.MaxPool2d(**pool),
        nn.Conv2d(w, 2 * w, 5, padding=2), nn.ReLU(),
        nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0), nn.MaxPool2d(**pool),
        nn.Conv2d(2 * w, 3 * w, 3, padding=1), nn.ReLU(),
        nn.Conv2d(3 * w, 3 * w, 3, padding=1), nn.ReLU(),
        nn.Conv2d(3 * w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(**pool),
        nn.Flatten(),
        nn.Dropout(dropout), nn.Linear(2 * w * 2 * 2, 128), nn.ReLU(),
        nn.Dropout(dropout), nn.Linear(128, 128), nn.ReLU(),
        nn.Linear(128, n_classes))
    # Without batch normalization the eight layers need He initialization (chapter 03a):
    # torch's default scale shrinks the signal layer by layer and training stalls.
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            nn.init.zeros_(module.bias)
    return model


# ----------------------------------------------------------------------------- VGG
@_seeded
def vgg(n_classes: int = 10, widths=(8, 16, 32, 64), convs_per_block: int = 2) -> nn.Module:
    """VGG in miniature: blocks of stacked 3×3 convolutions (BN, ReLU), a 2×2 max-pool after each.

    Two stacked 3×3 layers see a 5×5 window with 2·9·C² weights instead of 25·C²; four
    blocks take 32×32 to 2×2 before the classifier.
    """
    _check_classes(n_classes)
    layers, c_in = [], 3
    for width in widths:
        for _ in range(convs_per_block):
            layers.append(conv_bn_relu(c_in, width))
            c_in = width
        layers.append(nn.MaxPool2d(2))
    side = 32 // 2 ** len(widths)
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c_in * side * side, 128), nn.ReLU(),
                         nn.Dropout(0.3), nn.Linear(128, n_classes))


# ----------------------------------------------------------------------------- GoogLeNet
class InceptionBlock(nn.Module):
    """Four parallel branches concatenated along the channels (Szegedy et al., 2015).

    1×1 | 1×1 → 3×3 | 1×1 → 5×5 | 3×3 max-pool → 1×1. The 1×1 convolutions in front of
    the 3×3 and 5×5 ones are bottlenecks: they shrink the channels the expensive kernels
    see. Output channels: ``c1 + c3 + c5 + c_pool``; spatial size unchanged.
    """

    def __init__(self, c_in, c1, c3_reduce, c3, c5_reduce, c5, c_pool):
        super().__init__()
        self.branch1 = conv_bn_relu(c_in, c1, 1)
        self.branch3 = nn.Sequential(conv_bn_relu(c_in, c3_reduce, 1),
                                     conv_bn_relu(c3_reduce, c3, 3))
        self.branch5 = nn.Sequential(conv_bn_relu(c_in, c5_reduce, 1),
                                     conv_bn_relu(c5_reduce, c5, 5))
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                         conv_bn_relu(c_in, c_pool, 1))
        self.out_channels = c1 + c3 + c5 + c_pool

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)],
                         dim=1)


@_seeded
def inception(n_classes: int = 10) -> nn.Module:
    """GoogLeNet in miniature: a conv stem, two Inception blocks per resolution, global average pooling."""
    _check_classes(n_classes)
    a = InceptionBlock(24, 16, 16, 24, 4, 8, 8)             # 16×16, out 56
    b = InceptionBlock(a.out_channels, 24, 24, 32, 6, 12, 12)  # 8×8, out 80
    c = InceptionBlock(b.out_channels, 32, 32, 48, 8, 16, 16)  # 4×4, out 112
    return nn.Sequential(conv_bn_relu(3, 24, 3, stride=2), a, nn.MaxPool2d(3, 2, 1), b,
                         nn.MaxPool2d(3, 2, 1), c, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(c.out_channels, n_classes))


# ----------------------------------------------------------------------------- ResNet
class BasicBlock(nn.Module):
    """y = ReLU(F(x) + shortcut(x)), F = conv3×3-BN-ReLU-conv3×3-BN (He et al., 2016).

    The shortcut is the identity when shape is kept; with ``stride`` 2 or a change of
    channels it is a 1×1 convolution with stride (and BN). ``shortcut=False`` drops it
    (the "plain" twin of the degradation experiment).
    """

    def __init__(self, c_in, c_out, stride=1, shortcut=True):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu2 = nn.ReLU()
        self.use_shortcut = shortcut
        self.project = None
        if shortcut and (stride != 1 or c_in != c_out):
            self.project = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                         nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        if self.use_shortcut:
            out = out + (x if self.project is None else self.project(x))
        return self.relu2(out)


class Bottleneck(nn.Module):
    """y = ReLU(F(x) + shortcut(x)), F = 1×1 (reduce to ``c_out // expansion``) - 3×3 - 1×1 (expand).

    The deep ResNets (50 layers and more) use it: the 3×3 kernel runs on a quarter of
    the channels, so a block costs about as much as a basic block of the narrow width.
    """

    def __init__(self, c_in, c_out, stride=1, expansion=4):
        super().__init__()
        mid = max(1, c_out // expansion)
        self.reduce = conv_bn_relu(c_in, mid, 1)
        self.conv = nn.Sequential(nn.Conv2d(mid, mid, 3, stride, 1, bias=False),
                                  nn.BatchNorm2d(mid), nn.ReLU())
        self.expand = nn.Sequential(nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
        self.project = None
        if stride != 1 or c_in != c_out:
            self.project = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                         nn.BatchNorm2d(c_out))
        self.relu = nn.ReLU()

    def forward(self, x):
        shortcut = x if self.project is None else self.project(x)
        return self.relu(self.expand(self.conv(self.reduce(x))) + shortcut)


@_seeded
def resnet(n_classes: int = 10, block: str = "basic", widths=(16, 32, 64),
           blocks_per_stage: int = 1) -> nn.Module:
    """ResNet in miniature: a stride-2 stem, one stage per width (stride 2 between stages), GAP, FC.

    block: "basic" (two 3×3 convs) or "bottleneck" (1×1-3×3-1×1, 4× wider outputs).
    """
    _check_classes(n_classes)
    if block not in ("basic", "bottleneck"):
        raise ValueError(f"block must be 'basic' or 'bottleneck', got {block!r}")
    stem = widths[0]
    layers, c_in = [conv_bn_relu(3, stem, 3, stride=2)], stem
    for stage, width in enumerate(widths):
        c_out = width if block == "basic" else 4 * width
        for index in range(blocks_per_stage):
            stride = 2 if stage > 0 and index == 0 else 1
            layers.append(BasicBlock(c_in, c_out, stride) if block == "basic" else Bottleneck(c_in, c_out, stride))
            c_in = c_out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, n_classes))


# ----------------------------------------------------------------------------- DenseNet
class DenseBlock(nn.Module):
    """Each layer (BN-ReLU-conv3×3, ``growth`` channels) sees the concatenation of all before it.

    Output channels: ``c_in + n_layers · growth`` (Huang et al., 2017).
    """

    def __init__(self, c_in, growth, n_layers):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(c_in + i * growth), nn.ReLU(),
                          nn.Conv2d(c_in + i * growth, growth, 3, padding=1, bias=False))
            for i in range(n_layers))
        self.out_channels = c_in + n_layers * growth

    def forward(self, x):
        features = x
        for layer in self.layers:
            features = torch.cat([features, layer(features)], dim=1)
        return features


def _transition(c_in, c_out):
    # BN-ReLU-1×1 conv to compress the channels, then 2×2 average pooling
    return nn.Sequential(nn.BatchNorm2d(c_in), nn.ReLU(), nn.Conv2d(c_in, c_out, 1, bias=False),
                         nn.AvgPool2d(2))


@_seeded
def densenet(n_classes: int = 10, growth: int = 12, layers_per_block: int = 3) -> nn.Module:
    """DenseNet in miniature: three dense blocks (16×16, 8×8, 4×4) joined by compressing transitions."""
    _check_classes(n_classes)
    modules, c = [conv_bn_relu(3, 2 * growth, 3, stride=2)], 2 * growth
    for index in range(3):
        block = DenseBlock(c, growth, layers_per_block)
        modules.append(block)
        c = block.out_channels
        if index < 2:
            modules.append(_transition(c, c // 2))
            c //= 2
    return nn.Sequential(*modules, nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(c, n_classes))


# ----------------------------------------------------------------------------- degradation twins
def _twin(n_classes, n, widths, shortcut):
    _check_classes(n_classes)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n (blocks per stage) must be an integer >= 1, got {n!r}")
    layers, c_in = [conv_bn_relu(3, widths[0], 3, stride=2)], widths[0]
    for stage, width in enumerate(widths):
        for index in range(n):
            layers.append(BasicBlock(c_in, width, 2 if stage > 0 and index == 0 else 1,
                                     shortcut=shortcut))
            c_in = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, n_classes))


@_seeded
def plain_net(n_classes: int = 10, n: int = 3, widths=(8, 16, 32)) -> nn.Module:
    """A plain CNN of 6n + 2 weighted layers: stem, 3 stages of n pairs of conv-BN-ReLU, FC."""
    return _twin(n_classes, n, widths, shortcut=False)


@_seeded
def residual_net(n_classes: int = 10, n: int = 3, widths=(8, 16, 32)) -> nn.Module:
    """``plain_net`` with an identity shortcut around every pair of conv layers (a ResNet-(6n+2))."""
    return _twin(n_classes, n, widths, shortcut=True)


def weighted_layers(model) -> list[tuple[str, nn.Module]]:
    """The conv and linear layers of ``model`` in order, without the 1×1 shortcut projections."""
    return [(name, module) for name, module in model.named_modules()
            if isinstance(module, (nn.Conv2d, nn.Linear)) and "project" not in name]


# ----------------------------------------------------------------------------- the table
ARCHITECTURES = {
    "AlexNet": alexnet,
    "VGG": vgg,
    "GoogLeNet (Inception)": inception,
    "ResNet (basic blocks)": lambda n_classes=10,
    seed=0: resnet(n_classes, block="basic", seed=seed),
    "ResNet (bottleneck blocks)": lambda n_classes=10, seed=0: resnet(n_classes, block="bottleneck",
                                                                      widths=(8, 16, 32),
                                                                      seed=seed),
    "DenseNet": densenet,
}


def build(name: str, n_classes: int = 10, seed: int = 0) -> nn.Module:
    """One of the ``ARCHITECTURES`` by its table name, with ``n_classes`` outputs."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose one of {list(ARCHITECTURES)}")
    return ARCHITECTURES[name](n_classes=n_classes, seed=seed)


def _flop_counter(model: nn.Module, input_shape):
    """A ``FlopCounterMode`` that has counted one forward pass (eval mode, no gradients)."""
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    try:
        with counter, torch.no_grad():
            model(torch.zeros(input_shape))
    finally:
        model.train(was_training)
    return counter


def count_flops(model: nn.Module, input_shape=(1, 3, 32, 32)) -> int:
    """FLOPs of one forward pass on a batch of ``input_shape`` (torch's ``FlopCounterMode``).

    Convention: a multiply-add counts as 2 FLOPs; only convolutions and matrix
    products (Linear) are counted — pooling, activations, normalization and additions
    are not. Runs in eval mode without gradients.
    """
    return int(_flop_counter(model, input_shape).get_total_flops())


def flops_by_module(model: nn.Module, input_shape=(1, 3, 32, 32)) -> dict[str, int]:
    """FLOPs of each direct child of ``model`` (same convention as ``count_flops``)."""
    per_module = _flop_counter(model, input_shape).get_flop_counts()
    prefix = type(model).__name__
    return {name: int(sum(per_module.get(f"{prefix}.{name}", {}).values()))
            for name, _ in model.named_children()}


# ----------------------------------------------------------------------------- transfer learning
class FineTuned(nn.Module):
    """A pre-trained network split into a frozen ``body`` and the trainable ``rest``.

    The frozen part gets no gradient and stays in eval mode even while the whole model
    trains (its BatchNorm statistics are those of the pre-training data, not of a batch
    of four target images). ``FineTuned(model, n_frozen)`` freezes the first ``n_frozen``
    children of a ``nn.Sequential``; 0 freezes nothing.
    """

    def __init__(self, model: nn.Sequential, n_frozen: int):
        super().__init__()
        children = list(model.children())
        if isinstance(n_frozen, bool) or not isinstance(n_frozen, int) or not 0 <= n_frozen < len(children):
            raise ValueError(f"n_frozen must be an integer in [0, {len(children) - 1}] for this model, "
                             f"got {n_frozen!r}")
        self.body = nn.Sequential(*children[:n_frozen])
        self.rest = nn.Sequential(*children[n_frozen:])
        for parameter in self.body.parameters():
            parameter.requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        self.body.eval()
        return self

    def forward(self, x):
        return self.rest(self.body(x))


def replace_head(model: nn.Sequential, n_classes: int, seed: int = 0) -> nn.Sequential:
    """A copy of ``model`` whose last layer (a ``Linear``) is a fresh one with ``n_classes`` outputs."""
    import copy

    _check_classes(n_classes)
    head = model[-1]
    if not isinstance(head, nn.Linear):
        raise ValueError(f"the model's last layer must be nn.Linear, got {type(head).__name__}")
    model = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model[-1] = nn.Linear(head.in_features, n_classes)
    return model


def to_arrays(model: nn.Module) -> dict:
    """The model's ``state_dict`` as NumPy arrays (for ``coursekit.assets.save_weights``)."""
    return {name: tensor.detach().cpu().numpy() for name, tensor in model.state_dict().items()}


def from_arrays(model: nn.Module, arrays: dict) -> nn.Module:
    """Load arrays written by ``to_arrays`` into ``model`` (same architecture); returns ``model``."""
    model.load_state_dict({name: torch.as_tensor(np.asarray(value)) for name, value in arrays.items()})
    return model
