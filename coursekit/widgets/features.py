"""FeatureMaps: filters and feature maps of any torch CNN, captured with forward hooks."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from coursekit.viz.features import SCALES, feature_maps, layer_filters, named_layers, plot_maps
from coursekit.widgets.base import FigureWidget, new_static_figure


class FeatureMaps(FigureWidget):
    """The input image, the chosen layer's feature maps and (for a conv layer) its filters.

    model: a torch CNN; images: (n, C, H, W) or (n, H, W) array; labels:
    optional names of the images. Controls: ``layer``, ``image_index``,
    ``scale`` (per map: the pattern in each map; per layer: which maps respond
    most strongly).
    """

    figsize = (11.0, 3.8)

    def __init__(self, model, images, labels=None, layer: str | None = None):
        super().__init__()
        self.model = model
        self.images = np.asarray(images, dtype=np.float32)
        if self.images.ndim == 3:
            self.images = self.images[:, None]
        if self.images.ndim != 4:
            raise ValueError(f"images must have shape (n, C, H, W) or (n, H, W), got {np.shape(images)}")
        self.labels = labels
        self.layers_by_name = named_layers(model)
        if not self.layers_by_name:
            raise ValueError("the model has no Conv2d / pooling / ReLU layers to show")
        names = tuple(self.layers_by_name)
        self.layer = widgets.Dropdown(options=names, value=layer or names[0], description="layer")
        self.image_index = widgets.IntSlider(value=0, min=0, max=len(self.images) - 1,
                                             description="image")
        self.scale = widgets.Dropdown(options=SCALES, value="per_map", description="colour scale")
        self.maps = None
        self._build_ui()
        self.update()

    def _controls(self):
        return [self.layer, self.image_index, self.scale]

    def _title(self, index):
        return f"input ({self.labels[index]})" if self.labels is not None else "input"

    def draw(self, figure):
        index = self.image_index.value
        name = self.layer.value
        self.maps = feature_maps(self.model, self.images[index], [name])[name]
        module = self.layers_by_name[name]
        has_filters = getattr(module, "weight", None) is not None and module.weight.ndim == 4
        axes = figure.subplots(1, 3 if has_filters else 2,
                               width_ratios=(0.6, 1, 1) if has_filters else (0.6, 1))
        image = self.images[index]
        axes[0].imshow(image[0] if image.shape[0] == 1 else np.moveaxis(image, 0, -1),
                       cmap="gray_r")
        axes[0].set_title(self._title(index), fontsize=10)
        axes[0].set_xticks([])
        axes[0].set_yticks([])
        plot_maps(axes[1], self.maps, self.scale.value,
                  title=f"{name}: {self.maps.shape[0]} maps of "
                        f"{self.maps.shape[1]}×{self.maps.shape[2]}")
        if has_filters:
            filters = layer_filters(module)
            # one picture per filter: the kernel averaged over its input channels
            plot_maps(axes[2], filters.mean(axis=1), "per_map", cmap="RdBu_r",
                      title=f"{filters.shape[0]} filters {filters.shape[2]}×{filters.shape[3]} "
                            f"(mean over {filters.shape[1]} input channels)")
        strongest = int(np.abs(self.maps).mean(axis=(1, 2)).argmax())
        self.message.value = f"map {strongest} responds most strongly to this image"

    def state(self) -> dict:
        """The layer, the image, the scaling and the feature maps shown (the testing contract)."""
        return {"layer": self.layer.value, "image_index": self.image_index.value,
                "scale": self.scale.value, "maps": self.maps.copy()}

    def render_static(self, layers=None):
        """The input and its feature maps at every layer (one panel per layer)."""
        layers = list(layers or self.layers_by_name)
        index = self.image_index.value
        maps = feature_maps(self.model, self.images[index], layers)
        figure, axes = new_static_figure(len(maps) + 1, min(len(maps) + 1, 4),
                                         panel_size=(3.0, 3.0),
                                         title="Feature maps layer by layer (each map on its own scale)")
        image = self.images[index]
        axes[0].imshow(image[0] if image.shape[0] == 1 else np.moveaxis(image, 0, -1),
                       cmap="gray_r")
        axes[0].set_title(self._title(index), fontsize=10)
        axes[0].set_xticks([])
        axes[0].set_yticks([])
        for ax, (name, m) in zip(axes[1:], maps.items()):
            plot_maps(ax, m, "per_map", title=f"{name}: {m.shape[0]}×{m.shape[1]}×{m.shape[2]}")
        return figure
