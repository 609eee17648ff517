"""Data augmentation: shapes, determinism, identity, and that shifts/rotations move the image."""

import numpy as np
import pytest

from dlscratch.data.augment import affine_warp, augment_batch, elastic_displacement, warp


def blobs(n=8, seed=0):
    """Smooth random blobs away from the border, (n, 1, 28, 28) float32."""
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(28), np.arange(28), indexing="ij")
    cy, cx = rng.uniform(10, 18, (2, n, 1, 1))
    img = np.exp(-((i - cy) ** 2 + (j - cx) ** 2) / 8.0)
    return img[:, None].astype(np.float32)


def centre_of_mass(x):
    i, j = np.meshgrid(np.arange(x.shape[-2]), np.arange(x.shape[-1]), indexing="ij")
    mass = x.sum(axis=(-2, -1))
    return (x * i).sum(axis=(-2, -1)) / mass, (x * j).sum(axis=(-2, -1)) / mass


def test_shape_and_dtype_preserved():
    x = blobs()
    y = augment_batch(x, np.random.default_rng(0))
    assert y.shape == x.shape and y.dtype == np.float32
    assert not np.shares_memory(x, y)
    x64 = np.random.default_rng(1).random((3, 2, 10, 12))
    assert augment_batch(x64, np.random.default_rng(0)).shape == (3, 2, 10, 12)


def test_deterministic_for_a_seed():
    x = blobs()
    a = augment_batch(x, np.random.default_rng(5))
    b = augment_batch(x, np.random.default_rng(5))
    c = augment_batch(x, np.random.default_rng(6))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_zero_shift_and_rotation_is_identity():
    x = np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32)
    assert np.array_equal(augment_batch(x, np.random.default_rng(0), 0, 0), x)
    assert np.array_equal(affine_warp(x, np.zeros(4), np.zeros((4, 2))), x)


def test_integer_shift_moves_pixels_exactly():
    x = np.random.default_rng(0).random((1, 1, 28, 28)).astype(np.float32)
    y = affine_warp(x, [0.0], [[2, -3]])  # 2 down, 3 left
    assert np.array_equal(y[0, 0, 2:, :-3], x[0, 0, :-2, 3:])
    assert np.all(y[0, 0, :2] == 0) and np.all(y[0, 0, :, -3:] == 0)


@pytest.mark.parametrize("dy, dx", [(1, 0), (0, 1), (-1, 0), (0, -1), (0.5, -0.5)])
def test_shift_moves_centre_of_mass(dy, dx):
    x = blobs()
    y = affine_warp(x, np.zeros(len(x)), np.tile([dy, dx], (len(x), 1)))
    (y0, x0), (y1, x1) = centre_of_mass(x), centre_of_mass(y)
    np.testing.assert_allclose(y1 - y0, dy, atol=0.02)
    np.testing.assert_allclose(x1 - x0, dx, atol=0.02)


def test_rotation_about_the_centre():
    x = np.zeros((1, 1, 29, 29), dtype=np.float32)
    x[0, 0, 14, 24] = 1.0  # right of the centre (14, 14)
    y = affine_warp(x, [90.0], [[0, 0]])  # counter-clockwise: now above the centre
    assert y[0, 0, 4, 14] == pytest.approx(1.0)
    # A small rotation keeps the mass (the blob stays inside) and its centre near the middle.
    b = blobs(1)
    r = affine_warp(b, [10.0], [[0, 0]])
    assert r.sum() == pytest.approx(b.sum(), rel=1e-3)


def test_scale_zooms_about_the_centre():
    x = np.zeros((2, 1, 28, 28), dtype=np.float32)
    x[:, 0, 10:18, 13:15] = 1.0  # an 8 x 2 bar around the centre (13.5, 13.5)
    y = affine_warp(x, [0.0, 0.0], np.zeros((2, 2)), scales=[1.5, 1.0])
    assert y[0].sum() == pytest.approx(1.5 ** 2 * x[0].sum(), rel=1e-6)  # area x scale^2
    rows = np.nonzero(y[0, 0].sum(axis=1))[0]
    assert (rows.min(), rows.max()) == (7, 20)  # 13.5 -/+ 1.5 * 4.5, cut to whole pixels
    assert np.array_equal(y[1], x[1])  # scale 1: untouched
    np.testing.assert_allclose(centre_of_mass(y[:1]), centre_of_mass(x[:1]), atol=1e-6)


def test_scale_must_be_positive():
    with pytest.raises(ValueError, match="scales must be > 0"):
        affine_warp(np.zeros((1, 1, 4, 4)), [0.0], [[0, 0]], scales=[0.0])


def test_random_scales_within_bounds_and_old_stream_kept():
    x = blobs(64)
    y = augment_batch(x, np.random.default_rng(0), max_shift=0, max_angle=0, max_scale=0.1)
    ratio = y.sum(axis=(1, 2, 3)) / x.sum(axis=(1, 2, 3))  # ~ scale^2 (up to resampling)
    assert ratio.min() >= 0.9 ** 2 - 0.02 and ratio.max() <= 1.1 ** 2 + 0.02
    assert ratio.max() - ratio.min() > 0.2  # they do vary
    # Without max_scale no scales are drawn: the same images as before the option existed.
    rng = np.random.default_rng(1)
    angles, shifts = rng.uniform(-10, 10, size=64), rng.uniform(-2, 2, size=(64, 2))
    np.testing.assert_array_equal(augment_batch(x, np.random.default_rng(1)),
                                  affine_warp(x, angles, shifts))


def test_random_shifts_within_bounds():
    x = blobs(64)
    y = augment_batch(x, np.random.default_rng(0), max_shift=2, max_angle=0)
    (y0, x0), (y1, x1) = centre_of_mass(x), centre_of_mass(y)
    assert np.abs(y1 - y0).max() <= 2.02 and np.abs(x1 - x0).max() <= 2.02
    assert np.abs(y1 - y0).max() > 0.5  # they do move


def test_usable_by_trainer():
    from dlscratch.nets import SimpleConvNet
    from dlscratch.train.trainer import Trainer

    rng = np.random.default_rng(0)
    x, t = blobs(20), rng.integers(0, 10, 20)
    net = SimpleConvNet(conv_param={"filter_num": 4}, hidden_size=8, seed=0)
    history = Trainer(net, x, t, epochs=1, mini_batch_size=10, augment=augment_batch).train()
    assert len(history["loss"]) == 2 and np.all(np.isfinite(history["loss"]))


# -- elastic distortions (Simard et al. 2003) ------------------------------------------------


def test_elastic_shape_dtype_range_and_determinism():
    x = blobs(16)
    a = augment_batch(x, np.random.default_rng(3), elastic_alpha=34, elastic_sigma=4)
    b = augment_batch(x, np.random.default_rng(3), elastic_alpha=34, elastic_sigma=4)
    c = augment_batch(x, np.random.default_rng(4), elastic_alpha=34, elastic_sigma=4)
    assert a.shape == x.shape and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # bilinear reads are convex combinations of pixels and the 0 outside: no new extremes
    assert a.min() >= 0 and a.max() <= x.max() + 1e-6
    assert not np.array_equal(a, augment_batch(x, np.random.default_rng(3)))  # it does distort


def test_elastic_at_zero_strength_is_identity_and_draws_nothing():
    x = blobs(8)
    assert np.array_equal(augment_batch(x, np.random.default_rng(0), 0, 0, elastic_alpha=0), x)
    # alpha 0: no noise drawn, the generator continues as without the option
    r1, r2 = np.random.default_rng(9), np.random.default_rng(9)
    augment_batch(x, r1, elastic_alpha=0, elastic_sigma=2)
    augment_batch(x, r2)
    assert r1.random() == r2.random()
    field = elastic_displacement(np.random.default_rng(0), 2, 28, 28, alpha=0, sigma=4)
    assert field.shape == (2, 2, 28, 28) and not field.any()
    np.testing.assert_array_equal(warp(x, np.zeros(8), np.zeros((8, 2)), None, field[[0] * 8]),
                                  x)


def test_a_constant_displacement_is_a_shift():
    x = np.random.default_rng(0).random((1, 1, 28, 28)).astype(np.float32)
    up = np.zeros((1, 2, 28, 28))
    up[:, 0] = 1.0  # every pixel reads the one below it: the image moves up one row
    np.testing.assert_array_equal(warp(x, [0.0], [[0, 0]], None, up),
                                  affine_warp(x, [0.0], [[-1, 0]]))


def test_elastic_fields_are_smooth_and_scale_with_alpha():
    rng = np.random.default_rng(0)
    field = elastic_displacement(rng, 200, 28, 28, alpha=34, sigma=4)
    assert field.shape == (200, 2, 28, 28)
    assert abs(field.mean()) < 0.05 * field.std()
    # neighbours move together: the correlation of horizontally adjacent displacements is high
    # (it is about 0 for the raw noise)
    left, right = field[..., :-1].ravel(), field[..., 1:].ravel()
    assert np.corrcoef(left, right)[0, 1] > 0.9
    twice = elastic_displacement(np.random.default_rng(0), 200, 28, 28, alpha=68, sigma=4)
    np.testing.assert_allclose(twice, 2 * field)
    # wider smoothing averages more noise: smaller displacements for the same alpha
    wide = elastic_displacement(np.random.default_rng(0), 200, 28, 28, alpha=34, sigma=8)
    assert wide.std() < field.std()


@pytest.mark.parametrize("alpha, sigma", [(-1, 4), (34, 0), (np.nan, 4), (34, np.inf)])
def test_elastic_bad_settings_are_refused(alpha, sigma):
    with pytest.raises(ValueError, match="alpha must be >= 0 and sigma > 0"):
        elastic_displacement(np.random.default_rng(0), 1, 28, 28, alpha, sigma)
