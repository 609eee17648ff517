"""Fixtures for `dlscratch serve`: small models trained once for the session on the real MNIST
files, a server on a free loopback port (in this process, on a thread), and drawings: MNIST
test digits upscaled to 280x280 and drawn dark on light paper, as a PNG.

Where CI is set, missing data (or, for the browser test, a missing browser) is a failure, not a
skip: .ci/run installs them.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import io
import json
import os
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from tests.components import missing

# the fixture models: (run folder, `dlscratch train` flags). The two-layer one must call a
# mouse-drawn 1 and 0 in the browser test (about 97% on MNIST's test set, ~6 s on one thread);
# the CNN and the Fashion-MNIST model only need to be real models of their kind
MODELS = {
    "two-layer": ("--model", "two-layer", "--optimizer", "adam", "--lr", "0.002",
                  "--hidden", "100", "--limit", "30000", "--iterations", "3000"),
    "simple-cnn": ("--model", "simple-cnn", "--limit", "5000", "--iterations", "150"),
    "fashion": ("--model", "two-layer", "--dataset", "fashion-mnist", "--limit", "2000",
                "--iterations", "100"),
}


@pytest.fixture(scope="session")
def data_dir() -> Path:
    value = os.environ.get("DLSCRATCH_DATA")
    if not value or not Path(value, "mnist").is_dir() or not Path(value, "fashion-mnist").is_dir():
        missing("set DLSCRATCH_DATA to a folder holding mnist/ and fashion-mnist/")
    return Path(value)


@pytest.fixture(scope="session")
def runs(tmp_path_factory, data_dir) -> Path:
    """A runs folder holding the MODELS, trained by `dlscratch train` (read-only for tests)."""
    from dlscratch.cli.main import main

    root = tmp_path_factory.mktemp("serve") / "runs"
    for name, flags in MODELS.items():
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["train", *flags, "--eval-limit", "500", "--quiet",
                         "--data-dir", str(data_dir), "--out", str(root / name)])
        assert code == 0, err.getvalue()
    make_ensemble(root, data_dir)
    return root


def make_ensemble(root: Path, data_dir: Path) -> None:
    """RUNS/ensemble: an ensemble folder (as `train --members` writes one) of the two-layer
    model and a smaller two-layer model trained on MNIST too."""
    import shutil

    from dlscratch.cli.main import main
    from dlscratch.io.ensemble_file import write_ensemble

    folder = root / "ensemble"
    (folder / "member-1").mkdir(parents=True)
    shutil.copyfile(root / "two-layer" / "model.npz", folder / "member-1" / "model.npz")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["train", "--hidden", "30", "--limit", "2000", "--iterations", "200",
                     "--eval-limit", "500", "--quiet", "--data-dir", str(data_dir),
                     "--out", str(folder / "member-2")])
    assert code == 0, err.getvalue()
    shutil.copyfile(root / "two-layer" / "config.json", folder / "config.json")
    write_ensemble(folder, ["member-1/model.npz", "member-2/model.npz"])


@contextlib.contextmanager
def serving(runs: Path, start: Path):
    """A DigitServer on a free loopback port, on a thread of this process; `url`, `host`,
    `port`, `catalogue`."""
    from dlscratch.serve import Catalogue, make_server

    catalogue = Catalogue(runs, start)
    httpd = make_server(catalogue, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    try:
        yield SimpleNamespace(url=httpd.url, host=host, port=port, catalogue=catalogue)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture(scope="session")
def server(runs):
    """The session's server, started with the two-layer model."""
    with serving(runs, runs / "two-layer" / "model.npz") as running:
        yield running


@pytest.fixture(scope="session")
def test_digits(data_dir):
    """(images (N, 28, 28) uint8, labels) of MNIST's test set."""
    from dlscratch.data import load_mnist

    (_, _), (x, t) = load_mnist(normalize=False, flatten=False, data_dir=data_dir,
                                download=False)
    return x.reshape(-1, 28, 28).astype(np.uint8), t


def drawing(digit: np.ndarray, size: int = 280) -> bytes:
    """An MNIST digit (white on black, 28x28) as a size x size PNG drawn dark on light paper."""
    from PIL import Image

    big = Image.fromarray(255 - digit).resize((size, size), Image.BILINEAR)
    buffer = io.BytesIO()
    big.save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def request(server, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, dict, dict]:
    """(status, JSON answer, headers) of one request over a new HTTP connection."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        raw = response.read()
        kind = response.getheader("Content-Type", "")
        answer = json.loads(raw) if kind.startswith("application/json") else {"raw": raw}
        return response.status, answer, dict(response.getheaders())
    finally:
        conn.close()


def predict(server, png: bytes, model: str | None = None) -> tuple[int, dict]:
    """POST /api/predict with {"image": <data URL>, "model": model}."""
    payload = {"image": data_url(png)} | ({"model": model} if model is not None else {})
    status, answer, _ = request(server, "POST", "/api/predict", json.dumps(payload).encode(),
                                {"Content-Type": "application/json"})
    return status, answer
