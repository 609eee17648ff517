"""The book's `dataset/mnist.py`: `load_mnist`, read by dlscratch's MNIST reader.

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=True,
                                                      one_hot_label=False)

Returns what the book's does: images float32 in [0, 1] (normalize) or uint8, (N, 784)
(flatten) or (N, 1, 28, 28); labels uint8 (N,) or float64 one-hot (N, 10); training labels
start 5, 0, 4, 1, 9. The files are found as dlscratch finds them - the data folder given to
`dlscratch book --data-dir`, else $DLSCRATCH_DATA, else the user cache - and, failing those,
in the book's own `dataset/` folder (the four `.gz` files it ships) when `dlscratch book` runs
a script from the book's checkout; only then is MNIST downloaded into dlscratch's cache. No
`mnist.pkl` is written: dlscratch keeps the decoded files in memory instead, and nothing in the
book's checkout is changed.
"""

import os

import numpy as np

from dlscratch.book import SETTINGS
from dlscratch.data import loaders as _loaders
from dlscratch.data.locate import locate_dataset as _locate
from dlscratch.data.paths import dataset_status as _dataset_status
from dlscratch.data.paths import find_file as _find_file
from dlscratch.data.registry import FILE_NAMES as _FILE_NAMES
from dlscratch.data.registry import get_spec as _get_spec

url_base = "http://yann.lecun.com/exdb/mnist/"  # the book's; dlscratch uses its own mirrors
key_file = {
    "train_img": "train-images-idx3-ubyte.gz",
    "train_label": "train-labels-idx1-ubyte.gz",
    "test_img": "t10k-images-idx3-ubyte.gz",
    "test_label": "t10k-labels-idx1-ubyte.gz",
}
dataset_dir = os.path.dirname(os.path.abspath(__file__))
save_file = dataset_dir + "/mnist.pkl"  # the book's cache file; never written here
train_num = 60000
test_num = 10000
img_dim = (1, 28, 28)
img_size = 784


def _book_dataset_files():
    """The four files in the book's `dataset/` folder, if `dlscratch book` knows the checkout
    and they are all there."""
    if SETTINGS.book_root is None:
        return None
    folder = SETTINGS.book_root / "dataset"
    files = {name: _find_file(folder, name) for name in _FILE_NAMES}
    return files if all(files.values()) else None


def _files():
    """{standard file name: path}: dlscratch's data folders, the book's folder, a download."""
    data_dir = SETTINGS.data_dir
    status = _dataset_status("mnist", data_dir)
    if status.selected is not None:
        return dict(status.selected.files)
    return _book_dataset_files() or _locate("mnist", data_dir)


def init_mnist():
    """Make sure the four MNIST files are available (dlscratch downloads them if needed)."""
    return _files()


def download_mnist():
    """As init_mnist: dlscratch fetches missing files (from its mirrors, SHA-256 checked)."""
    return _files()


def _download(file_name):
    """The path of one of `key_file`'s files, fetched if missing."""
    return _files()[file_name.removesuffix(".gz")]


def _load_label(file_name):
    """Labels (N,) uint8 of one of `key_file`'s label files."""
    return _loaders.read_idx_cached(_download(file_name)).copy()


def _load_img(file_name):
    """Images (N, 784) uint8 of one of `key_file`'s image files."""
    return _loaders.read_idx_cached(_download(file_name)).reshape(-1, img_size).copy()


def _convert_numpy():
    """{'train_img', 'train_label', 'test_img', 'test_label'}: the four files as arrays."""
    return {key: (_load_img if key.endswith("img") else _load_label)(name)
            for key, name in key_file.items()}


def _change_one_hot_label(X):
    """(N,) labels -> (N, 10) float64 with a 1.0 at each label."""
    return _loaders.one_hot(X, 10).astype(np.float64)


def load_mnist(normalize=True, flatten=True, one_hot_label=False):
    """((x_train, t_train), (x_test, t_test)) as the book's load_mnist returns them."""
    spec = _get_spec("mnist")
    files = _files()
    out = []
    for split in ("train", "test"):
        pair = _loaders._load_pair(files, split, spec)
        x, t = _loaders._convert(pair, 10, normalize=normalize, flatten=flatten,
                                 one_hot_label=False)
        t = t.astype(np.uint8)
        out.append((x, _change_one_hot_label(t) if one_hot_label else t))
    return tuple(out)


if __name__ == "__main__":
    init_mnist()
