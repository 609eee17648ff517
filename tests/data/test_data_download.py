"""Downloads against a local HTTP server on 127.0.0.1: success, checksum mismatch, dropped
connections, mirror fallback, offline. Nothing half-written may ever be left behind."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from dlscratch.data import (
    FILE_NAMES,
    ChecksumError,
    DataError,
    DatasetNotFoundError,
    DownloadError,
    download_dataset,
    load_mnist,
)
from dlscratch.data.download import download_file
from dlscratch.data.idx import encode_idx

TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = FILE_NAMES


def all_files(folder):
    """Every entry under folder (hidden temporaries included), as sorted names."""
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def gz_names(*names):
    return sorted(f"{n}.gz" for n in names)


def test_download_then_load(tmp_path, http_server, gz_files, fake_arrays_and_sums):
    arrays, sums = fake_arrays_and_sums
    mirror = http_server.serve("good", gz_files)
    (x, t), (xt, tt) = load_mnist(
        data_dir=tmp_path, mirrors=[mirror], checksums=sums, progress=False
    )
    assert x.shape == (12, 784) and xt.shape == (6, 784)
    np.testing.assert_array_equal(tt, arrays[TEST_LABELS])
    assert all_files(tmp_path / "mnist") == gz_names(*FILE_NAMES)
    assert sorted(http_server.requests) == sorted(f"/good/{n}.gz" for n in FILE_NAMES)
    load_mnist(data_dir=tmp_path, mirrors=[mirror], checksums=sums)  # now local: no requests
    assert len(http_server.requests) == 4


def test_default_target_is_cache_not_env_dir(
    tmp_path, http_server, gz_files, fake_arrays_and_sums, isolated_cache, monkeypatch
):
    _, sums = fake_arrays_and_sums
    env_dir = tmp_path / "shared"
    (env_dir / "mnist").mkdir(parents=True)
    monkeypatch.setenv("DLSCRATCH_DATA", str(env_dir))
    mirror = http_server.serve("good", gz_files)
    load_mnist(mirrors=[mirror], checksums=sums, progress=False)
    assert all_files(env_dir) == ["mnist"]  # never written
    assert all_files(isolated_cache / "mnist") == gz_names(*FILE_NAMES)


def test_only_missing_files_are_fetched(tmp_path, http_server, gz_files, fake_arrays_and_sums):
    _, sums = fake_arrays_and_sums
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / f"{TRAIN_IMAGES}.gz").write_bytes(gz_files[TRAIN_IMAGES])
    (folder / TEST_IMAGES).write_bytes(gzip.decompress(gz_files[TEST_IMAGES]))
    mirror = http_server.serve("good", gz_files)
    assert download_dataset("mnist", tmp_path, mirrors=[mirror], checksums=sums, progress=False)
    assert sorted(http_server.requests) == sorted(
        [f"/good/{TRAIN_LABELS}.gz", f"/good/{TEST_LABELS}.gz"]
    )


def corrupted(gz_files, name):
    """gz_files with `name` replaced by a well-formed IDX file of different content."""
    other = np.zeros(12 if name.startswith("train") else 6, np.uint8)
    if "images" in name:
        other = np.zeros((len(other), 28, 28), np.uint8)
    return {**gz_files, name: gzip.compress(encode_idx(other))}


def test_checksum_mismatch(tmp_path, http_server, gz_files, fake_arrays_and_sums):
    _, sums = fake_arrays_and_sums
    mirror = http_server.serve("bad", corrupted(gz_files, TRAIN_LABELS))
    with pytest.raises(ChecksumError) as info:
        load_mnist(data_dir=tmp_path, mirrors=[mirror], checksums=sums, progress=False)
    message = str(info.value)
    assert str(tmp_path / "mnist" / f"{TRAIN_LABELS}.gz") in message
    assert f"expected {sums[TRAIN_LABELS]}" in message and info.value.actual in message
    assert f"{mirror}{TRAIN_LABELS}.gz" in message
    assert all_files(tmp_path / "mnist") == gz_names(TRAIN_IMAGES)  # the bad file is gone


def test_checksum_mismatch_falls_back_to_next_mirror(
    tmp_path, http_server, gz_files, fake_arrays_and_sums
):
    _, sums = fake_arrays_and_sums
    bad = http_server.serve("bad", corrupted(gz_files, TEST_IMAGES))
    good = http_server.serve("good", gz_files)
    download_dataset("mnist", tmp_path, mirrors=[bad, good], checksums=sums, progress=False)
    assert f"/good/{TEST_IMAGES}.gz" in http_server.requests
    assert all_files(tmp_path / "mnist") == gz_names(*FILE_NAMES)


def test_dropped_connection_falls_back(tmp_path, http_server, gz_files, fake_arrays_and_sums):
    _, sums = fake_arrays_and_sums
    flaky = http_server.serve("flaky", gz_files, drop=(TRAIN_IMAGES,))
    good = http_server.serve("good", gz_files)
    load_mnist(data_dir=tmp_path, mirrors=[flaky, good], checksums=sums, progress=False)
    assert http_server.requests[:2] == [f"/flaky/{TRAIN_IMAGES}.gz", f"/good/{TRAIN_IMAGES}.gz"]
    assert all_files(tmp_path / "mnist") == gz_names(*FILE_NAMES)


def test_dropped_connection_everywhere(tmp_path, http_server, gz_files, fake_arrays_and_sums):
    _, sums = fake_arrays_and_sums
    flaky = http_server.serve("flaky", gz_files, drop=(TRAIN_IMAGES,))
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(data_dir=tmp_path, mirrors=[flaky], checksums=sums, progress=False)
    size = len(gz_files[TRAIN_IMAGES])
    assert f"connection closed after {size // 2} of {size} bytes" in str(info.value)
    assert isinstance(info.value.__cause__, DownloadError)
    assert all_files(tmp_path / "mnist") == []


def test_not_gzip_and_http_404(tmp_path, http_server, fake_arrays_and_sums):
    _, sums = fake_arrays_and_sums
    junk = http_server.serve("junk", {name: b"<html>not found</html>" for name in FILE_NAMES})
    missing = http_server.url("nothing-here")
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(data_dir=tmp_path, mirrors=[junk, missing], checksums=sums, progress=False)
    message = str(info.value)
    assert "not valid gzip data" in message and "HTTP 404" in message
    assert all_files(tmp_path / "mnist") == []


def test_offline(tmp_path, closed_port_url, fake_arrays_and_sums):
    _, sums = fake_arrays_and_sums
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(data_dir=tmp_path, mirrors=[closed_port_url], checksums=sums, progress=False)
    message = str(info.value)
    folder = tmp_path / "mnist"
    for fragment in [
        "MNIST data not found: missing files",
        f"in {folder} (data_dir argument): {', '.join(FILE_NAMES)}",
        f"Download into {folder} failed",
        closed_port_url,
        "Connection refused",
        "To provide the data",
        f"into {folder}",
        "DLSCRATCH_DATA=",
        "data_dir=",
    ]:
        assert fragment in message, fragment
    assert all_files(folder) == []


def test_offline_message_for_the_command_line(tmp_path, closed_port_url, fake_arrays_and_sums):
    """`cli_message` (what `dlscratch` prints) names the command line's flag, the environment
    variable and `dlscratch info`; never Python's `data_dir=` or `download=`."""
    _, sums = fake_arrays_and_sums
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(data_dir=tmp_path, mirrors=[closed_port_url], checksums=sums, progress=False)
    message = info.value.cli_message
    folder = tmp_path / "mnist"
    for fragment in [
        "MNIST data not found: missing files",
        f"in {folder} (--data-dir): {', '.join(FILE_NAMES)}",
        f"Download into {folder} failed",
        "Connection refused",
        f"into {folder}",
        "  - set DLSCRATCH_DATA=<folder> where <folder>/mnist/ holds those files",
        "  - add --data-dir <folder> to the command, where <folder>/mnist/ holds those files",
        "  - run the command on a machine with internet access: the files are downloaded",
        "'dlscratch info' shows where data is looked for and which files are there.",
    ]:
        assert fragment in message, fragment
    assert "data_dir" not in message and "download=" not in message
    assert message != str(info.value)


def test_unreachable_mirror_is_skipped_afterwards(tmp_path, closed_port_url):
    dead: set[str] = set()
    for name in FILE_NAMES[:2]:
        with pytest.raises(DownloadError) as info:
            download_file(name, tmp_path, [closed_port_url], "0" * 64, progress=False, dead=dead)
    assert dead == {closed_port_url}
    assert "skipped (mirror unreachable earlier)" in str(info.value)


def test_no_mirrors(tmp_path, fake_arrays_and_sums):
    _, sums = fake_arrays_and_sums
    with pytest.raises(DatasetNotFoundError, match="no mirrors given"):
        load_mnist(data_dir=tmp_path, mirrors=[], checksums=sums)


def test_refuses_unverifiable_download(tmp_path, http_server, gz_files):
    mirror = http_server.serve("good", gz_files)
    with pytest.raises(DataError, match=f"no expected SHA-256 for {TRAIN_IMAGES}"):
        load_mnist(data_dir=tmp_path, mirrors=[mirror], checksums={}, progress=False)
    assert http_server.requests == []
