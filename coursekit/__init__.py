"""coursekit: the support package of the open deep-learning course.

Modules (one job each):
    data       offline data sets (synthetic, scikit-learn, scikit-image)
    nn         the from-scratch NumPy reference (never imports torch)
    gradcheck  numerical gradients and relative errors
    train      a short PyTorch training loop with history and callbacks
    utils      seed_everything and small helpers
    viz        arrays to draw, and plot_* functions that draw them
    widgets    ipywidgets over viz, each with a static rendering
    grading    exercise authoring, self-check and sandboxed grading
"""

__version__ = "0.1.0"
