"""Which entries of an (N, C, H, W) batch share one mean and variance: batch, layer, instance
and group normalization drawn as the flat cubes of Wu & He's group-norm paper (2018).

``norm_mask`` computes the entries (an array); ``plot_norm_cube`` draws them on an Axes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NORM_KINDS", "norm_mask", "plot_norm_cube"]

#: the four kinds, as ``norm_mask`` names them
NORM_KINDS = ("batch", "layer", "instance", "group")

_SHARED, _OTHER, _EDGE = "#1f77b4", "#e6e6e6", "#4d4d4d"


def norm_mask(kind: str, n: int = 4, c: int = 6, hw: int = 5, groups: int = 2) -> np.ndarray:
    """Boolean (n, c, hw) array: the entries normalized together with example 0, channel 0.

    kind: "batch" (over N, H·W for one channel), "layer" (over C, H·W for one example),
    "instance" (over H·W for one example and channel) or "group" (over H·W and the
    first C/groups channels, for one example).
    """
    if kind not in NORM_KINDS:
        raise ValueError(f"kind must be one of {NORM_KINDS}, got {kind!r}")
    if min(n, c, hw) < 1 or groups < 1 or c % groups:
        raise ValueError(f"need n, c, hw >= 1 and groups dividing c; got n={n}, c={c}, hw={hw}, "
                         f"groups={groups}")
    mask = np.zeros((n, c, hw), dtype=bool)
    if kind == "batch":
        mask[:, 0, :] = True
    elif kind == "layer":
        mask[0, :, :] = True
    elif kind == "instance":
        mask[0, 0, :] = True
    else:
        mask[0, : c // groups, :] = True
    return mask


def plot_norm_cube(ax, mask: np.ndarray, title: str | None = None, depth=(0.6, 0.42)):
    """Draw ``mask`` (n, c, hw) as a cube in oblique projection and return ``ax``.

    Front face: example 0, channels C across, positions H·W up; the examples N run back
    (``depth`` is the screen offset of one example). Shared entries are blue; the front,
    top and right faces of the cube are drawn, as in the group-norm paper's figure.
    """
    from matplotlib.patches import Polygon

    n, c, hw = mask.shape
    dx, dy = depth

    def project(x, y, z):  # x: channel, y: position, z: example (0 in front)
        return (x + z * dx, y + z * dy)

    def cell(corners, filled):
        ax.add_patch(Polygon([project(*p) for p in corners], closed=True, linewidth=0.6,
                             facecolor=_SHARED if filled else _OTHER, edgecolor=_EDGE))

    for z in range(n - 1, -1, -1):  # top and right faces, back to front
        for x in range(c):
            cell([(x, hw, z), (x + 1, hw, z), (x + 1, hw, z + 1), (x, hw, z + 1)], mask[z, x, hw - 1])
        for y in range(hw):
            cell([(c, y, z), (c, y + 1, z), (c, y + 1, z + 1), (c, y, z + 1)], mask[z, c - 1, y])
    for x in range(c):  # front face: example 0
        for y in range(hw):
            cell([(x, y, 0), (x + 1, y, 0), (x + 1, y + 1, 0), (x, y + 1, 0)], mask[0, x, y])
    ax.annotate("", xy=(c, -0.45), xytext=(0, -0.45), arrowprops=dict(arrowstyle="->", lw=0.8))
    ax.text(c / 2, -0.6, "C (channels)", ha="center", va="top", fontsize=10)
    ax.text(-0.3, hw / 2, "H·W (positions)", ha="right", va="center", rotation=90, fontsize=10)
    ax.text(*project(c + 0.25, 0, n / 2), "N (examples)", ha="left", va="center", fontsize=10,
            rotation=np.degrees(np.arctan2(dy, dx)))
    ax.set_xlim(-1.1, c + n * dx + 1.6)
    ax.set_ylim(-1.4, hw + n * dy + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
