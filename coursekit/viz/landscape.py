"""Loss landscapes of a torch model (Li et al., 2018, "Visualizing the Loss Landscape").

Weights are handled as flat NumPy vectors in ``model.parameters()`` order
(the layout ``coursekit.train.WeightSnapshots`` records). The loss along a line or on a plane through weight
space is measured by loading ``center + a·d1 + b·d2`` into the model.

Why normalize directions: a random Gaussian direction moves every weight by
about the same amount. A layer whose weights are tiny is wrecked by that step
while a layer with big weights barely notices, and a network with batch norm is
invariant to the scale of a layer's filters, so the plot says more about the
weights' scale than about the loss. *Filter normalization* rescales the random
direction filter by filter to the norm of the matching filter of the model;
*layer normalization* does it per parameter tensor.

Why PCA directions for the training path (Li et al., section 7): two random
directions in a space of thousands of weights are almost orthogonal to the
path training took, so the projected path collapses onto the centre. The
plane spanned by the top-2 principal directions of the matrix of
``snapshot − final weights`` is the plane through the final weights that holds
as much of the path as any plane can; its explained-variance ratios say how
much of the path the picture shows.

Compute: ``get_weights``, ``set_weights``, ``random_direction``,
``trajectory_directions``, ``plane_fraction``, ``covering_coords``,
``loss_function``, ``interpolate_1d``, ``slice_2d``, ``project_trajectory``,
``landscape_slice`` (a whole slice, as the LossLandscape widget shows it).
Draw: ``plot_interpolation``, ``plot_slice``, ``pca_axis_labels``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "NORMALIZATIONS", "DIRECTIONS", "landscape_slice", "get_weights", "set_weights",
    "normalize_direction", "random_direction", "trajectory_directions", "plane_fraction",
    "covering_coords", "loss_function", "interpolate_1d", "slice_2d", "project_trajectory",
    "plot_interpolation", "plot_slice", "pca_axis_labels",
]

NORMALIZATIONS = ("filter", "layer", "none")


def get_weights(model) -> np.ndarray:
    """All parameters of ``model`` as one flat float64 vector (the layout of
    ``coursekit.train.WeightSnapshots``: ``model.parameters()`` order, row-major;
    ``torch.nn.utils.parameters_to_vector``)."""
    from torch.nn.utils import parameters_to_vector

    return parameters_to_vector(model.parameters()).detach().cpu().numpy().astype(float)


def set_weights(model, vector) -> None:
    """Load a flat weight vector into ``model`` in place (``vector_to_parameters``)."""
    import torch
    from torch.nn.utils import vector_to_parameters

    vector = np.asarray(vector)
    parameters = list(model.parameters())
    n = sum(p.numel() for p in parameters)
    if vector.shape != (n,):
        raise ValueError(f"weight vector must have shape ({n},) for this model, got {vector.shape}")
    # torch.tensor copies: the parameters must not share memory with the caller's array
    with torch.no_grad():
        vector_to_parameters(torch.tensor(vector, dtype=parameters[0].dtype), parameters)


def _pieces(model, vector):
    """Split a flat vector into views shaped like each parameter of ``model``."""
    out, start = [], 0
    for p in model.parameters():
        out.append(vector[start:start + p.numel()].reshape(p.shape))
        start += p.numel()
    return out


def normalize_direction(model, direction, weights, normalization: str = "filter") -> np.ndarray:
    """Rescale a flat ``direction`` piece by piece to the scale of ``weights``.

    "filter": each filter (row of a Linear weight, output channel of a Conv
    weight) gets the norm of the matching filter of ``weights``; "layer": each
    parameter tensor gets the norm of the matching tensor; "none": unchanged.
    With "filter" and "layer", 1-D parameters (biases, norm scales) get zero
    so they stay fixed, as in Li et al.
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
    direction = np.array(direction, dtype=float)
    if normalization == "none":
        return direction
    for d, w in zip(_pieces(model, direction), _pieces(model, np.asarray(weights, dtype=float))):
        if w.ndim <= 1:
            d[...] = 0.0
        elif normalization == "filter":
            d2, w2 = d.reshape(d.shape[0], -1), w.reshape(w.shape[0], -1)
            scale = np.linalg.norm(w2, axis=1) / np.maximum(np.linalg.norm(d2, axis=1), 1e-12)
            d2 *= scale[:, None]
        else:
            d *= np.linalg.norm(w) / max(np.linalg.norm(d), 1e-12)
    return direction


def random_direction(model, weights=None, normalization: str = "filter",
                     seed: int = 0) -> np.ndarray:
    """A random Gaussian direction in weight space (flat vector), normalized as chosen.

    ``weights`` (default: the model's current weights) sets the scale used by
    "filter" and "layer" normalization.
    """
    weights = get_weights(model) if weights is None else np.asarray(weights, dtype=float)
    rng = np.random.default_rng(seed)
    return normalize_direction(model, rng.standard_normal(weights.shape), weights, normalization)


def trajectory_directions(snapshots, center=None) -> tuple:
    """The top-2 PCA directions of a training trajectory around ``center``.

    snapshots: (n_snapshots >= 2, n_weights) flat weights recorded during
    training; center: (n_weights,) the point the plane goes through (default
    the last snapshot, the final weights). The rows ``snapshot − center`` are
    decomposed without subtracting their mean, because the plot's plane goes
    through ``center``: the two right singular vectors are then the plane
    through ``center`` that loses the least of the path (least squares), and
    ``explained[k] = s_k² / Σ s²`` is the fraction of the summed squared
    distances ``‖snapshot − center‖²`` that lies along direction k.
    (Li et al. use scikit-learn's mean-centred PCA on the same matrix; for a
    path that ends at ``center`` the two planes are nearly the same.)

    Returns ``(d1, d2, explained)``: orthonormal vectors of shape
    (n_weights,), the first pointing from ``center`` towards the first
    snapshot, and ``explained`` of shape (2,).
    """
    snapshots = np.asarray(snapshots, dtype=float)
    if snapshots.ndim != 2 or len(snapshots) < 2:
        raise ValueError(f"snapshots must have shape (n_snapshots >= 2, n_weights), got {snapshots.shape}")
    center = snapshots[-1] if center is None else np.asarray(center, dtype=float)
    if center.shape != snapshots.shape[1:]:
        raise ValueError(f"center must have shape ({snapshots.shape[1]},) like one snapshot, got {center.shape}")
    offsets = snapshots - center
    _, s, vt = np.linalg.svd(offsets, full_matrices=False)
    total = float((s ** 2).sum())
    if total == 0.0:
        raise ValueError("snapshots are all equal to center: the trajectory has no direction to show")
    explained = np.zeros(2)
    explained[:min(2, len(s))] = s[:2] ** 2 / total
    d1 = vt[0].copy()
    if vt.shape[0] > 1:
        d2 = vt[1].copy()
    else:  # a single snapshot besides the centre: any unit vector orthogonal to d1 completes the plane
        d2 = np.zeros_like(d1)
        d2[int(np.argmin(np.abs(d1)))] = 1.0
        d2 -= (d2 @ d1) * d1
        d2 /= np.linalg.norm(d2)
    # the sign of a singular vector is arbitrary: fix it so the path starts at positive coordinates
    for d in (d1, d2):
        if offsets[0] @ d < 0:
            d *= -1.0
    return d1, d2, explained


def plane_fraction(snapshots, center, d1, d2) -> float:
    """Fraction of the path's summed squared distance from ``center`` that lies in the plane of d1, d2.

    1.0: the projected path is the path; near 0: the plane is orthogonal to
    it and the projected path collapses onto the centre (random directions).
    snapshots: (n, n_weights); center, d1, d2: (n_weights,).
    """
    offsets = np.asarray(snapshots, dtype=float) - np.asarray(center, dtype=float)
    basis = np.stack([np.asarray(d1, dtype=float), np.asarray(d2, dtype=float)], axis=1)
    in_plane = basis @ project_trajectory(snapshots, center, d1, d2).T  # (n_weights, n)
    total = float((offsets ** 2).sum())
    return float((in_plane ** 2).sum() / total) if total > 0 else 1.0


def covering_coords(points, resolution: int = 21, margin: float = 0.25) -> tuple:
    """Grid coordinates along each axis covering 2-D ``points`` and the origin, with a margin.

    points: (n, 2), e.g. a projected trajectory. Each axis spans the points'
    range widened by ``margin`` times the larger of the two ranges on both
    sides, so a nearly straight path still gets room across it.
    Returns ``(coords1, coords2)``, each of shape (resolution,).
    """
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"points must have shape (n >= 1, 2), got {points.shape}")
    if resolution < 2:
        raise ValueError(f"resolution must be >= 2 grid points per axis, got {resolution}")
    low = np.minimum(points.min(axis=0), 0.0)
    high = np.maximum(points.max(axis=0), 0.0)
    pad = margin * max(float((high - low).max()), 1e-12)
    return tuple(np.linspace(lo - pad, hi + pad, resolution) for lo, hi in zip(low, high))


def loss_function(X, y, criterion=None):
    """A function ``f(model) -> float``: the mean loss of ``model`` on (X, y) in eval mode."""
    import torch

    X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y))
    criterion = criterion or torch.nn.functional.cross_entropy

    def evaluate(model):
        model.eval()
        with torch.no_grad():
            return float(criterion(model(X), y))

    return evaluate


def interpolate_1d(model, loss_fn, weights_a, weights_b, alphas=None) -> np.ndarray:
    """Loss at ``(1 − α)·weights_a + α·weights_b`` for each α (default
    41 values in [−0.5, 1.5]); returns shape (len(alphas),).

    The model's own weights are restored afterwards.
    """
    alphas = np.linspace(-0.5, 1.5, 41) if alphas is None else alphas
    weights_a = np.asarray(weights_a, dtype=float)
    direction = np.asarray(weights_b, dtype=float) - weights_a
    original = get_weights(model)
    try:
        losses = []
        for alpha in alphas:
            set_weights(model, weights_a + float(alpha) * direction)
            losses.append(loss_fn(model))
    finally:
        set_weights(model, original)
    return np.asarray(losses)


def slice_2d(model, loss_fn, center, d1, d2, coords1=None, coords2=None) -> np.ndarray:
    """Loss on the plane ``center + a·d1 + b·d2``; returns Z of shape (len(coords2), len(coords1)).

    ``Z[j, i]`` is the loss at ``a = coords1[i]``, ``b = coords2[j]`` (ready for
    ``contourf(coords1, coords2, Z)``). The model's weights are restored.
    """
    coords1 = np.linspace(-1, 1, 21) if coords1 is None else coords1
    coords2 = coords1 if coords2 is None else coords2
    center, d1, d2 = (np.asarray(v, dtype=float) for v in (center, d1, d2))
    original = get_weights(model)
    Z = np.empty((len(coords2), len(coords1)))
    try:
        for j, b in enumerate(coords2):
            for i, a in enumerate(coords1):
                set_weights(model, center + float(a) * d1 + float(b) * d2)
                Z[j, i] = loss_fn(model)
    finally:
        set_weights(model, original)
    return Z


#: Directions of a 2-D slice: "random" (two random directions, normalized as chosen: Li et
#: al.'s slices) or "pca" (the top-2 PCA directions of the training path, Li et al. section 7).
DIRECTIONS = ("random", "pca")


def landscape_slice(model, loss_fn, center, *, snapshots=None, directions: str = "random",
                    normalization: str = "filter", span: float = 1.0, resolution: int = 21,
                    seed: int = 0) -> dict:
    """The loss on a plane through ``center`` (flat weights), with the training path on it.

    directions "random": two random directions (seeds ``seed`` and ``seed + 1000``)
    normalized by ``normalization``, coordinates in ``[-span, span]``; "pca": the top-2
    PCA directions of ``snapshots`` ((n >= 2, n_weights) flat weights along training),
    coordinates covering the projected path, zoomed by ``span`` about its middle (1 = the
    path plus a margin). ``resolution`` grid points per axis (``resolution²`` losses).

    Returns a dict: ``coords1``, ``coords2``, ``Z`` (len(coords2), len(coords1)), the
    projected ``trajectory`` (n, 2) or None, ``labels`` (axis labels), ``explained`` (PCA
    variance ratios or None), ``path_in_plane`` (fraction of the path the plane holds, or
    None), ``normalization``, ``directions`` and ``d1_norm``.
    """
    if directions not in DIRECTIONS:
        raise ValueError(f"directions must be one of {DIRECTIONS}, got {directions!r}")
    center = np.asarray(center, dtype=float)
    snapshots = None if snapshots is None else np.asarray(snapshots, dtype=float)
    trajectory, path_in_plane, explained = None, None, None
    if directions == "random":
        d1 = random_direction(model, center, normalization, seed=seed)
        d2 = random_direction(model, center, normalization, seed=seed + 1000)
        coords1 = coords2 = np.linspace(-span, span, resolution)
        labels = ("random direction 1", "random direction 2")
    else:
        if snapshots is None or len(snapshots) < 2:
            raise ValueError("directions='pca' needs snapshots=(n >= 2, n_weights) of the "
                             "training path")
        d1, d2, explained = trajectory_directions(snapshots, center)
        labels = pca_axis_labels(explained)
    if snapshots is not None:
        trajectory = project_trajectory(snapshots, center, d1, d2)
        path_in_plane = plane_fraction(snapshots, center, d1, d2)
    if directions == "pca":
        coords1, coords2 = covering_coords(trajectory, resolution)
        # span zooms the covering box about its middle (1 = path plus margin)
        coords1, coords2 = ((c - c.mean()) * span + c.mean() for c in (coords1, coords2))
    Z = slice_2d(model, loss_fn, center, d1, d2, coords1, coords2)
    return {"coords1": coords1, "coords2": coords2, "Z": Z, "trajectory": trajectory,
            "normalization": normalization, "directions": directions, "labels": labels,
            "explained": explained, "path_in_plane": path_in_plane,
            "d1_norm": float(np.linalg.norm(d1))}


def project_trajectory(snapshots, center, d1, d2) -> np.ndarray:
    """Coordinates (a, b) of each snapshot in the plane of d1, d2 through ``center``.

    Solves the least-squares problem ``snapshot − center ≈ a·d1 + b·d2`` (the
    directions need not be orthogonal). Returns shape (n_snapshots, 2).
    """
    basis = np.stack([np.asarray(d1, dtype=float), np.asarray(d2, dtype=float)], axis=1)
    offsets = np.asarray(snapshots, dtype=float) - np.asarray(center, dtype=float)
    coefficients, *_ = np.linalg.lstsq(basis, offsets.T, rcond=None)
    return coefficients.T


def plot_interpolation(ax, alphas, losses, label=None, log=False):
    """Loss against α; the two end points α = 0 and α = 1 are marked."""
    ax.plot(alphas, losses, label=label, lw=1.5)
    for a in (0.0, 1.0):
        ax.axvline(a, color="0.6", lw=0.8, ls="--")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(r"$\alpha$  (0 = start weights, 1 = end weights)")
    ax.set_ylabel("loss")
    return ax


def pca_axis_labels(explained) -> tuple:
    """Axis labels for the PCA plane: ``("PCA direction 1 (93.1% of the path)", ...)``."""
    return tuple(f"PCA direction {k + 1} ({100 * float(e):.1f}% of the path)" for k, e in enumerate(explained[:2]))


def plot_slice(ax, coords1, coords2, Z, trajectory=None, levels=20, log=True, colorbar=True,
               labels=("direction 1", "direction 2")):
    """Contours of a 2-D loss slice ``Z`` (len(coords2), len(coords1)); optional
    trajectory (n, 2) drawn on top (start, path, end); ``labels``: axis labels.
    Returns ``ax`` (the filled contours are ``ax.collections[0]``, e.g. for a shared colour bar)."""
    Z = np.asarray(Z, dtype=float)
    shown = np.log10(np.clip(Z, 1e-6, None)) if log else Z
    shown = np.where(np.isfinite(shown), shown, np.nanmax(shown[np.isfinite(shown)]))
    if not np.isscalar(levels):  # fixed levels shared between panels: clip to them
        shown = np.clip(shown, levels[0], levels[-1])
    contour = ax.contourf(coords1, coords2, shown, levels=levels, cmap="viridis")
    ax.contour(coords1, coords2, shown, levels=levels, colors="k", linewidths=0.3, alpha=0.5)
    if colorbar:
        ax.figure.colorbar(contour, ax=ax, label="log10 loss" if log else "loss")
    if trajectory is not None:
        trajectory = np.asarray(trajectory)
        ax.plot(trajectory[:, 0], trajectory[:, 1], "w.-", lw=1.2, ms=4)
        ax.plot(trajectory[0, 0], trajectory[0, 1], "o", color="tab:orange", ms=7, label="start")
        ax.plot(trajectory[-1, 0], trajectory[-1, 1], "*", color="tab:red", ms=12, label="end")
        ax.legend(fontsize=7, loc="upper right")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    return ax
