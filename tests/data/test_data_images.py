"""Reading image files for `dlscratch predict`: 16-bit grey levels kept, huge images refused from
their header before anything is decoded, every unreadable file an ImageError naming it."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from dlscratch.data import images
from dlscratch.data.images import load_digit_image, mnist_style
from dlscratch.errors import ImageError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header for an 8-bit grey width x height image, with one row of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1))
    return PNG_MAGIC + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def grey_seven(size: int = 120) -> np.ndarray:
    """A '7' in mid-grey ink on light grey paper with a soft gradient: many grey levels."""
    img = Image.new("F", (size, size), 0.0)
    ImageDraw.Draw(img).line([(30, 30), (90, 30), (55, 100)], fill=1.0, width=9)
    ink = np.asarray(img, dtype=np.float32)
    paper = 0.8 + 0.1 * np.linspace(0, 1, size, dtype=np.float32)[None, :]
    return paper * (1 - ink) + 0.3 * ink


def save_16_bit(gray16: np.ndarray, path, **options) -> None:
    Image.fromarray(gray16.astype(np.uint16)).save(path, **options)
    with Image.open(path) as img:
        assert img.mode == "I;16"


def test_16_bit_grey_levels_are_kept(tmp_path):
    gray = grey_seven()
    save_16_bit(np.round(gray * 65535), tmp_path / "g16.png")
    out = load_digit_image(tmp_path / "g16.png")
    assert np.abs(out - mnist_style(gray)).max() < 0.01


def test_dark_16_bit_image_is_not_clipped_to_blank(tmp_path):
    """Ink 12000 on paper 1000 (of 65535), a dim light-on-dark scan: an 8-bit clip made both
    255, a blank image."""
    raw = np.where(grey_seven() < 0.5, 12000, 1000)
    save_16_bit(raw, tmp_path / "dark.png")
    out = load_digit_image(tmp_path / "dark.png")
    assert np.abs(out - mnist_style((raw / 65535).astype(np.float32))).max() < 1e-6


def test_16_bit_with_a_transparent_grey_value(tmp_path):
    raw = np.where(grey_seven() < 0.5, 10000, 0)  # dark strokes on a transparent background (0)
    save_16_bit(raw, tmp_path / "t16.png", transparency=0)
    out = load_digit_image(tmp_path / "t16.png")
    expected = mnist_style(np.where(raw > 0, 10000 / 65535, 1.0).astype(np.float32))  # on paper
    assert np.abs(out - expected).max() < 1e-6


def test_32_bit_integer_image_with_16_bit_values(tmp_path):
    gray = grey_seven()
    Image.fromarray(np.round(gray * 65535).astype(np.int32)).save(tmp_path / "i32.tif")
    with Image.open(tmp_path / "i32.tif") as img:
        assert img.mode == "I"
    assert np.abs(load_digit_image(tmp_path / "i32.tif") - mnist_style(gray)).max() < 0.01


@pytest.mark.parametrize("width, height, size", [
    (7000, 7000, "7000x7000 pixels, 49 megapixels"),  # above our limit, below Pillow's
    (13000, 13000, "169 megapixels"),  # Pillow warns (above 89 Mpx): refused from its count
    (20000, 20000, "400 megapixels"),  # Pillow refuses (above 179 Mpx): the same message
])
def test_huge_images_are_refused_from_their_header(tmp_path, width, height, size):
    path = tmp_path / "huge.png"
    path.write_bytes(png_claiming(width, height))
    with pytest.raises(ImageError) as info:
        load_digit_image(path)
    assert str(info.value) == (f"{path}: {size}, more than the 40-megapixel limit for a digit "
                               "image; refused before decoding (scale it down first)")


def test_the_pixel_limit_is_checked_before_decoding(tmp_path, monkeypatch):
    Image.new("L", (30, 30), 255).save(tmp_path / "small.png")
    monkeypatch.setattr(images, "MAX_PIXELS", 899)
    with pytest.raises(ImageError, match="small.png: 30x30 pixels, 0 megapixels, more than"):
        load_digit_image(tmp_path / "small.png")


def test_unreadable_files_are_image_errors_naming_them(tmp_path):
    text = tmp_path / "x.png"
    text.write_text("not an image")
    with pytest.raises(ImageError) as info:
        load_digit_image(text)
    assert str(info.value).startswith(f"{text}: not a readable image (UnidentifiedImageError: ")
    assert isinstance(info.value, ValueError)

    full = tmp_path / "full.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64), np.uint8)).save(full)
    cut = tmp_path / "cut.png"
    cut.write_bytes(full.read_bytes()[:2000])  # header fine, image data cut short
    with pytest.raises(ImageError) as info:
        load_digit_image(cut)
    assert str(info.value).startswith(f"{cut}: not a readable image (")

    with pytest.raises(ImageError) as info:
        load_digit_image(tmp_path / "gone.png")
    assert str(info.value) == f"image not found: {tmp_path / 'gone.png'}"
    with pytest.raises(ImageError) as info:
        load_digit_image(tmp_path)
    assert str(info.value) == f"{tmp_path}: not a regular file"


def test_out_of_memory_while_decoding(tmp_path, monkeypatch):
    Image.new("L", (30, 30), 255).save(tmp_path / "a.png")

    def no_memory(img):
        raise MemoryError

    monkeypatch.setattr(images, "_grayscale", no_memory)
    with pytest.raises(ImageError, match="a.png: not enough memory to decode this image$"):
        load_digit_image(tmp_path / "a.png")


def test_blank_image_is_an_image_error(tmp_path):
    Image.new("RGB", (50, 50), (255, 255, 255)).save(tmp_path / "blank.jpg")
    with pytest.raises(ImageError, match="blank.jpg: the image is blank \\(no digit found\\)"):
        load_digit_image(tmp_path / "blank.jpg")
