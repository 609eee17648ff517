"""Turn a photo or drawing of one digit into an MNIST-style 28x28 input.

MNIST digits are white on black, size-normalised to fit a 20x20 box (aspect ratio kept) and
placed in the 28x28 frame so that their centre of mass is at the centre.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def load_digit_image(path: str | Path) -> np.ndarray:
    """A PNG/JPEG file -> float32 (28, 28) in [0, 1], white digit on black, MNIST-centred.

    Dark-on-light images (the usual pen on paper) are inverted, judged by the border pixels.
    Raises ValueError naming the file if it cannot be read or is blank.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as img:
            gray = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    except FileNotFoundError:
        raise ValueError(f"image not found: {path}") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{path}: not a readable image ({exc})") from None
    return mnist_style(gray, str(path))


def mnist_style(gray: np.ndarray, name: str = "image") -> np.ndarray:
    """(H, W) grayscale in [0, 1] -> (28, 28) MNIST-style (see module docstring)."""
    from PIL import Image

    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if border.mean() > 0.5:  # dark ink on light paper: make it white on black
        gray, border = 1.0 - gray, 1.0 - border
    gray = np.clip(gray - np.median(border), 0.0, 1.0)  # background to 0
    if gray.max() < 0.05:
        raise ValueError(f"{name}: the image is blank (no digit found)")
    gray = gray / gray.max()
    ys, xs = np.nonzero(gray > 0.1)
    crop = gray[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize(size, Image.LANCZOS),
                       dtype=np.float32) / 255.0
    canvas = np.zeros((28, 28), dtype=np.float32)
    top, left = (28 - small.shape[0]) // 2, (28 - small.shape[1]) // 2
    canvas[top:top + small.shape[0], left:left + small.shape[1]] = small
    total = canvas.sum()
    cy = (canvas.sum(axis=1) @ np.arange(28)) / total
    cx = (canvas.sum(axis=0) @ np.arange(28)) / total
    shift_y, shift_x = int(round(13.5 - cy)), int(round(13.5 - cx))
    out = np.zeros_like(canvas)
    src = canvas[max(0, -shift_y):28 - max(0, shift_y), max(0, -shift_x):28 - max(0, shift_x)]
    out[max(0, shift_y):max(0, shift_y) + src.shape[0],
        max(0, shift_x):max(0, shift_x) + src.shape[1]] = src
    return np.clip(out, 0.0, 1.0)
