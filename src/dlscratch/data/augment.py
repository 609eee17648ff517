"""Data augmentation (chapter 8): small random shifts and rotations of image batches.

    x_aug = augment_batch(x, rng)                      # (N, C, H, W) float -> same shape/dtype
    Trainer(net, ..., augment=augment_batch)           # a new random version of every batch

Each image gets its own shift (dy, dx) in [-max_shift, max_shift] pixels and rotation angle in
[-max_angle, max_angle] degrees about the image centre. The whole batch is warped at once
(`affine_warp`): every output pixel looks up where it came from in the input and reads it by
bilinear interpolation; pixels that come from outside the image are 0 (MNIST's background).
"""

from __future__ import annotations

import numpy as np


def affine_warp(x: np.ndarray, angles_deg, shifts, scales=None) -> np.ndarray:
    """Zoom each image by scales[n] and rotate it by angles_deg[n] (counter-clockwise) about its
    centre, then shift it.

    x: (N, C, H, W); angles_deg: (N,); shifts: (N, 2) of (dy, dx) in pixels (+dy moves the
    image down, +dx to the right); scales: (N,) (> 1 enlarges; default 1). All channels of an
    image get the same transform. An angle of 0 and scale 1 with integer shifts moves pixels
    exactly (no interpolation blur).
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
    # Bilinear interpolation from the four neighbours; neighbours outside the image count as 0.
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


def augment_batch(x: np.ndarray, rng: np.random.Generator, max_shift: float = 2,
                  max_angle: float = 10, max_scale: float = 0.0) -> np.ndarray:
    """A randomly shifted, rotated (and, with max_scale > 0, zoomed by a factor in
    [1 - max_scale, 1 + max_scale]) copy of the batch: uniform draws, per image.

    Signature fn(x_batch, rng) -> x_batch, so it can be passed as Trainer(augment=...).
    """
    N = len(x)
    angles = rng.uniform(-max_angle, max_angle, size=N)
    shifts = rng.uniform(-max_shift, max_shift, size=(N, 2))
    scales = 1 + rng.uniform(-max_scale, max_scale, size=N) if max_scale else None
    return affine_warp(x, angles, shifts, scales)
