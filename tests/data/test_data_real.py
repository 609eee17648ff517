"""Loaders and verification on the real MNIST / Fashion-MNIST files under $DLSCRATCH_DATA."""

from __future__ import annotations

import numpy as np
import pytest

from dlscratch.data import (
    DATASETS,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
    parse_sha256sums,
    verify_dataset,
)

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def env_root(real_data_root, monkeypatch):
    """Load through $DLSCRATCH_DATA itself (never downloading, never writing there)."""
    monkeypatch.setenv("DLSCRATCH_DATA", str(real_data_root))
    return real_data_root


def test_mnist_default(env_root):
    (x, t), (xt, tt) = load_mnist(download=False)
    assert x.shape == (60000, 784) and xt.shape == (10000, 784)
    assert x.dtype == xt.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0 and 0.0 <= xt.min() and xt.max() <= 1.0
    assert t.shape == (60000,) and tt.shape == (10000,) and t.dtype == tt.dtype == np.int64
    assert np.bincount(t).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(tt).tolist() == MNIST_TEST_COUNTS


def test_mnist_unflattened_raw_one_hot(env_root):
    (x, t), (xt, tt) = load_mnist(normalize=False, flatten=False, one_hot_label=True)
    assert x.shape == (60000, 1, 28, 28) and xt.shape == (10000, 1, 28, 28)
    assert x.dtype == np.uint8 and x.max() == 255
    assert t.shape == (60000, 10) and tt.shape == (10000, 10) and t.dtype == np.float32
    assert t.sum(axis=0).tolist() == MNIST_TRAIN_COUNTS
    assert tt.sum(axis=0).tolist() == MNIST_TEST_COUNTS
    (xf, _), _ = load_mnist(download=False)
    assert np.array_equal(xf, x.reshape(60000, 784).astype(np.float32) / np.float32(255))


def test_fashion_mnist(env_root):
    (x, t), (xt, tt) = load_fashion_mnist(download=False)
    assert x.shape == (60000, 784) and xt.shape == (10000, 784) and x.dtype == np.float32
    assert np.bincount(t).tolist() == [6000] * 10
    assert np.bincount(tt).tolist() == [1000] * 10
    (x2, _), _ = load_dataset("fashion-mnist", flatten=False, download=False)
    assert x2.shape == (60000, 1, 28, 28)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_verify_real_files(env_root, name):
    checks = verify_dataset(name)
    assert len(checks) == 4 and all(c.ok for c in checks)
    assert all(c.path.parent == env_root / name for c in checks)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_shipped_checksums_match_shared_sums(env_root, name):
    sums_file = env_root / name / "SHA256SUMS.idx"
    if not sums_file.exists():
        pytest.skip(f"{sums_file} not present")
    assert parse_sha256sums(sums_file.read_text()) == dict(DATASETS[name].checksums)
