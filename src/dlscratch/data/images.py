"""Turn a photo or drawing of one digit into an MNIST-style 28x28 input.

MNIST digits are white on black, size-normalised to fit a 20x20 box (aspect ratio kept) and
placed in the 28x28 frame so that their centre of mass is at the centre - measured on the
training set, at pixel (14, 14) (mean 14.00, spread +-0.29: whole-pixel shifts), which is where
this module puts it too.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np

from dlscratch.errors import ImageError

CENTRE = 14.0  # where MNIST's centres of mass lie, in pixel indices (rows and columns 0..27)
MAX_PIXELS = 40_000_000  # a 40-megapixel photo: more than any phone takes; 160 MB as float32
_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")


def load_digit_image(source: str | Path | bytes, name: str | None = None,
                     max_pixels: int | None = None) -> np.ndarray:
    """A PNG/JPEG file, or its bytes -> float32 (28, 28) in [0, 1], white digit on black,
    MNIST-centred. The one preprocessing of `dlscratch predict` (a file) and `dlscratch serve`
    (the PNG bytes of a drawing).

    Dark-on-light images (the usual pen on paper) are inverted, judged by the border pixels;
    a transparent pixel is background paper; 16-bit greyscale keeps its grey levels. Raises
    ImageError (a ValueError) naming the file (or `name`, default "image", for bytes) if it
    cannot be read, is blank, or has more than `max_pixels` (default MAX_PIXELS) pixels -
    judged from the header, before anything is decoded.
    """
    from PIL import Image

    max_pixels = MAX_PIXELS if max_pixels is None else max_pixels
    if isinstance(source, (bytes, bytearray, memoryview)):
        path, opened = name or "image", io.BytesIO(source)
    else:
        path = opened = Path(source)
        if path.exists() and not path.is_file():  # a folder, a FIFO (open would wait)
            raise ImageError(f"{path}: not a regular file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(opened) as img:  # reads the header only
                _check_size(img.size, path, max_pixels)
                gray = _grayscale(img)
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"image not found: {path}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard (from 89 megapixels) fires inside open(), before our look at the
        # size; its message holds the pixel count
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        raise ImageError(_too_large(path, int(pixels[1]) if pixels else None, max_pixels)) \
            from None
    except MemoryError:
        raise ImageError(f"{path}: not enough memory to decode this image") from None
    except Exception as exc:  # Pillow's decoders raise many types on broken files
        why = re.sub(r" ?<_io\.BytesIO object at 0x[0-9a-f]+>", "", str(exc))  # no address
        raise ImageError(f"{path}: not a readable image ({type(exc).__name__}: {why})") from None
    return mnist_style(gray, str(path))


def _check_size(size: tuple[int, int], path, max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageError(_too_large(path, width * height, max_pixels,
                                       f"{width}x{height} pixels, "))


def _too_large(path, pixels: int | None, max_pixels: int, dims: str = "") -> str:
    size = f"{dims}{pixels / 1e6:.0f} megapixels" if pixels else "too many pixels"
    return (f"{path}: {size}, more than the {max_pixels / 1e6:.0f}-megapixel limit for a digit "
            "image; refused before decoding (scale it down first)")


def _grayscale(img) -> np.ndarray:
    """(H, W) float32 in [0, 1]: upright (EXIF orientation applied); a transparent background
    (a drawing app's PNG) becomes paper that contrasts with the strokes' colour."""
    from PIL import ImageOps

    img = ImageOps.exif_transpose(img)
    if img.mode in _SIXTEEN_BIT or img.mode == "I":
        return _deep_grayscale(img)
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        alpha = rgba.getchannel("A")
        gray = np.asarray(rgba.convert("L"), dtype=np.float32) / 255.0
        if alpha.getextrema()[0] == 255:  # opaque everywhere (a canvas painted white first)
            return gray
        return _on_paper(gray, np.asarray(alpha, dtype=np.float32) / 255.0)
    return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


def _on_paper(gray: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Strokes (`gray` where `alpha` > 0) on paper that contrasts with them."""
    if alpha.min() < 1.0:
        ink = float((gray * alpha).sum() / alpha.sum()) if alpha.sum() > 0 else 0.0
        paper = 1.0 if ink < 0.5 else 0.0  # dark strokes on white paper, light on black
        return gray * alpha + paper * (1.0 - alpha)
    return gray


def _deep_grayscale(img) -> np.ndarray:
    """16-bit (or 32-bit integer) greyscale scaled by its bit depth, so every grey level
    survives (Pillow's convert("L") would clip at 255): "I;16" by 65535; "I" by 65535 when every
    value fits 16 bits (16-bit PNGs in older Pillows), else by 2**31 - 1. A tRNS grey value
    (`transparency`) marks the transparent pixels."""
    raw = np.asarray(img)
    depth = 65535.0 if img.mode in _SIXTEEN_BIT or raw.max(initial=0) <= 65535 else 2.0**31 - 1
    gray = (np.clip(raw, 0, None) / depth).astype(np.float32)
    if "transparency" in img.info and isinstance(img.info["transparency"], int):
        return _on_paper(gray, (raw != img.info["transparency"]).astype(np.float32))
    return gray


def mnist_style(gray: np.ndarray, name: str = "image") -> np.ndarray:
    """(H, W) grayscale in [0, 1] -> (28, 28) MNIST-style (see module docstring).

    ImageError (a ValueError) naming `name` if the image is blank."""
    from PIL import Image

    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if border.mean() > 0.5:  # dark ink on light paper: make it white on black
        gray, border = 1.0 - gray, 1.0 - border
    # background to 0: its level, plus 3 sigma of its noise (a photo's grain, JPEG artefacts),
    # so that no stray speck far from the digit widens the box the digit is fitted into
    level = np.median(border)
    noise = 1.4826 * np.median(np.abs(border - level))  # robust standard deviation
    gray = np.clip(gray - level - 3.0 * noise, 0.0, 1.0)
    if gray.max() < 0.05:
        raise ImageError(f"{name}: the image is blank (no digit found)")
    gray = gray / gray.max()
    ink = gray > 0.1
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
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
    shift_y, shift_x = int(round(CENTRE - cy)), int(round(CENTRE - cx))
    # never push part of the digit out of the frame (a lopsided 7 or 9 would lose ink)
    shift_y = min(max(shift_y, -top), 28 - top - small.shape[0])
    shift_x = min(max(shift_x, -left), 28 - left - small.shape[1])
    out = np.zeros_like(canvas)
    src = canvas[max(0, -shift_y):28 - max(0, shift_y), max(0, -shift_x):28 - max(0, shift_x)]
    out[max(0, shift_y):max(0, shift_y) + src.shape[0],
        max(0, shift_x):max(0, shift_x) + src.shape[1]] = src
    return np.clip(out, 0.0, 1.0)
