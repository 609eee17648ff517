"""What a server cannot do to a download: send more than the file can hold (announced or not),
send a gzip bomb, or leave temporary files behind - nor can Ctrl-C or a killed process."""

from __future__ import annotations

import fcntl
import gzip
import os

import pytest

from dlscratch.data import FILE_NAMES, DatasetNotFoundError, DownloadError, download_dataset
from dlscratch.data import download as download_module
from dlscratch.data.download import (
    DEFAULT_MAX_SIZE,
    download_file,
    gzip_cap,
    remove_stale_temporaries,
)

TEST_LABELS = FILE_NAMES[3]
LABELS_SIZE = 10_008  # MNIST's t10k-labels: 8-byte header + 10,000 labels
LABELS_CAP = 75_644  # gzip_cap(10_008): + 1% + 64 KiB


def all_files(folder):
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def announce(length: int, body: bytes = b""):
    """A route that claims `length` bytes in Content-Length and sends `body`."""

    def respond(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(length))
        handler.end_headers()
        handler.wfile.write(body)

    return respond


def endless_gzip_header(handler):
    """A valid gzip start whose file name never ends: no output, no end, no Content-Length."""
    handler.send_response(200)
    handler.end_headers()
    handler.wfile.write(b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x00\xff")
    for _ in range(256):  # 16 MiB at most, should the client never hang up
        handler.wfile.write(b"a" * 65536)


def serve_with(http_server, gz_files, route) -> str:
    mirror = http_server.serve("m", gz_files)
    http_server.routes[f"/m/{TEST_LABELS}.gz"] = route
    return mirror


def download_error(tmp_path, mirror, sums) -> str:
    with pytest.raises(DownloadError) as info:
        download_dataset("mnist", tmp_path, mirrors=[mirror], checksums=sums, progress=False)
    assert all_files(tmp_path / "mnist") == sorted(f"{n}.gz" for n in FILE_NAMES[:3])
    return str(info.value)


def test_gzip_cap():
    assert gzip_cap(LABELS_SIZE) == LABELS_CAP
    assert len(gzip.compress(os.urandom(1 << 20), compresslevel=9)) < gzip_cap(1 << 20)


def test_announced_length_above_the_cap_is_refused_unread(tmp_path, http_server, gz_files,
                                                          fake_arrays_and_sums):
    mirror = serve_with(http_server, gz_files, announce(10**9, b"\x1f\x8b" + b"\0" * 100))
    message = download_error(tmp_path, mirror, fake_arrays_and_sums[1])
    assert (f"{mirror}{TEST_LABELS}.gz: the server announces 1,000,000,000 bytes, more than "
            f"{TEST_LABELS}.gz can take (75,644 bytes of gzip for 10,008 bytes of data); not "
            "downloaded") in message


def test_endless_body_is_cut_at_the_cap(tmp_path, http_server, gz_files, fake_arrays_and_sums):
    mirror = serve_with(http_server, gz_files, endless_gzip_header)
    message = download_error(tmp_path, mirror, fake_arrays_and_sums[1])
    assert (f"{mirror}{TEST_LABELS}.gz: the server sent more than 75,644 bytes, more than "
            f"{TEST_LABELS}.gz can take (10,008 bytes of data); the download was discarded"
            ) in message


def test_gzip_bomb_is_stopped_at_the_known_size(tmp_path, http_server, gz_files,
                                                fake_arrays_and_sums):
    bomb = gzip.compress(b"\x00" * (10 << 20))  # 10 KB that inflate to 10 MiB
    assert len(bomb) < LABELS_CAP
    mirror = serve_with(http_server, gz_files, bomb)
    message = download_error(tmp_path, mirror, fake_arrays_and_sums[1])
    assert (f"{mirror}{TEST_LABELS}.gz: the data decompresses to more than 10,008 bytes, more "
            f"than {TEST_LABELS}.gz may hold; the download was discarded") in message


def test_a_file_without_a_known_size_gets_the_default_cap(tmp_path, http_server):
    mirror = http_server.url("m")
    http_server.routes["/m/custom.gz"] = announce(gzip_cap(DEFAULT_MAX_SIZE) + 1)
    with pytest.raises(DownloadError) as info:
        download_file("custom", tmp_path, [mirror], "0" * 64, progress=False)
    assert f"({gzip_cap(DEFAULT_MAX_SIZE):,} bytes of gzip for 104,857,600 bytes of data)" in str(
        info.value)
    assert all_files(tmp_path) == []


def test_stale_temporary_is_removed_and_a_live_one_kept(tmp_path, http_server, gz_files,
                                                        fake_arrays_and_sums):
    folder = tmp_path / "mnist"
    folder.mkdir()
    dead = folder / f".{TEST_LABELS}.gz.k1ll3d00.tmp"  # a download killed with SIGKILL
    dead.write_bytes(b"\x1f\x8b partial")
    live = folder / f".{TEST_LABELS}.gz.runn1ng0.tmp"  # another process still downloading
    live.write_bytes(b"\x1f\x8b partial")
    other = folder / ".unrelated.gz.k1ll3d00.tmp"
    other.write_bytes(b"not ours")
    with open(live, "rb+") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        mirror = http_server.serve("m", gz_files)
        download_dataset("mnist", tmp_path, mirrors=[mirror],
                         checksums=fake_arrays_and_sums[1], progress=False)
        assert not dead.exists() and live.exists() and other.exists()
    assert remove_stale_temporaries(folder / f"{TEST_LABELS}.gz") == [live]  # lock released
    assert all_files(folder) == sorted([other.name, *(f"{n}.gz" for n in FILE_NAMES)])


def test_ctrl_c_during_a_download_leaves_nothing(tmp_path, http_server, gz_files,
                                                 fake_arrays_and_sums, monkeypatch):
    def interrupted(self, chunk):
        raise KeyboardInterrupt

    monkeypatch.setattr(download_module._GunzipHasher, "feed", interrupted)
    mirror = http_server.serve("m", gz_files)
    with pytest.raises(KeyboardInterrupt):
        download_dataset("mnist", tmp_path, mirrors=[mirror], checksums=fake_arrays_and_sums[1],
                         progress=False)
    assert all_files(tmp_path / "mnist") == []


def test_download_failure_through_the_loader_names_the_cap(tmp_path, http_server, gz_files,
                                                           fake_arrays_and_sums):
    from dlscratch.data import load_mnist

    mirror = serve_with(http_server, gz_files, endless_gzip_header)
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(data_dir=tmp_path, mirrors=[mirror], checksums=fake_arrays_and_sums[1],
                   progress=False)
    assert "the server sent more than 75,644 bytes" in info.value.cli_message
