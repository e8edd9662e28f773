"""What the Playground's pictures need: hidden-neuron maps, curves, the confusion matrix.

The model itself is ``coursekit.nn.mlp.PlaygroundModel`` (a NumPy MLP on 2-D points);
``playground_model`` builds one on a data set of ``coursekit.data`` named by its config.
The model's names are re-exported here for code written before it moved.

Compute: ``playground_model``, ``neuron_grid``, ``neuron_mosaic``. Draw: ``plot_curves``,
``plot_confusion``, ``plot_neuron_mosaic`` (each returns its ``ax``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from coursekit.nn.mlp import (  # noqa: F401  (re-exported: the model lived here before)
    ACTIVATIONS,
    LOSSES,
    OPTIMIZERS,
    SCHEDULES,
    PlaygroundConfig,
    PlaygroundModel,
    check_config,
    divergence_message,
    parse_activations,
    parse_layers,
)

__all__ = ["ACTIVATIONS", "OPTIMIZERS", "SCHEDULES", "LOSSES", "PlaygroundConfig",
           "PlaygroundModel", "check_config", "parse_layers", "parse_activations",
           "playground_model", "neuron_grid", "neuron_mosaic", "plot_curves", "plot_confusion",
           "plot_neuron_mosaic"]


def playground_model(config: PlaygroundConfig | None = None, X=None, y=None,
                     **overrides) -> PlaygroundModel:
    """A ``PlaygroundModel`` on ``X, y``, or (when ``X`` is None) on the data set that
    ``config`` names: ``make_classification_2d(config.dataset, config.n_samples,
    config.noise, config.seed, n_classes=config.n_classes)``."""
    config = check_config(replace(config or PlaygroundConfig(), **overrides))
    if X is None:
        from coursekit.data import make_classification_2d

        X, y = make_classification_2d(config.dataset, config.n_samples, config.noise, config.seed,
                                      n_classes=config.n_classes)
    return PlaygroundModel(config, X, y)


def neuron_grid(model: PlaygroundModel, resolution: int = 40, margin: float = 0.5):
    """Each hidden neuron's output on a grid over the data.

    Returns ``(extent, maps)``: extent (x_min, x_max, y_min, y_max) and a list
    with one (width, resolution, resolution) array per hidden layer.
    """
    X = np.vstack([model.X_train, model.X_test])
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(low[0], high[0], resolution),
                         np.linspace(low[1], high[1], resolution))
    outputs = model.hidden_activations(np.c_[xx.ravel(), yy.ravel()])
    maps = [h.T.reshape(-1, resolution, resolution) for h in outputs]
    return (low[0], high[0], low[1], high[1]), maps


# ---------------------------------------------------------------- drawing
def plot_curves(ax, history: dict, kind: str = "loss"):
    """Train and test loss (log scale) or accuracy against epoch."""
    epochs = history["epoch"]
    marker = "o" if len(epochs) == 1 else None  # a single epoch (0) is a point, not a line
    ax.plot(epochs, history[f"train_{kind}"], label="train", lw=1.5, marker=marker)
    ax.plot(epochs, history[f"test_{kind}"], label="test", lw=1.5, ls="--", marker=marker)
    ax.set_xlabel("epoch")
    ax.set_ylabel(kind)
    if kind == "loss":
        finite = [v for v in history["train_loss"] + history["test_loss"] if np.isfinite(v) and v > 0]
        if finite:
            ax.set_yscale("log")
            from matplotlib.ticker import LogLocator, NullFormatter

            ax.yaxis.set_major_locator(LogLocator(numticks=4))
            ax.yaxis.set_minor_formatter(NullFormatter())  # fewer labels: faster to draw, easier to read
    else:
        ax.set_ylim(0, 1.02)
    ax.set_title(kind, fontsize=10)
    ax.legend(fontsize=7)
    return ax


def plot_confusion(ax, counts):
    """Confusion matrix (rows = true class, columns = predicted) with counts written in."""
    counts = np.asarray(counts)
    ax.imshow(counts, cmap="Blues", vmin=0)
    for (r, c), v in np.ndenumerate(counts):
        ax.text(c, r, str(v), ha="center", va="center", fontsize=8,
                color="white" if v > counts.max() / 2 else "black")
    k = len(counts)
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("test confusion matrix", fontsize=10)
    ax.grid(False)
    return ax


def neuron_mosaic(maps, n_columns: int = 4, max_per_layer: int = 16) -> tuple:
    """Tile hidden-neuron maps into one image: each layer a block of ``n_columns``-wide rows.

    maps: list (one per layer) of (width, res, res) arrays from ``neuron_grid``.
    Each tile is scaled to [0, 1] on its own range; layers wider than
    ``max_per_layer`` show their first ``max_per_layer`` neurons. Returns
    ``(mosaic, row_starts)``: the 2-D image and the tile row where each layer starts.
    """
    from coursekit.viz.features import normalize_maps
    from coursekit.viz.latent import tile_images

    res = maps[0].shape[1]
    blocks, row_starts, rows_so_far = [], [], 0
    for layer_maps in maps:
        shown = np.nan_to_num(layer_maps[:max_per_layer], nan=0.0, posinf=0.0, neginf=0.0)
        shown = normalize_maps(shown, "per_map")[:, ::-1]  # origin at the bottom, like the data
        n_rows = -(-len(shown) // n_columns)
        block = np.full((n_rows * n_columns, res, res), np.nan)
        block[: len(shown)] = shown
        blocks.append(block.reshape(n_rows, n_columns, res, res))
        row_starts.append(rows_so_far)
        rows_so_far += n_rows + 1
        blocks.append(np.full((1, n_columns, res, res), np.nan))  # a blank row between layers
    grid = np.concatenate(blocks[:-1])
    return tile_images(grid, pad=2), row_starts


def plot_neuron_mosaic(ax, maps, extent=None, max_per_layer: int = 16):
    """Hidden neurons' outputs as one mosaic (see ``neuron_mosaic``); blue low, red high.

    Returns ``ax`` (the mosaic is ``ax.get_images()[0]``; no image without hidden layers)."""
    if not maps:
        ax.text(0.5, 0.5, "no hidden layer", ha="center", va="center", transform=ax.transAxes)
        ax.axis("off")
        return ax
    mosaic, row_starts = neuron_mosaic(maps, max_per_layer=max_per_layer)
    res = maps[0].shape[1]
    ax.imshow(mosaic, cmap="RdBu_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([(res + 2) * r + res / 2 for r in row_starts])
    ax.set_yticklabels([f"layer {r + 1}" for r in range(len(maps))], fontsize=8)
    widest = max(m.shape[0] for m in maps)
    note = f" (first {max_per_layer} per layer)" if widest > max_per_layer else ""
    ax.set_title("hidden neurons" + note, fontsize=10)
    ax.grid(False)
    return ax
