"""coursekit: the support package of the open deep-learning course.

Modules (one job each):
    data       offline data sets (synthetic, scikit-learn, scikit-image)
    nn         the from-scratch NumPy reference (never imports torch)
    unsupervised  k-means steps, k-means++, PCA by SVD, quantization (NumPy estimators)
    gradcheck  numerical gradients and relative errors
    train      a short PyTorch training loop with history and callbacks
    models     the PyTorch models: classic CNNs, grid detector, VAE and GANs; FLOP counting
    utils      seed_everything, the execution environment (threads, CPU code paths)
    viz        arrays to draw, and plot_* functions that draw them
    widgets    ipywidgets over viz, each with a static rendering
    grading    exercise authoring, self-check and sandboxed grading
    assets     results tables and small weights made by the scripts in experiments/
    workspace  a student's own copies of the notebooks (work/, ignored by git)
"""

__version__ = "0.1.0"
