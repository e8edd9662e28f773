"""Vanishing and exploding gradients: statistics of every layer of a deep MLP.

A stack of ``depth`` square layers (width × width) with one activation is run
forward on a batch of standard-normal inputs and backward from a random
upstream gradient, all with ``coursekit.nn`` (init, linear and activation
forward/backward pairs). Per layer we record the activations, the gradient
with respect to the layer's input and the gradient of its weight matrix.

Compute: ``INITS``, ``ACTIVATIONS``, ``init_weight``, ``layer_statistics``,
``dead_fraction``, ``diagnose``. Draw: ``plot_norms``, ``plot_distributions``, ``plot_dead``.
"""

from __future__ import annotations

import numpy as np

from coursekit.nn.functional.activations import activation_gain, activation_names, get_activation

__all__ = ["INITS", "ACTIVATIONS", "init_weight", "layer_statistics", "dead_fraction", "diagnose",
           "plot_norms",
           "plot_distributions", "plot_dead"]

INITS = ("zeros", "small normal", "large normal", "xavier", "he", "orthogonal")
#: The elementwise activations of the registry ``coursekit.nn.functional.ACTIVATIONS``.
ACTIVATIONS = activation_names("elementwise")
SMALL_STD, LARGE_STD = 0.01, 1.0


def init_weight(name: str, shape, rng, activation: str = "relu") -> np.ndarray:
    """A weight matrix (out, in) from ``coursekit.nn.init``.

    "small normal" N(0, 0.01²), "large normal" N(0, 1), "xavier" Glorot normal,
    "he" Kaiming normal (fan_in, ReLU gain √2), "orthogonal" with
    the gain for ``activation`` (``coursekit.nn.functional.activation_gain``).
    """
    from coursekit.nn import init

    if name not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {name!r}")
    if name == "zeros":
        return init.zeros(shape)
    if name == "small normal":
        return init.normal(shape, std=SMALL_STD, rng=rng)
    if name == "large normal":
        return init.normal(shape, std=LARGE_STD, rng=rng)
    if name == "xavier":
        return init.xavier_normal(shape, rng=rng)
    if name == "he":
        return init.kaiming_normal(shape, nonlinearity="relu", rng=rng)  # He et al. derived it for ReLU
    return init.orthogonal(shape, gain=activation_gain(activation), rng=rng)


def layer_statistics(depth: int = 10, width: int = 64, activation: str = "tanh",
                     init: str = "xavier", n_samples: int = 256, seed: int = 0) -> dict:
    """Forward and backward statistics of a ``depth``-layer MLP.

    Returns a dict of per-layer lists/arrays (index 0 = first layer):
      ``pre`` list of (n_samples, width) pre-activations,
      ``activations`` list of (n_samples, width) outputs,
      ``pre_grads`` list of (n_samples, width) gradients ∂L/∂z_l of the pre-activations,
      ``activation_std`` (depth,), ``input_grad_norm`` (depth,) = ‖∂L/∂x_l‖
      (per-sample mean of the norm of the gradient reaching layer l's input),
      ``weight_grad_norm`` (depth,) = ‖∂L/∂W_l‖_F, ``dead`` (depth,) from
      ``dead_fraction`` for ReLU networks (NaN for other activations).
    The upstream gradient at the top is N(0, 1)/n_samples, as from a loss that
    averages over the batch.
    """
    from coursekit.nn import functional as F

    act = get_activation(activation, allowed=ACTIVATIONS)
    for name, value in (("depth", depth), ("width", width), ("n_samples", n_samples)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_samples, width))
    forward, backward = act.forward, act.backward
    caches, pre, acts = [], [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(depth):
            w = init_weight(init, (width, width), rng, activation)
            z, linear_cache = F.linear_forward(x, w, np.zeros(width))
            x, act_cache = forward(z)
            caches.append((linear_cache, act_cache))
            pre.append(z)
            acts.append(x)
        dout = rng.standard_normal(x.shape) / n_samples
        input_grad, weight_grad = np.zeros(depth), np.zeros(depth)
        pre_grads = [None] * depth
        for layer in reversed(range(depth)):
            linear_cache, act_cache = caches[layer]
            dz = backward(dout, act_cache)
            pre_grads[layer] = dz
            dout, dw, _ = F.linear_backward(dz, linear_cache)
            input_grad[layer] = np.linalg.norm(dout, axis=1).mean()
            weight_grad[layer] = np.linalg.norm(dw)
    return {
        "pre": pre,
        "activations": acts,
        "pre_grads": pre_grads,
        "activation_std": np.array([a.std() for a in acts]),
        "input_grad_norm": input_grad,
        "weight_grad_norm": weight_grad,
        # "dead" only means something behind a ReLU (a unit that outputs 0 for every input)
        "dead": np.array([dead_fraction(z) if activation == "relu" else np.nan for z in pre]),
    }


def dead_fraction(pre_activations) -> float:
    """Fraction of units whose pre-activation is ≤ 0 for every sample of the batch.

    pre_activations: (n_samples, width). Behind a ReLU such a unit outputs 0 and
    passes no gradient for any of these inputs: it is dead.
    """
    pre_activations = np.asarray(pre_activations, dtype=float)
    if pre_activations.ndim != 2:
        raise ValueError(f"pre_activations must be (n_samples, width), got {pre_activations.shape}")
    return float(np.mean(np.all(pre_activations <= 0, axis=0)))


#: A ReLU layer with at least this fraction of dead units is reported, whatever the gradients do.
DEAD_ALARM = 0.25


def diagnose(stats: dict) -> str:
    """Name the regime of ``layer_statistics`` output in words: symmetry (all-zero weights),
    exploding, vanishing (from the first-to-last layer weight-gradient ratio), many dead
    ReLUs, or healthy."""
    g = stats["weight_grad_norm"]
    if not np.all(np.isfinite(g)) or not np.all(np.isfinite(stats["activation_std"])):
        return "exploding: values overflow to inf/NaN"
    if g.max() == 0:
        return "no gradient at all: with all-zero weights every unit computes the same thing (symmetry)"
    ratio = g[0] / max(g[-1], 1e-300)
    if ratio < 1e-2:
        return f"vanishing gradients: layer 1 gets {ratio:.1e} × the gradient of the last layer"
    if ratio > 1e2 or stats["activation_std"][-1] > 1e3:
        return f"exploding: layer 1 gets {ratio:.1e} × the gradient of the last layer"
    dead = np.nan_to_num(np.asarray(stats["dead"], dtype=float), nan=0.0)
    if dead.size and dead.max() >= DEAD_ALARM:
        worst = int(dead.argmax())
        return (f"dead ReLUs: {dead[worst]:.0%} of the units of layer {worst + 1} output 0 for "
                f"every input (gradient ratio {ratio:.2g}): no gradient passes them; wider "
                f"layers or leaky ReLU keep more units alive")
    return f"healthy: layer 1 / last layer gradient ratio {ratio:.2g}"


def plot_norms(ax, stats: dict, title="gradient and activation scale per layer"):
    """Per-layer ‖∂L/∂W‖, ‖∂L/∂x‖ and activation std on a log axis."""
    layers = np.arange(1, len(stats["weight_grad_norm"]) + 1)
    floor = 1e-30  # zero gradients (zero init) cannot be drawn on a log axis
    ax.semilogy(layers, np.maximum(stats["weight_grad_norm"], floor), "o-",
                label=r"$\|\partial L/\partial W_l\|$")
    ax.semilogy(layers, np.maximum(stats["input_grad_norm"], floor), "s--",
                label=r"$\|\partial L/\partial x_l\|$")
    ax.semilogy(layers, np.maximum(stats["activation_std"], floor), "^:",
                label="std of activations")
    ax.set_xlabel("layer")
    ax.set_ylabel("magnitude (log scale)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    return ax


def plot_distributions(ax, values, title, bins=40, max_layers=6):
    """Overlaid histograms of a list of per-layer arrays (a few layers, first to last)."""
    depth = len(values)
    chosen = np.unique(np.linspace(0, depth - 1, min(depth, max_layers)).round().astype(int))
    finite = np.concatenate([np.ravel(values[i])[np.isfinite(np.ravel(values[i]))] for i in chosen])
    low, high = (finite.min(), finite.max()) if finite.size else (-1, 1)
    if high <= low:
        low, high = low - 1, high + 1
    colors = ["#440154", "#3b528b", "#21918c", "#5ec962", "#b5de2b", "#fde725"]
    for k, i in enumerate(chosen):
        data = np.ravel(values[i])
        if not np.isfinite(data).any():
            continue
        ax.hist(data[np.isfinite(data)], bins=bins, range=(low, high), histtype="step", lw=1.3,
                density=True, color=colors[k % len(colors)], label=f"layer {i + 1}")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("value")
    ax.set_ylabel("density")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "all values are zero", ha="center", va="center", transform=ax.transAxes)
    return ax


def plot_dead(ax, stats: dict):
    """Bar chart of the fraction of dead units per layer."""
    layers = np.arange(1, len(stats["dead"]) + 1)
    if np.all(np.isnan(stats["dead"])):
        ax.text(0.5, 0.5, "dead units: only defined for ReLU", ha="center", va="center",
                transform=ax.transAxes, fontsize=9)
    else:
        ax.bar(layers, stats["dead"], color="0.5")
    ax.set_ylim(0, 1)
    ax.set_xlabel("layer")
    ax.set_ylabel("fraction dead")
    ax.set_title("units ≤ 0 on every input (dead ReLUs)", fontsize=10)
    return ax
