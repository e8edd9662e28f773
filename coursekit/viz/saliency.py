"""Which pixels a CNN's decision depends on: saliency maps, occlusion sensitivity, RGB filters.

Compute (arrays): ``saliency_map`` (the gradient of a class score with respect to the
input pixels, Simonyan et al. 2014), ``occlusion_map`` (how much the class probability
drops when a grey patch hides each region, Zeiler & Fergus 2014), ``rgb_filters`` (the
first layer's 3-channel kernels as small colour images). Draw: ``plot_heatmap``,
``plot_rgb_filters``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["saliency_map", "occlusion_map", "rgb_filters", "plot_heatmap", "plot_rgb_filters"]


def _image_tensor(image):
    import torch

    x = torch.as_tensor(np.asarray(image, dtype=np.float32))
    if x.ndim != 3:
        raise ValueError(f"image must have shape (C, H, W), got {tuple(x.shape)}")
    return x


def _target(model, x, target):
    import torch

    if target is not None:
        return int(target)
    with torch.no_grad():
        return int(model(x[None]).argmax(1).item())


def saliency_map(model, image, target=None) -> tuple[np.ndarray, int]:
    """|∂ score_target / ∂ pixel|, the maximum over colour channels: an (H, W) array ≥ 0.

    image: (C, H, W). target: the class whose score (the logit, before softmax) is
    differentiated; default the predicted class. Returns ``(saliency, target)``. The
    model runs in eval mode (BN and dropout fixed); its parameters get no gradient.
    """
    import torch

    x = _image_tensor(image)
    was_training = model.training
    model.eval()
    try:
        target = _target(model, x, target)
        x = x[None].clone().requires_grad_(True)
        score = model(x)[0, target]
        (gradient,) = torch.autograd.grad(score, x)
    finally:
        model.train(was_training)
    return gradient[0].abs().amax(dim=0).numpy().astype(float), target


def occlusion_map(model, image, target=None, patch: int = 8, stride: int = 4, fill=None,
                  batch_size: int = 256) -> tuple[np.ndarray, int]:
    """Drop of the target's softmax probability when a ``patch``×``patch`` square is hidden.

    The square slides with ``stride``; each pixel's value is the mean drop over the
    squares that cover it, an (H, W) array (positive: hiding it hurts the class).
    fill: the value painted into the square (default: the image's mean colour).
    Returns ``(sensitivity, target)``.
    """
    import torch

    x = _image_tensor(image)
    c, h, w = x.shape
    for name, value in (("patch", patch), ("stride", stride)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if patch > min(h, w):
        raise ValueError(f"patch={patch} is larger than the image ({h}×{w}); choose patch <= {min(h, w)}")
    colour = x.mean(dim=(1, 2), keepdim=True) if fill is None else torch.full((c, 1, 1), float(fill))
    tops = list(range(0, h - patch + 1, stride))
    lefts = list(range(0, w - patch + 1, stride))
    if tops[-1] != h - patch:
        tops.append(h - patch)
    if lefts[-1] != w - patch:
        lefts.append(w - patch)
    corners = [(top, left) for top in tops for left in lefts]
    was_training = model.training
    model.eval()
    try:
        target = _target(model, x, target)
        with torch.no_grad():
            base = torch.softmax(model(x[None]), 1)[0, target].item()
            probabilities = []
            for start in range(0, len(corners), batch_size):
                chunk = corners[start:start + batch_size]
                batch = x.repeat(len(chunk), 1, 1, 1)
                for k, (top, left) in enumerate(chunk):
                    batch[k, :, top:top + patch, left:left + patch] = colour
                probabilities.append(torch.softmax(model(batch), 1)[:, target])
            probabilities = torch.cat(probabilities).numpy().astype(float)
    finally:
        model.train(was_training)
    total, count = np.zeros((h, w)), np.zeros((h, w))
    for (top, left), p in zip(corners, probabilities):
        total[top:top + patch, left:left + patch] += base - p
        count[top:top + patch, left:left + patch] += 1
    return total / count, target


def rgb_filters(weight) -> np.ndarray:
    """First-layer kernels (out, 3, kH, kW) as colour images (out, kH, kW, 3) in [0, 1].

    Each filter is scaled on its own: 0.5 is a zero weight, the largest |weight| reaches 0 or 1.
    """
    w = np.asarray(weight.detach().cpu().numpy() if hasattr(weight, "detach") else weight,
                   dtype=float)
    if w.ndim != 4 or w.shape[1] != 3:
        raise ValueError(f"weight must have shape (out, 3, kH, kW) (a first conv layer on RGB), got {w.shape}")
    scale = np.abs(w).max(axis=(1, 2, 3), keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    return np.moveaxis(0.5 + 0.5 * w / scale, 1, -1)


def plot_rgb_filters(ax, weight, n_columns: int | None = None, title=None):
    """Draw ``rgb_filters(weight)`` as a grid on one Axes."""
    filters = rgb_filters(weight)
    n = len(filters)
    n_columns = n_columns or int(np.ceil(np.sqrt(n)))
    n_rows = int(np.ceil(n / n_columns))
    h, w = filters.shape[1:3]
    mosaic = np.ones((n_rows * (h + 1) - 1, n_columns * (w + 1) - 1, 3))  # white gaps
    for k, image in enumerate(filters):
        r, c = divmod(k, n_columns)
        mosaic[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = image
    ax.imshow(mosaic, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_heatmap(ax, image, heat, title=None, cmap="inferno", alpha=0.55):
    """The RGB ``image`` (3, H, W) in grey with ``heat`` (H, W) on top, scaled to its maximum."""
    image = np.asarray(image, dtype=float)
    grey = image.mean(axis=0) if image.ndim == 3 else image
    heat = np.asarray(heat, dtype=float)
    top = np.abs(heat).max()
    ax.imshow(grey, cmap="gray", vmin=0, vmax=1)
    ax.imshow(heat / top if top > 0 else heat, cmap=cmap, vmin=0, vmax=1, alpha=alpha)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
