"""Loaders on tiny fake datasets: layouts, dtypes, caching, cross-file consistency checks."""

from __future__ import annotations

import numpy as np
import pytest

from dlscratch.data import (
    FASHION_MNIST_CLASSES,
    FILE_NAMES,
    MNIST_CLASSES,
    DataError,
    class_names,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
    write_idx,
)

TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = FILE_NAMES


@pytest.fixture
def fake_root(tmp_path, make_fake_dataset):
    make_fake_dataset(tmp_path, "mnist")
    make_fake_dataset(tmp_path, "fashion-mnist", gz=False)
    return tmp_path


def test_default_layout(fake_root, fake_arrays_and_sums):
    arrays, _ = fake_arrays_and_sums
    (x, t), (xt, tt) = load_mnist(data_dir=fake_root, download=False)
    assert x.shape == (12, 784) and xt.shape == (6, 784)
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    assert t.dtype == np.int64 and t.shape == (12,)
    np.testing.assert_allclose(x * 255, arrays[TRAIN_IMAGES].reshape(12, -1), atol=1e-4)
    np.testing.assert_array_equal(tt, arrays[TEST_LABELS])


def test_raw_uint8_unflattened_one_hot(fake_root, fake_arrays_and_sums):
    arrays, _ = fake_arrays_and_sums
    (x, t), (xt, tt) = load_fashion_mnist(
        normalize=False, flatten=False, one_hot_label=True, data_dir=fake_root, download=False
    )
    assert x.dtype == np.uint8 and x.shape == (12, 1, 28, 28) and xt.shape == (6, 1, 28, 28)
    np.testing.assert_array_equal(x[:, 0], arrays[TRAIN_IMAGES])
    assert t.dtype == np.float32 and t.shape == (12, 10) and tt.shape == (6, 10)
    np.testing.assert_array_equal(t.sum(axis=1), 1.0)
    np.testing.assert_array_equal(t.argmax(axis=1), arrays[TRAIN_LABELS])


def test_load_dataset_names(fake_root):
    (a, _), _ = load_dataset("fashion-mnist", data_dir=fake_root, download=False)
    (b, _), _ = load_dataset("Fashion_MNIST", data_dir=fake_root, download=False)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'.*mnist, fashion-mnist"):
        load_dataset("cifar10", data_dir=fake_root)


def test_results_are_fresh_and_cache_cannot_be_corrupted(fake_root):
    for kwargs in ({}, {"normalize": False}, {"one_hot_label": True}):
        (x, t), _ = load_mnist(data_dir=fake_root, download=False, **kwargs)
        x_before, t_before = x.copy(), t.copy()
        x[...] = 0
        t[...] = 0
        (x2, t2), _ = load_mnist(data_dir=fake_root, download=False, **kwargs)
        np.testing.assert_array_equal(x2, x_before)
        np.testing.assert_array_equal(t2, t_before)
        assert x2.flags.writeable and not np.shares_memory(x, x2)


def test_rewritten_file_is_reread(fake_root):
    folder = fake_root / "mnist"
    labels = np.full(12, 7, np.uint8)
    (_, t), _ = load_mnist(data_dir=fake_root, download=False)
    write_idx(folder / f"{TRAIN_LABELS}.gz", labels)
    (_, t2), _ = load_mnist(data_dir=fake_root, download=False)
    np.testing.assert_array_equal(t2, labels)


def test_count_mismatch(fake_root):
    bad = fake_root / "mnist" / f"{TEST_LABELS}.gz"
    write_idx(bad, np.zeros(5, np.uint8))
    with pytest.raises(DataError, match="count mismatch.*has 6 images but.*has 5 labels") as info:
        load_mnist(data_dir=fake_root, download=False)
    assert str(bad) in str(info.value)


def test_wrong_image_shape(fake_root):
    bad = fake_root / "mnist" / f"{TRAIN_IMAGES}.gz"
    write_idx(bad, np.zeros((12, 28, 27), np.uint8))
    with pytest.raises(DataError, match=r"shape \(N, 28, 28\), got uint8 \(12, 28, 27\)"):
        load_mnist(data_dir=fake_root, download=False)


def test_label_out_of_range(fake_root):
    bad = fake_root / "mnist" / f"{TRAIN_LABELS}.gz"
    write_idx(bad, np.full(12, 10, np.uint8))
    with pytest.raises(DataError, match="label 10 out of range 0..9"):
        load_mnist(data_dir=fake_root, download=False)


def test_corrupt_file_is_reported_by_loader(fake_root):
    bad = fake_root / "mnist" / f"{TRAIN_IMAGES}.gz"
    bad.write_bytes(bad.read_bytes()[:-10])
    with pytest.raises(DataError, match="corrupt gzip") as info:
        load_mnist(data_dir=fake_root, download=False)
    assert str(bad) in str(info.value)


def test_class_names():
    assert FASHION_MNIST_CLASSES == (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )  # fmt: skip
    assert MNIST_CLASSES == tuple("0123456789")
    assert class_names("fashion-mnist")[9] == "Ankle boot"


# -- what the real datasets hold bounds what a file in their folder may declare ---------------


def test_known_file_sizes():
    from dlscratch.data.registry import get_spec

    spec = get_spec("mnist")
    assert [spec.file_size(f) for f in FILE_NAMES] == [47_040_016, 60_008, 7_840_016, 10_008]
    assert spec.describe_file(TRAIN_IMAGES) == "MNIST's 60,000 images of 28x28"
    assert get_spec("fashion-mnist").describe_file(TEST_LABELS) == "Fashion-MNIST's 10,000 labels"
    with pytest.raises(ValueError, match="unknown file 'labels'"):
        spec.file_size("labels")


def test_a_header_declaring_more_images_than_the_dataset_is_refused_unread(fake_root):
    bad = fake_root / "mnist" / TRAIN_IMAGES  # uncompressed, preferred over the .gz
    bad.write_bytes(bytes([0, 0, 8, 3]) + np.array([60_001, 28, 28], ">u4").tobytes())
    with pytest.raises(DataError) as info:
        load_mnist(data_dir=fake_root, download=False)
    assert str(info.value) == (
        f"{bad}: IDX header declares shape (60001, 28, 28) of uint8 = 47,040,784 bytes, more "
        "than MNIST's 60,000 images of 28x28 (47,040,000 bytes); refused before reading")


def test_out_of_memory_while_converting_is_a_data_error(fake_root, monkeypatch):
    from dlscratch.data import loaders

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(loaders, "_convert", no_memory)
    with pytest.raises(DataError, match=r"^not enough memory to hold MNIST \(0 MiB of images "
                                        r"as float32\)$"):
        load_mnist(data_dir=fake_root, download=False)


def test_verify_refuses_a_file_that_inflates_past_the_real_size(tmp_path, make_fake_dataset):
    import gzip

    from dlscratch.data import verify_dataset

    folder = make_fake_dataset(tmp_path, "mnist")
    bomb = folder / f"{TRAIN_LABELS}.gz"
    bomb.write_bytes(gzip.compress(b"\x00" * (1 << 20)))
    with pytest.raises(DataError) as info:
        verify_dataset("mnist", tmp_path)
    assert str(info.value) == f"{bomb}: decompresses to more than 60,008 bytes; refused"
