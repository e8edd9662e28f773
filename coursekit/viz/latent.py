"""Latent spaces of decoders (VAE, GAN): traversal grids and interpolation.

A *decoder* here is any callable mapping codes (n, latent_dim) to images,
a ``torch.nn.Module`` or a NumPy function; its output may be (n, H, W),
(n, 1, H, W) or (n, H*W) together with ``image_shape=(H, W)``.

Compute: ``decode_images``, ``traversal_grid``, ``interpolate_codes``,
``tile_images``. Draw: ``plot_image_grid``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["decode_images", "traversal_grid", "interpolate_codes", "tile_images", "plot_image_grid"]


def decode_images(decoder, codes, image_shape=None) -> np.ndarray:
    """Run ``decoder`` on ``codes`` (n, d) and return images as float array (n, H, W)."""
    codes = np.asarray(codes, dtype=np.float32)
    if codes.ndim != 2:
        raise ValueError(f"codes must have shape (n, latent_dim), got {codes.shape}")
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency, but a NumPy decoder needs none
        torch = None
    if torch is not None and isinstance(decoder, torch.nn.Module):
        was_training = decoder.training
        decoder.eval()
        with torch.no_grad():
            out = decoder(torch.from_numpy(codes)).detach().cpu().numpy()
        decoder.train(was_training)
    else:
        out = decoder(codes)
        if torch is not None and isinstance(out, torch.Tensor):
            out = out.detach().cpu().numpy()
    out = np.asarray(out, dtype=float)
    n = len(codes)
    if image_shape is not None:
        out = out.reshape(n, *image_shape)
    elif out.ndim == 4 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim != 3 or out.shape[0] != n:
        raise ValueError(
            f"decoder output must give one grey image per code, (n, H, W); got shape {out.shape}. "
            "Pass image_shape=(H, W) for flat outputs.")
    return out


def interpolate_codes(start, end, n_steps: int = 8, method: str = "linear") -> np.ndarray:
    """Codes on the way from ``start`` to ``end`` (both (d,)), shape (n_steps, d).

    method "linear": straight line. "slerp": along the great circle, which keeps
    the norm typical of a Gaussian prior (a straight line between two samples
    passes through codes of unusually small norm).
    """
    start = np.asarray(start, dtype=float)
    end = np.asarray(end, dtype=float)
    if start.shape != end.shape or start.ndim != 1:
        raise ValueError(f"start and end must be 1-D codes of the same shape, got {start.shape} and {end.shape}")
    if n_steps < 2:
        raise ValueError(f"n_steps must be >= 2, got {n_steps}")
    t = np.linspace(0.0, 1.0, n_steps)[:, None]
    if method == "linear":
        return (1 - t) * start + t * end
    if method == "slerp":
        cos = np.dot(start, end) / (np.linalg.norm(start) * np.linalg.norm(end) + 1e-12)
        omega = np.arccos(np.clip(cos, -1.0, 1.0))
        if omega < 1e-6:
            return (1 - t) * start + t * end
        return (np.sin((1 - t) * omega) * start + np.sin(t * omega) * end) / np.sin(omega)
    raise ValueError(f"method must be 'linear' or 'slerp', got {method!r}")


def traversal_grid(decoder, base_code, dims=(0, 1), values=None, image_shape=None):
    """Decode a grid of codes that vary two latent dimensions of ``base_code``.

    Row r sets ``code[dims[0]] = values[r]``, column c sets
    ``code[dims[1]] = values[c]``; other dimensions keep ``base_code``'s values.
    Returns ``(images, codes)``: images (n_values, n_values, H, W), codes
    (n_values, n_values, d).
    """
    values = np.linspace(-2.5, 2.5, 7) if values is None else values
    base_code = np.asarray(base_code, dtype=float)
    d = base_code.shape[0]
    i, j = dims
    if not (0 <= i < d and 0 <= j < d) or i == j:
        raise ValueError(f"dims must be two different indices in [0, {d}), got {dims}")
    values = np.asarray(values, dtype=float)
    m = len(values)
    codes = np.tile(base_code, (m, m, 1))
    codes[:, :, i] = values[:, None]
    codes[:, :, j] = values[None, :]
    images = decode_images(decoder, codes.reshape(m * m, d), image_shape)
    return images.reshape(m, m, *images.shape[1:]), codes


def tile_images(images, pad: int = 1, pad_value: float = np.nan) -> np.ndarray:
    """Arrange images (rows, cols, H, W) or (n, H, W) (one row) as one 2-D mosaic, ``pad``
    pixels of ``pad_value`` between them: shape (rows (H + pad) - pad, cols (W + pad) - pad)."""
    from skimage.util import montage

    images = np.asarray(images, dtype=float)
    if images.ndim == 3:
        images = images[None]
    rows, cols, h, w = images.shape
    mosaic = montage(images.reshape(rows * cols, h, w), fill=pad_value, grid_shape=(rows, cols),
                     padding_width=pad)
    return mosaic[pad: mosaic.shape[0] - pad,
                  pad: mosaic.shape[1] - pad]  # montage pads the border too


def plot_image_grid(ax, images, values=None, dims=None, cmap="gray_r", title=None):
    """Show a (rows, cols, H, W) grid as one mosaic; label the axes with latent values."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    rows, cols, h, w = images.shape
    ax.imshow(tile_images(images), cmap=cmap, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if values is not None and dims is not None:
        ax.set_xticks(np.arange(cols) * (w + 1) + w / 2 - 0.5)
        ax.set_xticklabels([f"{v:.1f}" for v in values], fontsize=7)
        ax.set_yticks(np.arange(rows) * (h + 1) + h / 2 - 0.5)
        ax.set_yticklabels([f"{v:.1f}" for v in values], fontsize=7)
        ax.set_xlabel(f"z[{dims[1]}]")
        ax.set_ylabel(f"z[{dims[0]}]")
    if title:
        ax.set_title(title)
    return ax
