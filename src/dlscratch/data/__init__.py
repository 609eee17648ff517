"""Datasets: IDX files, MNIST / Fashion-MNIST loaders (book-style), downloads, splits.

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=True)

Files are looked for in `data_dir`, else `$DLSCRATCH_DATA`, else `~/.cache/dlscratch`
(`$XDG_CACHE_HOME/dlscratch`), one folder per dataset (`mnist/`, `fashion-mnist/`).
"""

from dlscratch.data.download import download_dataset
from dlscratch.data.errors import ChecksumError, DataError, DatasetNotFoundError, DownloadError
from dlscratch.data.idx import read_idx, write_idx
from dlscratch.data.loaders import clear_cache, load_dataset, load_fashion_mnist, load_mnist
from dlscratch.data.locate import locate_dataset
from dlscratch.data.paths import (
    ENV_VAR,
    DatasetStatus,
    DirStatus,
    cache_root,
    data_search_info,
    dataset_status,
)
from dlscratch.data.registry import (
    DATASET_NAMES,
    DATASETS,
    FASHION_MNIST_CLASSES,
    FILE_NAMES,
    MNIST_CLASSES,
    class_names,
)
from dlscratch.data.split import train_val_split
from dlscratch.data.verify import FileCheck, parse_sha256sums, sha256_decompressed, verify_dataset

__all__ = [
    "ChecksumError",
    "DATASETS",
    "DATASET_NAMES",
    "DataError",
    "DatasetNotFoundError",
    "DatasetStatus",
    "DirStatus",
    "DownloadError",
    "ENV_VAR",
    "FASHION_MNIST_CLASSES",
    "FILE_NAMES",
    "FileCheck",
    "MNIST_CLASSES",
    "cache_root",
    "class_names",
    "clear_cache",
    "data_search_info",
    "dataset_status",
    "download_dataset",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "locate_dataset",
    "parse_sha256sums",
    "read_idx",
    "sha256_decompressed",
    "train_val_split",
    "verify_dataset",
    "write_idx",
]
