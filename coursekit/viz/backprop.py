"""Backpropagation step by step on the syllabus's 2-2-2 sigmoid network.

Inputs i1, i2; hidden h1, h2 (shared bias b1); outputs o1, o2 (shared bias
b2); loss E = ½ Σ (target − out)²; one gradient-descent update. Every forward
value and every gradient is one ``BackpropStep`` with the chain-rule formula
and its numbers, in the order a student computes them by hand.

Compute: ``DEFAULT_NETWORK``, ``backprop_steps``. Draw: ``plot_network``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULT_NETWORK", "BackpropStep", "backprop_steps", "plot_network"]

#: The worked example of the lectures (Mazur's network).
DEFAULT_NETWORK = {
    "i1": 0.05, "i2": 0.10,
    "w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "b1": 0.35,
    "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55, "b2": 0.60,
    "t1": 0.01, "t2": 0.99, "lr": 0.5,
}

# (weight, from-node, to-node)
EDGES = (("w1", "i1", "h1"), ("w2", "i2", "h1"), ("w3", "i1", "h2"), ("w4", "i2", "h2"),
         ("w5", "h1", "o1"), ("w6", "h2", "o1"), ("w7", "h1", "o2"), ("w8", "h2", "o2"))
NODES = {"i1": (0, 1), "i2": (0, 0), "h1": (1.6, 1), "h2": (1.6, 0), "o1": (3.2, 1), "o2": (3.2, 0)}


@dataclass(frozen=True)
class BackpropStep:
    """One line of the hand computation.

    key: what is computed ("h1", "dE/dw5", "w5_new", ...); phase: "forward",
    "backward" or "update"; formula: mathtext with symbols; numbers: the same
    with the numbers substituted; value: the result; highlight: node names and
    weight names the step involves (drawn in colour).
    """

    key: str
    phase: str
    formula: str
    numbers: str
    value: float
    highlight: tuple


def backprop_steps(network: dict | None = None) -> list:
    """All forward, backward and update steps for ``network`` (default ``DEFAULT_NETWORK``).

    Keys of ``network``: i1, i2, w1..w8, b1, b2, t1, t2, lr (missing keys take
    the defaults). Sigmoids come from ``coursekit.nn.functional``.
    """
    from coursekit.nn.functional import sigmoid

    net = dict(DEFAULT_NETWORK)
    if network:
        unknown = set(network) - set(DEFAULT_NETWORK)
        if unknown:
            raise ValueError(f"unknown network keys {sorted(unknown)}; allowed: "
                             f"{sorted(DEFAULT_NETWORK)}")
        net.update({k: float(v) for k, v in network.items()})
    s = lambda v: float(sigmoid(np.array(v)))
    steps = []
    v = {}

    def add(key, phase, formula, numbers, value, highlight):
        formula = re.sub(r"\b([whoit])(\d)\b", r"\1_\2", formula)  # w5 -> w_5 in mathtext
        v[key] = value
        steps.append(BackpropStep(key, phase, formula, numbers, float(value), tuple(highlight)))

    # forward pass
    for h, (wa, wb) in (("h1", ("w1", "w2")), ("h2", ("w3", "w4"))):
        net_value = net[wa] * net["i1"] + net[wb] * net["i2"] + net["b1"]
        add(f"net_{h}", "forward", rf"$net_{{{h}}} = {wa} \cdot i_1 + {wb} \cdot i_2 + b_1$",
            f"{net[wa]:g}·{net['i1']:g} + {net[wb]:g}·{net['i2']:g} + {net['b1']:g} = {net_value:.6f}",
            net_value, ("i1", "i2", h, wa, wb))
        add(h, "forward", rf"${h} = \sigma(net_{{{h}}}) = 1 / (1 + e^{{-net_{{{h}}}}})$",
            f"σ({net_value:.6f}) = {s(net_value):.6f}", s(net_value), (h,))
    for o, (wa, wb) in (("o1", ("w5", "w6")), ("o2", ("w7", "w8"))):
        net_value = net[wa] * v["h1"] + net[wb] * v["h2"] + net["b2"]
        add(f"net_{o}", "forward", rf"$net_{{{o}}} = {wa} \cdot h_1 + {wb} \cdot h_2 + b_2$",
            f"{net[wa]:g}·{v['h1']:.6f} + {net[wb]:g}·{v['h2']:.6f} + {net['b2']:g} = {net_value:.6f}",
            net_value, ("h1", "h2", o, wa, wb))
        add(o, "forward", rf"${o} = \sigma(net_{{{o}}})$",
            f"σ({net_value:.6f}) = {s(net_value):.6f}", s(net_value), (o,))
    e1 = 0.5 * (net["t1"] - v["o1"]) ** 2
    e2 = 0.5 * (net["t2"] - v["o2"]) ** 2
    add("E", "forward", r"$E = \frac{1}{2}(t_1 - o_1)^2 + \frac{1}{2}(t_2 - o_2)^2$",
        f"½({net['t1']:g} − {v['o1']:.6f})² + ½({net['t2']:g} − {v['o2']:.6f})² = {e1:.6f} + {e2:.6f} = {e1 + e2:.6f}",
        e1 + e2, ("o1", "o2"))

    # backward pass: output layer
    for o, t in (("o1", "t1"), ("o2", "t2")):
        delta = (v[o] - net[t]) * v[o] * (1 - v[o])
        add(f"delta_{o}", "backward",
            rf"$\delta_{{{o}}} = \frac{{\partial E}}{{\partial {o}}} \cdot \frac{{\partial {o}}}{{\partial net_{{{o}}}}} = ({o} - {t[0]}_{t[1]}) \cdot {o}(1 - {o})$",
            f"({v[o]:.6f} − {net[t]:g}) · {v[o]:.6f}·(1 − {v[o]:.6f}) = {delta:.6f}", delta, (o,))
    for w, h, o in EDGES[4:]:
        grad = v[f"delta_{o}"] * v[h]
        add(f"dE/d{w}", "backward",
            rf"$\frac{{\partial E}}{{\partial {w}}} = \delta_{{{o}}} \cdot \frac{{\partial net_{{{o}}}}}{{\partial {w}}} = \delta_{{{o}}} \cdot {h}$",
            f"{v[f'delta_{o}']:.6f} · {v[h]:.6f} = {grad:.6f}", grad, (h, o, w))
    # backward pass: hidden layer (uses the output weights before the update)
    for h, (wa, oa), (wb, ob) in (("h1", ("w5", "o1"), ("w7", "o2")),
                                  ("h2", ("w6", "o1"), ("w8", "o2"))):
        upstream = v[f"delta_{oa}"] * net[wa] + v[f"delta_{ob}"] * net[wb]
        add(f"dE/d{h}", "backward",
            rf"$\frac{{\partial E}}{{\partial {h}}} = \delta_{{{oa}}} \cdot {wa} + \delta_{{{ob}}} \cdot {wb}$",
            f"{v[f'delta_{oa}']:.6f}·{net[wa]:g} + {v[f'delta_{ob}']:.6f}·{net[wb]:g} = {upstream:.6f}",
            upstream, (h, oa, ob, wa, wb))
        delta = upstream * v[h] * (1 - v[h])
        add(f"delta_{h}", "backward",
            rf"$\delta_{{{h}}} = \frac{{\partial E}}{{\partial {h}}} \cdot {h}(1 - {h})$",
            f"{upstream:.6f} · {v[h]:.6f}·(1 − {v[h]:.6f}) = {delta:.6f}", delta, (h,))
    for w, i, h in EDGES[:4]:
        grad = v[f"delta_{h}"] * net[i]
        add(f"dE/d{w}", "backward",
            rf"$\frac{{\partial E}}{{\partial {w}}} = \delta_{{{h}}} \cdot {i}$",
            f"{v[f'delta_{h}']:.6f} · {net[i]:g} = {grad:.6f}", grad, (i, h, w))

    # gradient-descent update
    for w, a, b in EDGES[4:] + EDGES[:4]:
        new = net[w] - net["lr"] * v[f"dE/d{w}"]
        add(f"{w}_new", "update",
            rf"${w}^{{+}} = {w} - \eta \frac{{\partial E}}{{\partial {w}}}$",
            f"{net[w]:g} − {net['lr']:g}·{v[f'dE/d{w}']:.6f} = {new:.6f}", new, (a, b, w))
    return steps


def plot_network(ax, steps: list, current: int, network: dict | None = None):
    """Draw the 2-2-2 network with every value known after step ``current``.

    Nodes show forward values, edges show weights (and their gradient once
    computed); the nodes and edges of step ``current`` are drawn in red; the
    step's formula and its numbers are the title.
    """
    net = dict(DEFAULT_NETWORK)
    net.update(network or {})
    if not 0 <= current < len(steps):
        raise ValueError(f"current must be in [0, {len(steps)}), got {current}")
    known = {step.key: step.value for step in steps[: current + 1]}
    now = steps[current]
    for w, a, b in EDGES:
        (xa, ya), (xb, yb) = NODES[a], NODES[b]
        hot = w in now.highlight
        ax.plot([xa, xb], [ya, yb], color="tab:red" if hot else "0.6", lw=2.5 if hot else 1.0,
                zorder=1)
        if ya == yb:
            lx, ly = (xa + xb) / 2, ya + 0.16 if ya > 0 else ya - 0.2
        else:  # crossing edges: label near their start so the two labels stay apart
            lx, ly = xa + 0.3 * (xb - xa), ya + 0.3 * (yb - ya)
        label = f"{w}={net[w]:g}"
        if f"dE/d{w}" in known:
            label += f"\n∂E/∂{w}={known[f'dE/d{w}']:.6f}"
        if f"{w}_new" in known:
            label += f"\n→ {known[f'{w}_new']:.6f}"
        ax.text(lx, ly, label, fontsize=6.5, ha="center", va="center",
                color="tab:red" if hot else "k",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
                zorder=3)
    for name, (x, y) in NODES.items():
        hot = name in now.highlight
        ax.add_patch(_circle(x, y, hot))
        value = net[name] if name in ("i1", "i2") else known.get(name)
        text = name if value is None else f"{name}\n{value:.6f}" if name[0] != "i" else f"{name}\n{value:g}"
        ax.text(x, y, text, ha="center", va="center", fontsize=7, zorder=5)
        delta = known.get(f"delta_{name}")
        if delta is not None:
            ax.text(x, y - 0.22, f"δ={delta:.6f}", ha="center", va="top", fontsize=6.5,
                    color="tab:purple")
    for name, x, value in (("b1", 1.6, net["b1"]), ("b2", 3.2, net["b2"])):
        ax.text(x, 1.4, f"{name} = {value:g}", ha="center", fontsize=7, color="0.3")
    if "E" in known:
        ax.text(3.55, 0.5, f"E = {known['E']:.6f}\n(t1 = {net['t1']:g}, t2 = {net['t2']:g})",
                fontsize=7, ha="left", va="center")
    ax.set_xlim(-0.3, 4.5)
    ax.set_ylim(-0.45, 1.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"step {current + 1}/{len(steps)} ({now.phase}): {now.formula}\n{now.numbers}",
                 fontsize=8)
    return ax


def _circle(x, y, hot):
    from matplotlib.patches import Circle

    return Circle((x, y), 0.2, facecolor="#ffd9d9" if hot else "#e8f0fa",
                  edgecolor="tab:red" if hot else "tab:blue", lw=2 if hot else 1, zorder=4)
