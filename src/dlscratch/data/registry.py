"""The known datasets: file names, expected SHA-256 of the decompressed files, mirrors, classes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
FILE_NAMES: tuple[str, ...] = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

MNIST_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


@dataclass(frozen=True)
class DatasetSpec:
    """One IDX dataset: folder `name/` holding FILE_NAMES (each `.gz` or raw)."""

    name: str
    title: str
    classes: tuple[str, ...]
    checksums: Mapping[str, str]  # decompressed file name -> sha256 hex
    mirrors: tuple[str, ...]  # base URLs; a file is fetched from base + name + ".gz"
    image_shape: tuple[int, int] = (28, 28)
    num_train: int = 60_000
    num_test: int = 10_000

    def count(self, file: str) -> int:
        """Images (or labels) in `file`: num_train for the train-* files, num_test for t10k-*."""
        return self.num_train if file.startswith("train") else self.num_test

    def data_size(self, file: str) -> int:
        """Bytes of data (uint8, after the IDX header) in `file`, one of FILE_NAMES.

        The readers and downloads refuse anything larger (a fake, smaller copy is fine)."""
        if file not in FILE_NAMES:
            raise ValueError(f"unknown file {file!r}: expected one of {', '.join(FILE_NAMES)}")
        if "images" in file:
            return self.count(file) * self.image_shape[0] * self.image_shape[1]
        return self.count(file)

    def file_size(self, file: str) -> int:
        """Bytes of the decompressed `file`: its IDX header (16 or 8 bytes) plus its data."""
        return (16 if "images" in file else 8) + self.data_size(file)

    def describe_file(self, file: str) -> str:
        """E.g. "MNIST's 60,000 images of 28x28", for messages about a file's size."""
        what = "images of {}x{}".format(*self.image_shape) if "images" in file else "labels"
        return f"{self.title}'s {self.count(file):,} {what}"


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        title="MNIST",
        classes=MNIST_CLASSES,
        checksums=MappingProxyType(
            {
                TRAIN_IMAGES: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                TRAIN_LABELS: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                TEST_IMAGES: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                TEST_LABELS: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            }
        ),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        title="Fashion-MNIST",
        classes=FASHION_MNIST_CLASSES,
        checksums=MappingProxyType(
            {
                TRAIN_IMAGES: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                TRAIN_LABELS: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                TEST_IMAGES: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                TEST_LABELS: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            }
        ),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    ),
}
DATASET_NAMES: tuple[str, ...] = tuple(DATASETS)


def get_spec(name: str) -> DatasetSpec:
    """Look up a dataset by name ("mnist", "fashion-mnist"; "_" and case are tolerated)."""
    key = str(name).strip().lower().replace("_", "-")
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: expected one of {', '.join(DATASET_NAMES)}")
    return DATASETS[key]


def class_names(name: str) -> tuple[str, ...]:
    """Class names of a dataset, indexed by label."""
    return get_spec(name).classes
