"""The image preprocessing behind `dlscratch predict`: any photo or drawing of one digit becomes an
MNIST-style input - grayscale, white on black, fitted into 20x20, centre of mass at the centre."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from dlscratch.data.images import load_digit_image, mnist_style


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    rows, cols = np.arange(img.shape[0]), np.arange(img.shape[1])
    total = img.sum()
    return float(img.sum(axis=1) @ rows / total), float(img.sum(axis=0) @ cols / total)


def ink_box(img: np.ndarray, threshold: float = 0.1) -> tuple[int, int]:
    """(height, width) of the box around the pixels above threshold."""
    ys, xs = np.nonzero(img > threshold)
    return int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)


def assert_mnist_like(img: np.ndarray) -> None:
    assert img.shape == (28, 28) and img.dtype == np.float32
    assert img.min() >= 0.0 and img.max() <= 1.0 and img.max() > 0.9
    cy, cx = centre_of_mass(img)
    assert abs(cy - 13.5) <= 1.0 and abs(cx - 13.5) <= 1.0, (cy, cx)
    h, w = ink_box(img)
    assert max(h, w) <= 21 and max(h, w) >= 18, (h, w)  # fitted to 20 (+1 for resampling)
    # a black background (the digit may touch the frame: 1% of MNIST's digits reach row 27)
    assert np.median(img) == 0.0
    assert max(img[0, 0], img[0, -1], img[-1, 0], img[-1, -1]) < 0.05


def seven(size: int = 200, offset=(30, 50), scale: float = 0.4, ink=0.0, paper=1.0):
    """A '7' drawn off-centre on a size x size canvas (dark ink on light paper by default)."""
    img = Image.new("L", (size, size), int(paper * 255))
    d = ImageDraw.Draw(img)
    x0, y0, s = offset[0], offset[1], size * scale
    d.line([(x0, y0), (x0 + s, y0), (x0 + s * 0.4, y0 + s * 1.5)], fill=int(ink * 255),
           width=max(2, int(s / 8)))
    return np.asarray(img, dtype=np.float32) / 255.0


def test_off_centre_dark_on_light_digit_is_inverted_fitted_and_centred():
    gray = seven()
    assert gray[0, 0] == 1.0  # white paper
    out = mnist_style(gray)
    assert_mnist_like(out)


@pytest.mark.parametrize("offset", [(5, 5), (110, 10), (10, 60), (60, 40)])
@pytest.mark.parametrize("scale", [0.15, 0.4])
def test_position_and_size_do_not_matter(offset, scale):
    out = mnist_style(seven(offset=offset, scale=scale))
    assert_mnist_like(out)
    reference = mnist_style(seven(offset=(40, 40), scale=scale))
    assert np.abs(out - reference).mean() < 0.02  # the same digit, wherever it was drawn


def test_white_on_black_is_kept_white_on_black():
    light_on_dark = seven(ink=1.0, paper=0.0)
    out = mnist_style(light_on_dark)
    assert_mnist_like(out)
    assert np.abs(out - mnist_style(seven())).max() < 1e-6  # same as the inverted drawing


def test_grey_paper_and_noise_become_a_black_background():
    rng = np.random.default_rng(0)
    gray = np.clip(seven(ink=0.15, paper=0.8) + rng.normal(0, 0.02, (200, 200)), 0, 1)
    assert_mnist_like(mnist_style(gray.astype(np.float32)))


def test_wide_and_tall_strokes_keep_their_aspect_ratio():
    wide = np.zeros((100, 100), np.float32)
    wide[45:55, 10:90] = 1.0  # a dash, 80 x 10
    out = mnist_style(wide)
    h, w = ink_box(out)
    assert w in (20, 21) and h <= 4
    tall = wide.T.copy()
    h, w = ink_box(mnist_style(tall))
    assert h in (20, 21) and w <= 4


def test_blank_image_is_an_error():
    for value in (0.0, 1.0, 0.5):
        with pytest.raises(ValueError, match="my.png: the image is blank"):
            mnist_style(np.full((50, 50), value, np.float32), "my.png")


def test_a_scaled_up_mnist_digit_comes_back_close_to_the_original(mnist_root):
    from dlscratch.data import load_mnist

    _, (x_test, _) = load_mnist(normalize=False, flatten=False, data_dir=mnist_root)
    for i in range(10):
        original = x_test[i, 0].astype(np.float32) / 255.0
        big = Image.fromarray(255 - x_test[i, 0]).resize((100, 100), Image.BILINEAR)
        out = mnist_style(np.asarray(big, dtype=np.float32) / 255.0)
        assert_mnist_like(out)
        corr = np.corrcoef(out.ravel(), original.ravel())[0, 1]
        assert corr > 0.7, (i, corr)


def test_files_png_jpeg_rgb_palette_and_16_bit(tmp_path):
    gray = seven()
    base = Image.fromarray((gray * 255).astype(np.uint8))
    expected = mnist_style(gray)
    variants = {
        "l.png": base,
        "rgb.jpg": base.convert("RGB"),
        "palette.png": base.convert("P"),
        "la.png": base.convert("LA"),  # opaque alpha
        "i16.png": Image.fromarray((gray * 65535).astype(np.uint16)),
    }
    for name, image in variants.items():
        image.save(tmp_path / name)
        out = load_digit_image(tmp_path / name)
        assert_mnist_like(out)
        assert np.abs(out - expected).mean() < 0.02, name


@pytest.mark.parametrize("stroke", [(0, 0, 0, 255), (255, 255, 255, 255), (200, 30, 30, 255)])
def test_drawing_on_a_transparent_background(tmp_path, stroke):
    """Drawing apps save strokes on a transparent canvas; the colour under it is arbitrary."""
    image = Image.new("RGBA", (120, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(60, 15), (60, 105)], fill=stroke, width=10)
    image.save(tmp_path / "drawing.png")
    out = load_digit_image(tmp_path / "drawing.png")
    assert out.shape == (28, 28)
    h, w = ink_box(out)
    assert h in (20, 21) and w <= 5  # a vertical stroke, fitted to 20 pixels high
    assert abs(centre_of_mass(out)[1] - 13.5) <= 1


def test_exif_orientation_is_applied(tmp_path):
    """A phone photo stored sideways with an EXIF orientation tag is turned upright first."""
    img = Image.new("L", (120, 120), 255)
    ImageDraw.Draw(img).line([(15, 60), (105, 60)], fill=0, width=10)  # stored: horizontal
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    img.save(tmp_path / "photo.jpg", exif=exif)
    h, w = ink_box(load_digit_image(tmp_path / "photo.jpg"))
    assert h > w  # displayed (and classified) as a vertical stroke
