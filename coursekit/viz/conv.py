"""2-D convolution made visible: kernels, output sizes, the sliding window, receptive fields.

The convolution itself is ``coursekit.nn.functional.conv2d_forward`` (the
course's one definition, cross-correlation as in torch); this module adds the
arithmetic around it.

Compute: ``KERNEL_PRESETS``, ``parse_kernel``, ``conv_output_size``,
``output_size_formula``, ``convolve``, ``window_products``, ``receptive_field``,
``layer_stack``, ``stack_output_sizes``, ``unit_footprint``.
Draw: ``plot_image``, ``plot_grid_values``, ``plot_sliding_step``,
``plot_receptive_field``, ``plot_unit_footprint``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["KERNEL_PRESETS", "parse_kernel", "conv_output_size", "output_size_formula", "convolve",
           "window_products", "receptive_field", "layer_stack", "stack_output_sizes",
           "unit_footprint", "plot_image", "plot_grid_values", "plot_unit_footprint",
           "plot_sliding_step", "plot_receptive_field", "step_equation"]

KERNEL_PRESETS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "edges (Laplacian)": [[0, -1, 0], [-1, 4, -1], [0, -1, 0]],
    "vertical edges (Sobel x)": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "horizontal edges (Sobel y)": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "box blur": [[1 / 9] * 3] * 3,
    "Gaussian blur": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}


def parse_kernel(text: str) -> np.ndarray:
    """A kernel typed as rows separated by ``;`` or new lines, values by spaces or commas.

    ``"1 0 -1; 2 0 -2; 1 0 -1"`` -> array (3, 3). Fractions like ``1/9`` are allowed.
    """
    rows = [row for row in text.replace("\n", ";").split(";") if row.strip()]
    if not rows:
        raise ValueError("kernel text is empty; type rows like '1 0 -1; 2 0 -2; 1 0 -1'")
    values = []
    for row in rows:
        entries = row.replace(",", " ").split()
        parsed = []
        for entry in entries:
            try:
                if "/" in entry:
                    numerator, denominator = entry.split("/")
                    parsed.append(float(numerator) / float(denominator))
                else:
                    parsed.append(float(entry))
            except (ValueError, ZeroDivisionError):
                raise ValueError(f"kernel entry {entry!r} is not a number") from None
        values.append(parsed)
    widths = {len(row) for row in values}
    if len(widths) != 1:
        raise ValueError("every kernel row needs the same number of values, got row lengths "
                         f"{[len(r) for r in values]}")
    return np.array(values, dtype=float)


def conv_output_size(n: int, kernel_size: int, *, padding: int = 0, stride: int = 1,
                     dilation: int = 1) -> int:
    """⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1 (torch's formula; d = 1 gives ⌊(n + 2p − k)/s⌋ + 1).

    ``coursekit.nn.functional.conv_output_size`` (the one definition; keyword-only
    after ``n, kernel_size``), plus a message when the kernel does not fit.
    """
    from coursekit.nn.functional.conv import conv_output_size as nn_conv_output_size

    size = nn_conv_output_size(n, kernel_size, stride=stride, padding=padding, dilation=dilation)
    if size < 1:
        raise ValueError(
            f"the kernel (size {kernel_size}, dilation {dilation}) does not fit in an input of size {n} "
            f"with padding {padding}; increase padding or use a smaller kernel")
    return int(size)


def output_size_formula(n: int, kernel_size: int, padding: int = 0, stride: int = 1,
                        dilation: int = 1) -> str:
    """The output-size formula with the current numbers filled in (plain text)."""
    out = conv_output_size(n, kernel_size, padding=padding, stride=stride, dilation=dilation)
    if dilation == 1:
        return f"⌊(n + 2p − k) / s⌋ + 1 = ⌊({n} + 2·{padding} − {kernel_size}) / {stride}⌋ + 1 = {out}"
    k_eff = dilation * (kernel_size - 1) + 1
    return (f"⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1 = ⌊({n} + 2·{padding} − "
            f"{dilation}·{kernel_size - 1} − 1)"
            f" / {stride}⌋ + 1 = {out}   (effective kernel {k_eff})")


def convolve(image, kernel, stride: int = 1, padding: int = 0, dilation: int = 1,
             bias: float = 0.0):
    """One grey image (H, W) convolved with one kernel (k, k) -> (H_out, W_out).

    Uses ``coursekit.nn.functional.conv2d_forward`` with NCHW shapes (1, 1, H, W).
    """
    from coursekit.nn import functional as F

    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    if image.ndim != 2:
        raise ValueError(f"image must be a grey image (H, W), got shape {image.shape}")
    if kernel.ndim != 2:
        raise ValueError(f"kernel must be 2-D (kH, kW), got shape {kernel.shape}")
    out, _ = F.conv2d_forward(image[None, None], kernel[None, None], np.array([bias]),
                              stride=stride, padding=padding, dilation=dilation)
    return out[0, 0]


def window_products(image, kernel, out_row: int, out_col: int, stride: int = 1, padding: int = 0,
                    dilation: int = 1) -> dict:
    """What output pixel (out_row, out_col) sums: the window under the kernel and the products.

    Returns a dict with ``rows``, ``cols`` (k, k) coordinates of the window in
    the *padded* input, ``values`` (k, k) input values there, ``products``
    (k, k) = values × kernel, and ``total`` = products.sum().
    """
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    padded = np.pad(image, padding)
    kh, kw = kernel.shape
    rows = out_row * stride + dilation * np.arange(kh)
    cols = out_col * stride + dilation * np.arange(kw)
    if rows[-1] >= padded.shape[0] or cols[-1] >= padded.shape[1] or out_row < 0 or out_col < 0:
        raise ValueError(f"output position ({out_row}, {out_col}) is outside the output")
    values = padded[np.ix_(rows, cols)]
    products = values * kernel
    grid_rows, grid_cols = np.meshgrid(rows, cols, indexing="ij")
    return {"rows": grid_rows, "cols": grid_cols, "values": values, "products": products,
            "total": float(products.sum())}


def receptive_field(layers) -> list:
    """Receptive field of each layer in a stack of convolutions / poolings.

    layers: sequence of ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)``.
    Returns a list of dicts (one per layer) with ``size`` (the receptive field
    in input pixels) and ``jump`` (input pixels between neighbouring outputs):
        size_l = size_{l−1} + d_l (k_l − 1) · jump_{l−1},  jump_l = jump_{l−1} · s_l.
    Two stacked 3×3 stride-1 layers see 5×5; three see 7×7.
    """
    size, jump, out = 1, 1, []
    for index, layer in enumerate(layers):
        if len(layer) not in (2, 3):
            raise ValueError(f"layers[{index}] must be (kernel_size, stride[, dilation]), got {layer!r}")
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) == 3 else 1
        if k < 1 or s < 1 or d < 1:
            raise ValueError(f"layers[{index}] needs kernel_size, stride, dilation >= 1, got {layer!r}")
        size = size + d * (k - 1) * jump
        jump = jump * s
        out.append({"size": int(size), "jump": int(jump)})
    return out


# ----------------------------------------------------------------- drawing
def plot_image(ax, image, title=None, cmap="gray", symmetric=False):
    """Show a 2-D array; ``symmetric`` centres the colour scale on 0 (for signed outputs such as
    edge responses) and clips it at the 99th percentile of |value| so thin edges stay visible;
    otherwise the scale runs from the 1st to the 99th percentile, so that a few overshooting
    pixels (a sharpen kernel's halo) do not wash the picture out to grey."""
    image = np.asarray(image)
    if symmetric:
        bound = max(float(np.percentile(np.abs(image), 99)), 1e-12)
        ax.imshow(image, cmap="RdBu_r", vmin=-bound, vmax=bound, interpolation="nearest")
    else:
        low, high = (float(v) for v in np.percentile(image, [1, 99]))
        if high <= low:
            low, high = float(image.min()), float(image.max()) + 1e-12
        ax.imshow(image, cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_grid_values(ax, values, title=None, cmap="Blues", fmt="{:.2g}", highlight=None, vmin=None,
                     vmax=None, fontsize=7):
    """A small matrix with each value written in its cell; ``highlight`` = boolean mask to outline."""
    values = np.asarray(values, dtype=float)
    ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    for (r, c), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=fontsize)
    if highlight is not None:
        for r, c in zip(*np.nonzero(highlight)):
            ax.add_patch(_rectangle(c - 0.5, r - 0.5, 1, 1, "tab:red"))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def _rectangle(x, y, w, h, color, lw=2.0):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, fill=False, edgecolor=color, lw=lw)


def plot_sliding_step(ax_input, ax_output, image, kernel, out_row, out_col, stride=1, padding=0,
                      dilation=1):
    """Input (padded, window outlined, values shown) and the output filled up to (out_row, out_col).

    Returns ``(ax_input, ax_output)``; ``step_equation`` gives the sum as text."""
    image = np.asarray(image, dtype=float)
    step = window_products(image, kernel, out_row, out_col, stride, padding, dilation)
    padded = np.pad(image, padding)
    mask = np.zeros(padded.shape, dtype=bool)
    mask[step["rows"], step["cols"]] = True
    plot_grid_values(ax_input, padded, title="input (padding in grey)" if padding else "input",
                     cmap="Greys", highlight=mask, fmt="{:.0f}", vmin=padded.min() - 1,
                     vmax=padded.max() * 2 + 1)
    if padding:
        ax_input.add_patch(_rectangle(padding - 0.5, padding - 0.5, image.shape[1], image.shape[0],
                                      "0.4", 1.0))
    output = convolve(image, kernel, stride, padding, dilation)
    shown = np.full(output.shape, np.nan)
    flat_index = out_row * output.shape[1] + out_col
    shown.ravel()[: flat_index + 1] = output.ravel()[: flat_index + 1]
    current = np.zeros(output.shape, dtype=bool)
    current[out_row, out_col] = True
    plot_grid_values(ax_output, shown, title="output", cmap="Oranges", highlight=current,
                     fmt="{:.0f}", vmin=np.nanmin(output) - 1, vmax=np.nanmax(output) * 2 + 1)
    return ax_input, ax_output


def step_equation(image, kernel, out_row: int, out_col: int, stride: int = 1, padding: int = 0,
                  dilation: int = 1) -> str:
    """The sum behind output pixel (out_row, out_col) as text: ``"out[0, 1] = 1·0 + ... = 4"``."""
    step = window_products(image, kernel, out_row, out_col, stride, padding, dilation)
    terms = " + ".join(f"{v:g}·{k:g}" for v, k in zip(step["values"].ravel(), np.asarray(kernel).ravel()))
    return f"out[{out_row}, {out_col}] = {terms} = {step['total']:g}"


def plot_receptive_field(ax, layers, input_size: int | None = None):
    """Nested squares: the input pixels one output unit of each layer sees."""
    fields = receptive_field(layers)
    largest = fields[-1]["size"]
    input_size = input_size or largest + 2 + 4  # room for the legend below the squares
    ax.set_xlim(-0.5, input_size - 0.5)
    ax.set_ylim(input_size - 0.5, -0.5)
    for i in range(input_size + 1):
        ax.axhline(i - 0.5, color="0.85", lw=0.5)
        ax.axvline(i - 0.5, color="0.85", lw=0.5)
    centre = (input_size - 1) / 2
    colors = ["tab:red", "tab:orange", "tab:green", "tab:blue", "tab:purple", "tab:brown"]
    for index, field in reversed(list(enumerate(fields))):
        size = field["size"]
        corner = centre - size / 2
        from matplotlib.patches import Rectangle

        ax.add_patch(Rectangle((corner, corner), size, size, facecolor=colors[index % len(colors)],
                               alpha=0.25, edgecolor=colors[index % len(colors)], lw=2,
                               label=f"layer {index + 1}: {size}×{size}"))
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"receptive field after {len(layers)} layer(s): {largest}×{largest}", fontsize=9)
    ax.set_xlabel("input (one square = one pixel)", fontsize=9)
    ax.legend(fontsize=9, loc="lower left", framealpha=0.8)
    return ax


# ------------------------------------------------- which input pixels feed one unit
POOLING_CHOICES = ("none", "after every layer", "after every 2nd layer")
PADDING_CHOICES = ("same", "valid")


def layer_stack(n_layers: int, kernel_size: int = 3, stride: int = 1, dilation: int = 1,
                pooling: str = "none", padding: str = "same") -> list:
    """A stack of ``n_layers`` equal convolutions, optionally with 2×2 max pooling (stride 2).

    Returns a list of dicts ``{"kind": "conv" | "pool", "kernel_size", "stride", "dilation",
    "padding"}`` in forward order. "same" padding is ``dilation (k − 1) // 2`` (the size is
    kept at stride 1 for odd k); "valid" is 0.
    """
    for name, value, low in (("n_layers", n_layers, 1), ("kernel_size", kernel_size, 1),
                             ("stride", stride, 1), ("dilation", dilation, 1)):
        if isinstance(value, bool) or int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if pooling not in POOLING_CHOICES:
        raise ValueError(f"pooling must be one of {POOLING_CHOICES}, got {pooling!r}")
    if padding not in PADDING_CHOICES:
        raise ValueError(f"padding must be one of {PADDING_CHOICES}, got {padding!r}")
    pad = dilation * (kernel_size - 1) // 2 if padding == "same" else 0
    layers = []
    for index in range(n_layers):
        layers.append({"kind": "conv", "kernel_size": int(kernel_size), "stride": int(stride),
                       "dilation": int(dilation), "padding": int(pad)})
        if pooling == "after every layer" or (pooling == "after every 2nd layer" and index % 2 == 1):
            layers.append({"kind": "pool", "kernel_size": 2, "stride": 2, "dilation": 1,
                           "padding": 0})
    return layers


def stack_output_sizes(layers, input_size: int) -> list:
    """Map size after each layer of ``layers`` (from :func:`layer_stack`) on an input of
    ``input_size`` pixels per side; raises ValueError when a layer gets an empty map."""
    from coursekit.nn.functional.conv import conv_output_size as nn_conv_output_size

    sizes, n = [], int(input_size)
    for index, layer in enumerate(layers):
        n = nn_conv_output_size(n, layer["kernel_size"], stride=layer["stride"],
                                padding=layer["padding"], dilation=layer["dilation"])
        if n < 1:
            raise ValueError(f"layer {index + 1} ({layer['kind']} "
                             f"{layer['kernel_size']}×{layer['kernel_size']}) "
                             f"leaves no output on a {input_size}×{input_size} input; use fewer layers, "
                             f"'same' padding or a larger input")
        sizes.append(int(n))
    return sizes


def _paths_1d(layers, sizes, input_size, unit):
    """Number of paths from each input position to output position ``unit`` of the last layer."""
    counts = np.zeros(sizes[-1])
    counts[unit] = 1.0
    lengths = [int(input_size)] + list(sizes[:-1])
    for layer, n_in in zip(reversed(layers), reversed(lengths)):
        below = np.zeros(n_in)
        outputs = np.arange(counts.size)
        for u in range(layer["kernel_size"]):
            source = outputs * layer["stride"] - layer["padding"] + u * layer["dilation"]
            inside = (source >= 0) & (source < n_in)
            np.add.at(below, source[inside], counts[inside])
        counts = below
    return counts


def unit_footprint(layers, input_size: int, unit) -> dict:
    """The input pixels that feed unit ``(row, col)`` of the last layer's map.

    Returns a dict with ``counts`` (input_size, input_size): the number of paths from each
    input pixel to the unit (0 = not connected; with all weights 1 this is the unit's
    gradient with respect to the input), ``rows`` and ``cols`` (first, last) input index
    that feeds it (clipped to the image), ``n_pixels`` (pixels with a path), ``size`` (the
    receptive field of :func:`receptive_field`, which counts padding too), ``jump`` and
    ``output_sizes`` (map size after each layer).
    """
    sizes = stack_output_sizes(layers, input_size)
    row, col = (int(v) for v in unit)
    if not (0 <= row < sizes[-1] and 0 <= col < sizes[-1]):
        raise ValueError(f"unit must lie in the last map of {sizes[-1]}×{sizes[-1]}, got {unit!r}")
    along_rows = _paths_1d(layers, sizes, input_size, row)
    along_cols = _paths_1d(layers, sizes, input_size, col)
    counts = np.outer(along_rows, along_cols)
    field = receptive_field([(layer["kernel_size"], layer["stride"], layer["dilation"]) for layer in layers])[-1]
    hit_rows, hit_cols = np.flatnonzero(along_rows), np.flatnonzero(along_cols)
    return {"counts": counts, "rows": (int(hit_rows[0]), int(hit_rows[-1])),
            "cols": (int(hit_cols[0]), int(hit_cols[-1])),
            "n_pixels": int(np.count_nonzero(counts)), "size": field["size"], "jump": field["jump"],
            "output_sizes": sizes}


def plot_unit_footprint(ax, footprint, title=None):
    """The input grid with the number of paths to the chosen unit (darker = more paths) and
    the box spanned by the pixels that feed it."""
    counts = footprint["counts"]
    shown = np.where(counts > 0, counts, np.nan)
    ax.imshow(shown, cmap="viridis", interpolation="nearest",
              extent=(-0.5, counts.shape[1] - 0.5, counts.shape[0] - 0.5, -0.5))
    ax.set_facecolor("0.93")
    (r0, r1), (c0, c1) = footprint["rows"], footprint["cols"]
    ax.add_patch(_rectangle(c0 - 0.5, r0 - 0.5, c1 - c0 + 1, r1 - r0 + 1, "tab:red", 1.5))
    ax.set_xlim(-0.5, counts.shape[1] - 0.5)
    ax.set_ylim(counts.shape[0] - 0.5, -0.5)
    ax.set_xlabel("input column (pixels)")
    ax.set_ylabel("input row (pixels)")
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
