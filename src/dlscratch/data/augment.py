"""Data augmentation (chapter 8): small random shifts, rotations, zooms and elastic distortions
of image batches.

    x_aug = augment_batch(x, rng)                      # (N, C, H, W) float -> same shape/dtype
    Trainer(net, ..., augment=augment_batch)           # a new random version of every batch
    augment_batch(x, rng, max_scale=0.1, elastic_alpha=34, elastic_sigma=4)   # all four

Each image gets its own shift (dy, dx) in [-max_shift, max_shift] pixels, rotation angle in
[-max_angle, max_angle] degrees about the image centre and zoom in [1 - max_scale,
1 + max_scale]. An elastic distortion (Simard, Steinkraus and Platt 2003) moves every pixel by
its own small displacement: uniform noise in [-1, 1] per pixel and axis, smoothed by a Gaussian
of width elastic_sigma pixels and scaled by elastic_alpha, so that nearby pixels move together
like a hand's wobble. The whole batch is warped at once (`warp`): every output pixel looks up
where it came from in the input and reads it by bilinear interpolation; pixels that come from
outside the image are 0 (MNIST's background).
"""

from __future__ import annotations

import functools

import numpy as np


def affine_warp(x: np.ndarray, angles_deg, shifts, scales=None) -> np.ndarray:
    """Zoom each image by scales[n] and rotate it by angles_deg[n] (counter-clockwise) about its
    centre, then shift it.

    x: (N, C, H, W); angles_deg: (N,); shifts: (N, 2) of (dy, dx) in pixels (+dy moves the
    image down, +dx to the right); scales: (N,) (> 1 enlarges; default 1). All channels of an
    image get the same transform. An angle of 0 and scale 1 with integer shifts moves pixels
    exactly (no interpolation blur).
    """
    return warp(x, angles_deg, shifts, scales)


def warp(x: np.ndarray, angles_deg, shifts, scales=None, displacement=None) -> np.ndarray:
    """`affine_warp`, then each output pixel (i, j) read from displacement[n, :, i, j] = (dy, dx)
    pixels further (an elastic distortion; None: none). One bilinear read for both, so the
    image is blurred once.

    x: (N, C, H, W); displacement: (N, 2, H, W) or None.
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"affine_warp: expected images of shape (N, C, H, W), got {x.shape}")
    N, C, H, W = x.shape
    theta = np.deg2rad(np.asarray(angles_deg, dtype=np.float64)).reshape(N, 1, 1)
    shifts = np.asarray(shifts, dtype=np.float64).reshape(N, 2)
    scales = np.ones(N) if scales is None else np.asarray(scales, dtype=np.float64).reshape(N)
    if np.any(scales <= 0):
        raise ValueError(f"affine_warp: scales must be > 0, got min {scales.min()}")
    cy, cx = (H - 1) / 2, (W - 1) / 2
    # Output pixel (i, j) relative to the centre, minus the shift, divided by the scale ...
    i, j = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    v = (i[None] - cy - shifts[:, 0, None, None]) / scales[:, None, None]
    u = (j[None] - cx - shifts[:, 1, None, None]) / scales[:, None, None]
    # ... rotated back by -theta gives the source position (rows grow downwards, hence the signs).
    cos, sin = np.cos(theta), np.sin(theta)
    src_y = cos * v + sin * u + cy
    src_x = -sin * v + cos * u + cx
    if displacement is not None:
        src_y = src_y + displacement[:, 0]
        src_x = src_x + displacement[:, 1]
    return bilinear_read(x, src_y, src_x)


def bilinear_read(x: np.ndarray, src_y: np.ndarray, src_x: np.ndarray) -> np.ndarray:
    """out[n, c, i, j] = x[n, c] read at (src_y[n, i, j], src_x[n, i, j]) from its four
    neighbours; neighbours outside the image count as 0. x: (N, C, H, W); src_*: (N, H, W)."""
    N, C, H, W = x.shape
    y0, x0 = np.floor(src_y).astype(np.int64), np.floor(src_x).astype(np.int64)
    fy, fx = src_y - y0, src_x - x0
    n = np.arange(N)[:, None, None]
    out = np.zeros((N, C, H, W), dtype=np.float64)
    for dy, dx, weight in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx),
                           (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        yy, xx = y0 + dy, x0 + dx
        inside = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
        pixels = x[n, :, np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)]  # (N, H, W, C)
        out += np.moveaxis(pixels * (weight * inside)[..., None], -1, 1)
    return out.astype(x.dtype, copy=False)


def elastic_displacement(rng: np.random.Generator, n: int, height: int, width: int,
                         alpha: float, sigma: float) -> np.ndarray:
    """Simard et al.'s random displacement fields, (n, 2, height, width) in pixels:
    alpha * (G_sigma * U), U uniform in [-1, 1] per pixel and axis, G_sigma a normalised
    Gaussian of standard deviation sigma (pixels), applied along rows and columns (outside the
    image the noise counts as 0)."""
    if not (np.isfinite(alpha) and alpha >= 0 and np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"elastic distortion: alpha must be >= 0 and sigma > 0, got "
                         f"alpha={alpha!r}, sigma={sigma!r}")
    noise = rng.uniform(-1, 1, size=(n, 2, height, width))
    rows, cols = _gaussian_matrix(height, sigma), _gaussian_matrix(width, sigma)
    return alpha * (rows @ noise @ cols.T)  # G_rows U G_cols^T for every image and axis


def _gaussian_matrix(size: int, sigma: float) -> np.ndarray:
    """(size, size): row i holds the normalised Gaussian weights centred on i (a 1-D blur as a
    matrix product, with the kernel cut at 3 sigma)."""
    radius = int(np.ceil(3 * sigma))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    matrix = np.zeros((size, size))
    for offset, weight in zip(offsets, kernel, strict=True):
        matrix += weight * np.eye(size, k=offset)
    return matrix


def augment_batch(x: np.ndarray, rng: np.random.Generator, max_shift: float = 2,
                  max_angle: float = 10, max_scale: float = 0.0, elastic_alpha: float = 0.0,
                  elastic_sigma: float = 4.0) -> np.ndarray:
    """A randomly shifted, rotated (with max_scale > 0 zoomed by a factor in
    [1 - max_scale, 1 + max_scale], with elastic_alpha > 0 elastically distorted) copy of the
    batch: uniform draws, per image. Settings at 0 draw nothing.

    Signature fn(x_batch, rng) -> x_batch, so it can be passed as Trainer(augment=...).
    """
    N = len(x)
    angles = rng.uniform(-max_angle, max_angle, size=N)
    shifts = rng.uniform(-max_shift, max_shift, size=(N, 2))
    scales = 1 + rng.uniform(-max_scale, max_scale, size=N) if max_scale else None
    displacement = None
    if elastic_alpha:
        _, _, H, W = np.shape(x)
        displacement = elastic_displacement(rng, N, H, W, elastic_alpha, elastic_sigma)
    return warp(x, angles, shifts, scales, displacement)


def augmenter(config):
    """Trainer's augment function for a RunConfig: augment_batch with its settings
    (config.augment_settings()); None when config.augment is off."""
    if not config.augment:
        return None
    return functools.partial(augment_batch, **config.augment_settings())
