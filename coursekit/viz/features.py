"""What a CNN computes: its filters and the feature maps of each layer.

Feature maps are captured with forward hooks (the model is not modified and
the hooks are removed afterwards), so this works with any ``torch.nn.Module``.

Compute: ``named_layers``, ``feature_maps``, ``layer_filters``,
``normalize_maps``, ``maps_mosaic``. Draw: ``plot_maps``.
"""

from __future__ import annotations

import numpy as np

from coursekit.viz.latent import tile_images

__all__ = ["named_layers", "feature_maps", "layer_filters", "normalize_maps", "maps_mosaic",
           "plot_maps"]

SCALES = ("per_map", "per_layer")


def named_layers(model, kinds=None) -> dict:
    """Layers of ``model`` whose output is an image-like (N, C, H, W) tensor.

    kinds: tuple of module classes to keep (default: Conv2d, pooling layers and
    activations that follow them). Returns ``{name: module}`` in forward order.
    """
    import torch.nn as nn

    kinds = kinds or (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ReLU, nn.BatchNorm2d)
    return {name: module for name, module in model.named_modules() if name and isinstance(module, kinds)}


def feature_maps(model, image, layer_names=None) -> dict:
    """Outputs of the named layers when ``model`` runs on one ``image``.

    image: (C, H, W) or (H, W) array or tensor (a batch axis is added).
    layer_names: list of names from ``model.named_modules()`` (default: every
    ``named_layers(model)``). Returns ``{name: array (C_out, H_out, W_out)}``;
    layers whose output is not 4-D are skipped.
    """
    import torch

    layers = dict(model.named_modules())
    if layer_names is None:
        layer_names = list(named_layers(model))
    missing = [name for name in layer_names if name not in layers]
    if missing:
        raise ValueError(f"layer_names {missing} are not in the model; available: {list(layers)[1:]}")
    x = torch.as_tensor(np.asarray(image, dtype=np.float32))
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"image must have shape (C, H, W) or (H, W), got {tuple(x.shape)}")
    captured = {}

    def make_hook(name):
        def hook(module, inputs, output):
            if isinstance(output, torch.Tensor) and output.ndim == 4:
                captured[name] = output[0].detach().cpu().numpy().astype(float)
        return hook

    handles = [layers[name].register_forward_hook(make_hook(name)) for name in layer_names]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x[None])
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return {name: captured[name] for name in layer_names if name in captured}


def layer_filters(module) -> np.ndarray:
    """The weights of a conv layer as (out_channels, in_channels, kH, kW)."""
    weight = getattr(module, "weight", None)
    if weight is None or weight.ndim != 4:
        raise ValueError(f"{type(module).__name__} has no 4-D conv weight; choose a Conv2d layer")
    return weight.detach().cpu().numpy().astype(float)


def normalize_maps(maps, scale: str = "per_map") -> np.ndarray:
    """Scale maps (C, H, W) to [0, 1] for display.

    "per_map": each map by its own min and max (shows the pattern in every map,
    even a nearly silent one). "per_layer": all maps by the layer's min and max
    (shows which maps respond strongly). A constant map becomes 0.
    """
    maps = np.asarray(maps, dtype=float)
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    axes = (1, 2) if scale == "per_map" else None
    low = maps.min(axis=axes, keepdims=True)
    high = maps.max(axis=axes, keepdims=True)
    span = np.where(high > low, high - low, 1.0)
    return (maps - low) / span


def maps_mosaic(maps, scale: str = "per_map", n_columns: int | None = None) -> np.ndarray:
    """Normalize maps (C, H, W) and tile them into one 2-D image, ``n_columns`` per row."""
    maps = normalize_maps(maps, scale)
    c = len(maps)
    n_columns = n_columns or int(np.ceil(np.sqrt(c)))
    n_rows = int(np.ceil(c / n_columns))
    padded = np.full((n_rows * n_columns, *maps.shape[1:]), np.nan)
    padded[:c] = maps
    return tile_images(padded.reshape(n_rows, n_columns, *maps.shape[1:]))


def plot_maps(ax, maps, scale: str = "per_map", title=None, cmap="magma", n_columns=None):
    """Draw maps (C, H, W) as a grid on one Axes."""
    ax.imshow(maps_mosaic(maps, scale, n_columns), cmap=cmap, vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
