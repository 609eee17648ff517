"""Fixtures for the data-layer tests: isolated cache, real data root, fake datasets, HTTP server."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from dlscratch.data import FILE_NAMES, write_idx
from dlscratch.data.idx import encode_idx


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch) -> Path:
    """Point the user cache into tmp_path so no test touches ~/.cache."""
    cache = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache / "dlscratch"


@pytest.fixture(scope="session")
def real_data_root() -> Path:
    """Root holding mnist/ and fashion-mnist/ (read-only), from $DLSCRATCH_DATA."""
    value = os.environ.get("DLSCRATCH_DATA")
    if not value:
        pytest.skip("DLSCRATCH_DATA is not set: real MNIST/Fashion-MNIST tests need the IDX files")
    return Path(value).resolve()


def fake_arrays(n_train: int = 12, n_test: int = 6, seed: int = 0) -> dict[str, np.ndarray]:
    """Tiny MNIST-shaped arrays keyed by standard file name (labels cycle 0..9)."""
    rng = np.random.default_rng(seed)
    return {
        FILE_NAMES[0]: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        FILE_NAMES[1]: (np.arange(n_train) % 10).astype(np.uint8),
        FILE_NAMES[2]: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        FILE_NAMES[3]: (np.arange(n_test) % 10).astype(np.uint8),
    }


def sha256_of(array: np.ndarray) -> str:
    return hashlib.sha256(encode_idx(array)).hexdigest()


@pytest.fixture
def fake_arrays_and_sums() -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(arrays, checksums): fake dataset content and the SHA-256 of each decompressed file."""
    arrays = fake_arrays()
    return arrays, {name: sha256_of(a) for name, a in arrays.items()}


@pytest.fixture
def make_fake_dataset(fake_arrays_and_sums):
    """Factory: write the fake dataset into root/<name>/ and return the folder."""
    arrays, _ = fake_arrays_and_sums

    def make(root: Path, name: str = "mnist", gz: bool = True) -> Path:
        folder = Path(root) / name
        for file, array in arrays.items():
            write_idx(folder / (f"{file}.gz" if gz else file), array)
        return folder

    return make


class _Handler(BaseHTTPRequestHandler):
    """Serves `server.routes`: path -> bytes, or ("drop", bytes) to announce the full length,
    send half of it and hang up, or a function(handler) that writes the whole response."""

    def do_GET(self):  # noqa: N802 (http.server API)
        self.server.requests.append(self.path)
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404, "not here")
            return
        if callable(route):
            with contextlib.suppress(ConnectionError):  # the client hung up: what it should do
                route(self)
            self.close_connection = True
            return
        drop = isinstance(route, tuple)
        body = route[1] if drop else route
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if drop else body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


class LocalServer:
    """HTTP server on 127.0.0.1 with an ephemeral port, running in a thread."""

    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.routes = {}
        self.httpd.requests = []
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def routes(self) -> dict:
        return self.httpd.routes

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests

    def url(self, prefix: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{prefix.strip('/')}/"

    def serve(self, prefix: str, files: dict[str, bytes], drop: tuple[str, ...] = ()) -> str:
        """Serve `files` (name -> .gz bytes) under /prefix/<name>.gz; return the mirror URL."""
        for name, body in files.items():
            path = f"/{prefix.strip('/')}/{name}.gz"
            self.routes[path] = ("drop", body) if name in drop else body
        return self.url(prefix)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def http_server():
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def gz_files(fake_arrays_and_sums) -> dict[str, bytes]:
    """The fake dataset as .gz bytes, keyed by standard file name."""
    arrays, _ = fake_arrays_and_sums
    return {name: gzip.compress(encode_idx(a), mtime=0) for name, a in arrays.items()}


@pytest.fixture
def closed_port_url() -> str:
    """A mirror URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"
