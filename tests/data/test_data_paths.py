"""Where files are looked for: data_dir > $DLSCRATCH_DATA > user cache; search info; messages."""

from __future__ import annotations

import numpy as np
import pytest

from dlscratch.data import (
    FILE_NAMES,
    ChecksumError,
    DatasetNotFoundError,
    cache_root,
    data_search_info,
    load_mnist,
    locate_dataset,
    verify_dataset,
    write_idx,
)


def first_label(**kwargs) -> int:
    (_, t), _ = load_mnist(download=False, **kwargs)
    return int(t[0])


@pytest.fixture
def three_roots(tmp_path, make_fake_dataset, isolated_cache, monkeypatch):
    """Fake mnist in an explicit dir, an env dir and the cache, told apart by label 0."""
    roots = {"arg": tmp_path / "arg", "env": tmp_path / "env", "cache": isolated_cache}
    for label, root in zip((1, 2, 3), roots.values(), strict=True):
        folder = make_fake_dataset(root, "mnist")
        labels = np.arange(12) % 10
        labels[0] = label
        write_idx(folder / f"{FILE_NAMES[1]}.gz", labels.astype(np.uint8))
    monkeypatch.setenv("DLSCRATCH_DATA", str(roots["env"]))
    return roots


def test_cache_root_from_xdg(isolated_cache, monkeypatch, tmp_path):
    assert cache_root() == isolated_cache
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "dlscratch"


def test_explicit_dir_beats_env_and_cache(three_roots):
    assert first_label(data_dir=three_roots["arg"]) == 1


def test_env_beats_cache(three_roots):
    assert first_label() == 2


def test_cache_when_env_unset(three_roots, monkeypatch):
    monkeypatch.delenv("DLSCRATCH_DATA")
    assert first_label() == 3


def test_cache_when_env_dir_incomplete(three_roots):
    (three_roots["env"] / "mnist" / f"{FILE_NAMES[3]}.gz").unlink()
    assert first_label() == 3


def test_explicit_dir_does_not_fall_back(three_roots, tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(data_dir=tmp_path / "empty", download=False)
    message = str(info.value)
    assert str(tmp_path / "empty" / "mnist") in message
    assert str(three_roots["env"]) not in message


def test_uncompressed_file_preferred(tmp_path, make_fake_dataset):
    make_fake_dataset(tmp_path, "mnist", gz=True)
    make_fake_dataset(tmp_path, "mnist", gz=False)
    files = locate_dataset("mnist", tmp_path, download=False)
    assert all(path.name == name for name, path in files.items())


def test_search_info_reports_present_and_missing(three_roots):
    (three_roots["env"] / "mnist" / f"{FILE_NAMES[0]}.gz").unlink()
    info = data_search_info()
    assert set(info) == {"mnist", "fashion-mnist"}
    mnist = info["mnist"]
    assert [d.directory for d in mnist.searched] == [
        three_roots["env"] / "mnist",
        three_roots["cache"] / "mnist",
    ]
    assert [d.source for d in mnist.searched] == ["$DLSCRATCH_DATA", "user cache"]
    assert mnist.searched[0].missing == [FILE_NAMES[0]]
    assert mnist.selected is mnist.searched[1]
    assert mnist.download_dir == three_roots["cache"] / "mnist"
    text = mnist.describe()
    assert f"MISSING {FILE_NAMES[0]}" in text and "<- used" in text
    fashion = info["fashion-mnist"]
    assert fashion.selected is None and all(len(d.missing) == 4 for d in fashion.searched)
    assert data_search_info(three_roots["arg"])["mnist"].searched[0].source == "data_dir argument"
    explicit = data_search_info(three_roots["arg"])["mnist"]
    assert "[data_dir argument]" in explicit.describe()
    assert "[--data-dir]  <- used" in explicit.describe(cli=True)


def test_missing_message_without_download(three_roots, monkeypatch):
    monkeypatch.delenv("DLSCRATCH_DATA")
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(data_dir=three_roots["arg"] / "nothing", download=False)
    message = str(info.value)
    folder = three_roots["arg"] / "nothing" / "mnist"
    for fragment in [
        "MNIST data not found",
        str(folder),
        *FILE_NAMES,
        "download=False",
        f"into {folder}",
        "DLSCRATCH_DATA",
        "data_dir=",
    ]:
        assert fragment in message, fragment
    cli = info.value.cli_message
    assert "Downloading is off." in cli and f"in {folder} (--data-dir):" in cli
    assert "--data-dir <folder>" in cli and "DLSCRATCH_DATA=<folder>" in cli
    assert "'dlscratch info'" in cli
    assert "data_dir" not in cli and "download=" not in cli


def test_missing_message_names_the_environment_variable_as_the_source(tmp_path, monkeypatch):
    monkeypatch.setenv("DLSCRATCH_DATA", str(tmp_path / "env"))
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(download=False)
    assert f"in {tmp_path / 'env' / 'mnist'} ($DLSCRATCH_DATA):" in info.value.cli_message
    assert "(user cache):" in info.value.cli_message


def test_verify_dataset_mismatch_and_custom_sums(tmp_path, make_fake_dataset, fake_arrays_and_sums):
    _, sums = fake_arrays_and_sums
    make_fake_dataset(tmp_path, "mnist")
    assert all(c.ok for c in verify_dataset("mnist", tmp_path, checksums=sums))
    with pytest.raises(ChecksumError) as info:
        verify_dataset("mnist", tmp_path)  # real MNIST hashes do not match fake files
    message = str(info.value)
    assert str(tmp_path / "mnist" / f"{FILE_NAMES[0]}.gz") in message
    assert "expected ba891046" in message and sums[FILE_NAMES[0]] in message
    checks = verify_dataset("mnist", tmp_path, strict=False)
    assert [c.ok for c in checks] == [False] * 4
    with pytest.raises(DatasetNotFoundError):
        verify_dataset("fashion-mnist", tmp_path)
