"""Pictures of the course: compute arrays in plain functions, draw with ``plot_*(ax, ...)``."""

from .boundary import decision_boundary, plot_dataset, plot_decision_boundary
from .style import CLASS_COLORS, class_cmap, label, new_figure, show_images, use_style

__all__ = ["CLASS_COLORS", "class_cmap", "decision_boundary", "label", "new_figure",
           "plot_dataset", "plot_decision_boundary", "show_images", "use_style"]
