"""`dlscratch evaluate` and `dlscratch predict` on the model of a short training run."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from dlscratch.data import FASHION_MNIST_CLASSES, load_mnist, write_idx
from dlscratch.data.images import load_digit_image
from dlscratch.functions import softmax
from dlscratch.io.serialize import load

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PREDICTION = re.compile(r"^(?P<path>.+?): (?P<cls>.+?)  \(top 3: (?P<top>.+)\)$")


def parse_evaluate(stdout: str) -> tuple[float, list[float], np.ndarray]:
    """(accuracy, per-class accuracies, confusion matrix) from evaluate's output."""
    lines = stdout.splitlines()
    accuracy = float(re.fullmatch(r"accuracy: (\d\.\d{4})", lines[1]).group(1))
    start = lines.index("per-class accuracy:") + 1
    per_class = [float(line.split()[-1]) for line in lines[start:start + 10]]
    start = lines.index("confusion matrix (rows: true, columns: predicted):") + 2
    matrix = np.array([[int(v) for v in line.split()[1:]] for line in lines[start:start + 10]])
    return accuracy, per_class, matrix


def test_evaluate_matches_train_and_writes_the_confusion_png(cli, trained_run, mnist_root,
                                                              tmp_path):
    r = cli("evaluate", trained_run.out / "model.npz", "--out", tmp_path)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "mnist test set, 10000 images"
    accuracy, per_class, matrix = parse_evaluate(r.out)
    train_line = trained_run.stdout.splitlines()[-1]
    assert train_line == f"test accuracy: {accuracy:.4f}"  # the same number train printed

    _, (_, t_test) = load_mnist(data_dir=mnist_root)
    assert matrix.shape == (10, 10) and matrix.sum() == 10000
    assert np.array_equal(matrix.sum(axis=1), np.bincount(t_test, minlength=10))
    assert f"{np.trace(matrix) / 10000:.4f}" == f"{accuracy:.4f}"
    assert per_class == pytest.approx(np.diag(matrix) / matrix.sum(axis=1), abs=5e-5)
    assert lines[-2:] == [f"wrote {tmp_path / 'confusion.png'}",
                          f"wrote {tmp_path / 'misclassified.png'}"]
    assert lines[2] == f"errors: {10000 - np.trace(matrix)} (test error " \
                       f"{(10000 - np.trace(matrix)) / 100:.2f}%)"
    assert (tmp_path / "confusion.png").read_bytes()[:8] == PNG_MAGIC
    assert not (trained_run.out / "confusion.png").exists()  # --out was given


def test_evaluate_writes_beside_the_model_by_default(cli, trained_run, tmp_path):
    import shutil

    run = shutil.copytree(trained_run.out, tmp_path / "run")
    r = cli("evaluate", run / "model.npz")
    assert r.code == 0, r.err
    assert (run / "confusion.png").read_bytes()[:8] == PNG_MAGIC


def fake_dataset(root, name="mnist", n_test=30, seed=0) -> None:
    """A tiny MNIST-shaped dataset in root/name/ (labels cycle through 0..9)."""
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": (np.arange(20) % 10).astype(np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8)}
    for file, array in arrays.items():
        write_idx(root / name / f"{file}.gz", array)


def test_evaluate_with_data_dir_and_dataset_flags(cli, trained_run, tmp_path):
    fake_dataset(tmp_path / "data")
    r = cli("evaluate", trained_run.out / "model.npz", "--data-dir", tmp_path / "data",
            "--dataset", "mnist", "--out", tmp_path / "figs")
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == "mnist test set, 30 images"
    _, _, matrix = parse_evaluate(r.out)
    assert np.array_equal(matrix.sum(axis=1), [3] * 10)
    assert (tmp_path / "figs" / "confusion.png").exists()


def test_train_and_evaluate_fashion_mnist_from_a_data_dir(cli, tmp_path):
    """evaluate finds the dataset in the run's config.json and names Fashion-MNIST's classes."""
    data = tmp_path / "data"
    fake_dataset(data, "fashion-mnist")
    r = cli("train", "--dataset", "fashion-mnist", "--data-dir", data, "--iterations", "3",
            "--batch-size", "10", "--quiet", "--out", tmp_path / "run")
    assert r.code == 0, r.err
    assert r.out.splitlines()[-1].startswith("test accuracy: ")
    r = cli("evaluate", tmp_path / "run" / "model.npz", "--data-dir", data)
    assert r.code == 0, r.err
    assert r.out.startswith("fashion-mnist test set, 30 images")
    assert "  Ankle boot " in r.out and "  T-shirt/top " in r.out
    r = cli("predict", tmp_path / "run" / "model.npz", tmp_path / "run" / "curves.png")
    assert r.code == 0, r.err
    m = PREDICTION.match(r.out.strip())
    assert m and m["cls"] in FASHION_MNIST_CLASSES


# -- predict ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory) -> list:
    """MNIST test digits 0..2 scaled up to 100x100, black on white, as PNG and JPEG files."""
    import os

    if not os.environ.get("DLSCRATCH_DATA"):
        pytest.skip("needs DLSCRATCH_DATA")
    _, (x_test, t_test) = load_mnist(normalize=False, flatten=False)
    folder = tmp_path_factory.mktemp("digits")
    files = []
    for i in range(3):
        big = Image.fromarray(255 - x_test[i, 0]).resize((100, 100), Image.BILINEAR)
        for ext in ("png", "jpg"):
            path = folder / f"digit{i}_label{t_test[i]}.{ext}"
            big.save(path)
            files.append(path)
    return files


def test_predict_prints_class_and_top3(cli, trained_run, digit_files):
    model = trained_run.out / "model.npz"
    r = cli("predict", model, *digit_files)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert len(lines) == len(digit_files)
    net = load(model)
    for path, line in zip(digit_files, lines, strict=True):
        m = PREDICTION.match(line)
        assert m and m["path"] == str(path), line
        top = [part.rsplit(" ", 1) for part in m["top"].split(", ")]
        assert len(top) == 3 and top[0][0] == m["cls"]
        probs = [float(p) for _, p in top]
        assert probs == sorted(probs, reverse=True) and all(0 <= p <= 1 for p in probs)
        assert sum(probs) <= 1 + 1.5e-3  # three probabilities, rounded to 3 decimals
        x = load_digit_image(path).reshape(1, -1)
        expected = softmax(net.predict(x))[0]
        assert m["cls"] == str(int(expected.argmax()))
        assert probs[0] == pytest.approx(expected.max(), abs=5e-4)


def test_predict_png_and_jpeg_of_the_same_digit_agree(digit_files):
    png, jpg = digit_files[0], digit_files[1]
    a, b = load_digit_image(png), load_digit_image(jpg)
    assert np.abs(a - b).mean() < 0.03


def test_predict_with_a_cnn_model(cli, tmp_path, digit_files):
    from dlscratch.io.serialize import save
    from dlscratch.nets.factory import build_model

    save(build_model("simple-cnn", seed=0), tmp_path / "cnn.npz")
    r = cli("predict", tmp_path / "cnn.npz", digit_files[0], "--dataset", "fashion-mnist")
    assert r.code == 0, r.err
    m = PREDICTION.match(r.out.strip())
    assert m and m["cls"] in FASHION_MNIST_CLASSES
    assert [name for name, _ in (t.rsplit(" ", 1) for t in m["top"].split(", "))][0] == m["cls"]


def test_confusion_matrix_and_per_class_accuracy():
    from dlscratch.metrics import confusion_matrix, per_class_accuracy

    t = np.array([0, 0, 1, 1, 1, 2])
    y = np.array([0, 1, 1, 1, 0, 1])
    m = confusion_matrix(t, y, 4)
    assert m.tolist() == [[1, 1, 0, 0], [1, 2, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    acc = per_class_accuracy(m)
    assert acc[:3].tolist() == [0.5, 2 / 3, 0.0] and np.isnan(acc[3])  # no samples of class 3
    with pytest.raises(ValueError, match=r"predictions must lie in \[0, 3\), got values in"):
        confusion_matrix(t, np.array([0, 1, 1, 1, 0, 3]), 3)
    with pytest.raises(ValueError, match="labels must lie"):
        confusion_matrix(np.array([-1, 0]), np.array([0, 0]), 3)
    with pytest.raises(ValueError, match="differ in shape"):
        confusion_matrix(t, y[:3], 3)
