"""EmbeddingExplorer: labelled vectors in 2-D (PCA) with an item's nearest neighbours."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from coursekit.viz.embedding import nearest_neighbours, pca_2d, plot_embedding
from coursekit.widgets.base import FigureWidget, new_static_figure


class EmbeddingExplorer(FigureWidget):
    """vectors (n, d) with labels (n,) → PCA scatter; the chosen ``item`` and its ``k`` nearest
    neighbours (``metric`` cosine or euclidean, measured in the full d-dimensional space).
    classes: optional integer colour per item (e.g. the digit of an embedded image)."""

    figsize = (10.0, 4.2)

    def __init__(self, vectors, labels, classes=None, item: int = 0, k: int = 5):
        super().__init__()
        self.vectors = np.asarray(vectors, dtype=float)
        self.labels = [str(label) for label in labels]
        if len(self.labels) != len(self.vectors):
            raise ValueError(f"labels has {len(self.labels)} entries for {len(self.vectors)} vectors")
        self.classes = None if classes is None else np.asarray(classes)
        self.coords, self.explained = pca_2d(self.vectors)
        self.item = widgets.Dropdown(options=[(f"{label} (#{i})", i) for i, label in enumerate(self.labels)],
                                     value=item, description="item")
        self.k = widgets.IntSlider(value=k, min=1, max=min(20, len(self.vectors) - 1),
                                   description="neighbours")
        self.metric = widgets.Dropdown(options=("cosine", "euclidean"), value="cosine",
                                       description="metric")
        self.neighbours = None
        self.scores = None
        self._build_ui()
        self.update()

    def _controls(self):
        return [self.item, self.k, self.metric]

    def _draw_item(self, ax_scatter, ax_bars, item):
        neighbours, scores = nearest_neighbours(self.vectors, item, self.k.value, self.metric.value)
        plot_embedding(ax_scatter, self.coords, self.labels, item, neighbours, colors=self.classes,
                       explained=self.explained)
        ax_scatter.set_title(f"PCA of {self.vectors.shape[1]}-d vectors; ★ = {self.labels[item]}",
                             fontsize=10)
        if ax_bars is not None:
            names = [self.labels[j] for j in neighbours]
            ax_bars.barh(np.arange(len(names))[::-1], scores, color="tab:orange")
            ax_bars.set_yticks(np.arange(len(names))[::-1])
            ax_bars.set_yticklabels(names, fontsize=8)
            ax_bars.set_xlabel("cosine similarity" if self.metric.value == "cosine" else "euclidean distance")
            ax_bars.set_title(f"nearest to {self.labels[item]}", fontsize=10)
        return neighbours, scores

    def draw(self, figure):
        axes = figure.subplots(1, 2, width_ratios=(1.6, 1))
        self.neighbours, self.scores = self._draw_item(axes[0], axes[1], self.item.value)
        self.message.value = "nearest: " + ", ".join(
            f"{self.labels[j]} ({s:.3f})" for j, s in zip(self.neighbours, self.scores))

    def state(self) -> dict:
        """The query item, k, the metric, its nearest neighbours and their scores (the testing
        contract)."""
        return {"item": self.item.value, "k": self.k.value, "metric": self.metric.value,
                "neighbours": list(self.neighbours), "scores": list(self.scores)}

    def render_static(self, items=(0, 1, 2)):
        """One scatter per item, with its neighbours."""
        figure, axes = new_static_figure(len(items), len(items), panel_size=(3.8, 3.6),
                                         title=f"Nearest neighbours ({self.metric.value}) in embedding space")
        for ax, item in zip(axes, items):
            self._draw_item(ax, None, item)
        return figure
