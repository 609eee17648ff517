"""Book-style loaders: `load_mnist()` -> (x_train, t_train), (x_test, t_test).

Images: float32 in [0, 1] if `normalize` else uint8; shape (N, 784) if `flatten`
else (N, 1, 28, 28). Labels: int64 class indices (N,), or float32 one-hot (N, 10).
Decoded files are cached in-process (read-only); every call returns fresh arrays.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from dlscratch.data.errors import DataError
from dlscratch.data.idx import MAX_IDX_BYTES, read_idx
from dlscratch.data.locate import locate_dataset
from dlscratch.data.registry import (
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    DatasetSpec,
    get_spec,
)

Split = tuple[np.ndarray, np.ndarray]


@functools.lru_cache(maxsize=16)
def _read_idx_cached(
    path: str, mtime_ns: int, size: int, max_bytes: int, limit_note: str
) -> np.ndarray:
    array = read_idx(path, max_bytes=max_bytes, limit_note=limit_note)
    array.setflags(write=False)
    return array


def read_idx_cached(
    path: str | os.PathLike, *, max_bytes: int = MAX_IDX_BYTES, limit_note: str = ""
) -> np.ndarray:
    """`read_idx` memoised on (resolved path, mtime, size); the result is read-only."""
    resolved = Path(path).resolve()
    st = resolved.stat()
    return _read_idx_cached(str(resolved), st.st_mtime_ns, st.st_size, max_bytes, limit_note)


def _read_dataset_file(path: Path, spec: DatasetSpec, file: str) -> np.ndarray:
    """One of the dataset's files, refused unread if its header declares more data than the
    real dataset's file holds (60,000 images of 28x28 for MNIST's training images)."""
    note = spec.describe_file(file)
    return read_idx_cached(path, max_bytes=spec.data_size(file), limit_note=note)


def clear_cache() -> None:
    """Forget every decoded file."""
    _read_idx_cached.cache_clear()


def _load_pair(files: Mapping[str, Path], split: str, spec: DatasetSpec) -> Split:
    """Read and cross-check one split ("train" or "test"): images (N, H, W) uint8, labels (N,)
    uint8 < classes."""
    train = split == "train"
    image_file, label_file = (TRAIN_IMAGES, TRAIN_LABELS) if train else (TEST_IMAGES, TEST_LABELS)
    images_path, labels_path = files[image_file], files[label_file]
    images = _read_dataset_file(images_path, spec, image_file)
    labels = _read_dataset_file(labels_path, spec, label_file)
    if images.dtype != np.uint8 or images.shape[1:] != spec.image_shape:
        raise DataError(
            f"{images_path}: expected uint8 images of shape (N, {spec.image_shape[0]}, "
            f"{spec.image_shape[1]}), got {images.dtype} {images.shape}",
            images_path,
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(
            f"{labels_path}: expected uint8 labels of shape (N,), got {labels.dtype} "
            f"{labels.shape}",
            labels_path,
        )
    if len(images) != len(labels):
        raise DataError(
            f"image/label count mismatch: {images_path} has {len(images)} images but "
            f"{labels_path} has {len(labels)} labels",
            labels_path,
        )
    if len(labels) and labels.max() >= len(spec.classes):
        raise DataError(
            f"{labels_path}: label {int(labels.max())} out of range 0..{len(spec.classes) - 1}",
            labels_path,
        )
    return images, labels


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(N,) integer labels -> (N, num_classes) float32 with a single 1 per row."""
    out = np.zeros((len(labels), num_classes), dtype=np.float32)
    out[np.arange(len(labels)), labels] = 1.0
    return out


def _convert(
    pair: Split, num_classes: int, *, normalize: bool, flatten: bool, one_hot_label: bool
) -> Split:
    """Fresh arrays in the requested layout from cached read-only (images, labels)."""
    images, labels = pair
    if normalize:
        x = images.astype(np.float32)
        x /= 255.0
    else:
        x = images.copy()
    x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *images.shape[1:])
    t = one_hot(labels, num_classes) if one_hot_label else labels.astype(np.int64)
    return x, t


def load_dataset(
    name: str,
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    progress: bool = True,
) -> tuple[Split, Split]:
    """Load "mnist" or "fashion-mnist" as ((x_train, t_train), (x_test, t_test)).

    x: float32 in [0, 1] (normalize) or uint8; (N, 784) (flatten) or (N, 1, 28, 28).
    t: int64 (N,) or float32 one-hot (N, 10). Files are found as described in
    `dlscratch.data.paths` and downloaded (SHA-256 verified) if missing and `download`.
    """
    spec = get_spec(name)
    files = locate_dataset(
        spec.name,
        data_dir,
        download=download,
        mirrors=mirrors,
        checksums=checksums,
        progress=progress,
    )
    options = dict(normalize=normalize, flatten=flatten, one_hot_label=one_hot_label)
    train = _load_pair(files, "train", spec)
    test = _load_pair(files, "test", spec)
    try:
        return (
            _convert(train, len(spec.classes), **options),
            _convert(test, len(spec.classes), **options),
        )
    except MemoryError:
        size = (train[0].size + test[0].size) * (4 if normalize else 1) / 2**20
        raise DataError(
            f"not enough memory to hold {spec.title} ({size:,.0f} MiB of images "
            f"{'as float32' if normalize else 'as uint8'})"
        ) from None


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    progress: bool = True,
) -> tuple[Split, Split]:
    """MNIST digits: 60,000 train / 10,000 test, 28x28. Arguments as in `load_dataset`."""
    return load_dataset(
        "mnist",
        normalize,
        flatten,
        one_hot_label,
        data_dir,
        download=download,
        mirrors=mirrors,
        checksums=checksums,
        progress=progress,
    )


def load_fashion_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    progress: bool = True,
) -> tuple[Split, Split]:
    """Fashion-MNIST (see FASHION_MNIST_CLASSES): 60,000 / 10,000, 28x28. As `load_dataset`."""
    return load_dataset(
        "fashion-mnist",
        normalize,
        flatten,
        one_hot_label,
        data_dir,
        download=download,
        mirrors=mirrors,
        checksums=checksums,
        progress=progress,
    )
