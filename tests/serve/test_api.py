"""The JSON API over real HTTP: a server on a free loopback port, small models trained for the
session (conftest.py), MNIST test digits drawn dark on light paper as 280x280 PNGs."""

from __future__ import annotations

import io
import json
import shutil
import socket
import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from dlscratch.data import FASHION_MNIST_CLASSES
from dlscratch.data.images import load_digit_image
from dlscratch.functions import softmax
from dlscratch.io.serialize import load
from dlscratch.serve.inference import feature_map_values
from dlscratch.serve.payload import MAX_BODY

from .conftest import data_url, drawing, predict, request, serving


def png_of(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (its data is one short row)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(
            kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1))) + chunk(b"IEND", b""))


def still_serving(server) -> None:
    """The server answers a good request after a bad one."""
    status, models, _ = request(server, "GET", "/api/models")
    assert status == 200 and models["default"] == "two-layer"
    status, answer = predict(server, stroke_one())
    assert status == 200 and answer["top"][0]["class"] == 1, answer


def stroke_one() -> bytes:
    image = Image.new("L", (280, 280), 255)
    image.paste(0, (130, 40, 148, 240))  # a vertical bar: dark on white
    return png_of(image)


# -- predictions --------------------------------------------------------------------------
def test_mnist_test_digits_drawn_on_paper_are_predicted_right(server, test_digits):
    images, labels = test_digits
    picks = np.random.default_rng(0).choice(len(labels), 100, replace=False)
    right = 0
    for i in picks:
        status, answer = predict(server, drawing(images[i]))
        assert status == 200, answer
        right += answer["top"][0]["class"] == labels[i]
    assert right >= 90, f"{right} of 100 test digits predicted right"


def test_an_answer_has_probabilities_top_3_input_and_activations(server, test_digits):
    images, labels = test_digits
    status, answer = predict(server, drawing(images[0]))
    assert status == 200
    p = np.array(answer["probabilities"])
    assert p.shape == (10,) and np.all(p >= 0) and abs(p.sum() - 1) < 1e-9
    top = answer["top"]
    assert [t["class"] for t in top] == list(np.argsort(p)[::-1][:3])
    assert [t["probability"] for t in top] == sorted(p, reverse=True)[:3]
    assert [t["label"] for t in top] == [str(t["class"]) for t in top]
    x = np.array(answer["input"])
    assert x.shape == (28, 28) and x.min() >= 0 and x.max() == 1.0
    hidden = answer["activations"]["hidden"]
    assert [(h["layer"], len(h["values"])) for h in hidden] == [("Relu1", 100)]
    assert answer["activations"]["feature_maps"] is None  # a dense network: no convolution


def test_the_answer_is_the_models_own_prediction_of_predicts_preprocessing(server, runs,
                                                                           test_digits):
    """Independent of the server: the same PNG through load_digit_image (`predict`'s
    preprocessing) and the model file loaded here gives the same probabilities."""
    images, _ = test_digits
    png = drawing(images[7])
    for model_id in ("two-layer", "simple-cnn"):
        status, answer = predict(server, png, model_id)
        assert status == 200 and answer["model"] == model_id
        net = load(runs / model_id / "model.npz")
        x = load_digit_image(png)
        assert np.abs(np.array(answer["input"]) - x).max() <= 5e-4  # rounded to 3 decimals
        x = x[None, None] if model_id == "simple-cnn" else x.reshape(1, -1)
        expected = softmax(net.predict(x).astype(np.float64))[0]
        assert np.allclose(answer["probabilities"], expected, rtol=1e-6, atol=1e-9)


def test_the_model_field_chooses_the_model(server, test_digits):
    images, _ = test_digits
    png = drawing(images[3])
    dense, conv = predict(server, png, "two-layer")[1], predict(server, png, "simple-cnn")[1]
    default = predict(server, png)[1]
    assert default["model"] == "two-layer" and default["probabilities"] == dense["probabilities"]
    assert conv["model"] == "simple-cnn"
    assert conv["probabilities"] != dense["probabilities"]
    maps = conv["activations"]["feature_maps"]
    assert maps["shape"] == [30, 24, 24] and maps["layer"] == "Convolution1 -> Relu1"
    assert feature_map_values(maps).shape == (30, 24, 24) and maps["scale"] > 0
    assert [(h["layer"], len(h["values"])) for h in conv["activations"]["hidden"]] == \
        [("Relu2", 100)]


def test_a_raw_png_body_gives_the_same_answer_as_json(server, test_digits):
    images, _ = test_digits
    png = drawing(images[11])
    status, raw, _ = request(server, "POST", "/api/predict?model=simple-cnn", png,
                             {"Content-Type": "image/png"})
    assert status == 200
    assert raw == predict(server, png, "simple-cnn")[1]


def test_a_transparent_background_is_paper(server):
    """Black strokes on fully transparent pixels (whose colour is black too): the same input
    as the strokes on white paper."""
    on_paper = Image.new("L", (280, 280), 255)
    on_paper.paste(0, (120, 40, 140, 240))
    on_paper.paste(0, (60, 40, 200, 60))
    transparent = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    transparent.paste((0, 0, 0, 255), (120, 40, 140, 240))
    transparent.paste((0, 0, 0, 255), (60, 40, 200, 60))
    a, b = predict(server, png_of(on_paper))[1], predict(server, png_of(transparent))[1]
    assert np.array(a["input"]).max() == 1.0
    assert a["input"] == b["input"] and a["probabilities"] == b["probabilities"]


def test_fashion_models_answer_with_garment_names(server):
    status, models, _ = request(server, "GET", "/api/models")
    fashion = {m["id"]: m for m in models["models"]}["fashion"]
    assert fashion["dataset"] == "fashion-mnist"
    assert fashion["classes"]["en"] == list(FASHION_MNIST_CLASSES)
    assert fashion["classes"]["ko"][0] == "티셔츠/탑" and len(set(fashion["classes"]["ko"])) == 10
    status, answer = predict(server, stroke_one(), "fashion")
    assert status == 200
    assert [t["label"] for t in answer["top"]] == \
        [FASHION_MNIST_CLASSES[t["class"]] for t in answer["top"]]


def test_models_lists_the_runs_by_id(server, runs):
    status, answer, _ = request(server, "GET", "/api/models")
    assert status == 200
    assert answer["default"] == "two-layer"
    ids = [m["id"] for m in answer["models"]]
    assert ids[0] == "two-layer" and sorted(ids) == sorted(p.name for p in runs.iterdir())
    kinds = {m["id"]: m["kind"] for m in answer["models"]}
    assert kinds["simple-cnn"] == "simple-cnn" and kinds["two-layer"] == "two-layer"
    members = {m["id"]: m["members"] for m in answer["models"]}
    assert members == {"two-layer": 1, "simple-cnn": 1, "fashion": 1, "ensemble": 2}
    for model in answer["models"]:
        assert "path" not in model and str(runs) not in json.dumps(model)


def test_requests_at_the_same_time_get_the_answers_they_get_alone(server, test_digits):
    """Eight clients, two models: a race on a network's forward state would mix answers."""
    images, _ = test_digits
    pngs = [drawing(images[i]) for i in range(8)]
    jobs = [(png, model) for png in pngs for model in ("two-layer", "simple-cnn")] * 3
    alone = {(i, m): predict(server, pngs[i], m)[1]["probabilities"]
             for i in range(8) for m in ("two-layer", "simple-cnn")}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda job: predict(server, *job), jobs))
    for (png, model), (status, answer) in zip(jobs, answers, strict=True):
        assert status == 200
        assert answer["probabilities"] == alone[(pngs.index(png), model)]


# -- refused requests -----------------------------------------------------------------------
JSON = {"Content-Type": "application/json"}
BAD_REQUESTS = {
    # name: (body, headers, path, status, words in the error)
    "malformed JSON": (b'{"image": ', JSON, "/api/predict", 400, "not valid JSON"),
    "JSON not an object": (b'["data:image/png;base64,"]', JSON, "/api/predict", 400,
                           "must be an object"),
    "no image field": (b'{"model": "two-layer"}', JSON, "/api/predict", 400, '"image"'),
    "not a data URL": (b'{"image": "/etc/passwd"}', JSON, "/api/predict", 400, "data URL"),
    "bad base64": (b'{"image": "data:image/png;base64,@@@"}', JSON, "/api/predict", 400,
                   "base64"),
    "model not a string": (json.dumps({"image": data_url(b"x"), "model": 3}).encode(), JSON,
                           "/api/predict", 400, '"model"'),
    "not an image": (json.dumps({"image": data_url(b"GIF? no, text")}).encode(), JSON,
                     "/api/predict", 422, "not a readable image"),
    "raw non-image": (b"hello", {"Content-Type": "image/png"}, "/api/predict", 422,
                      "not a readable image"),
    "wrong content type": (b"hello", {"Content-Type": "text/plain"}, "/api/predict", 415,
                           "text/plain"),
    "blank drawing": (png_of(Image.new("L", (280, 280), 255)), {"Content-Type": "image/png"},
                      "/api/predict", 422, "blank"),
    "too many pixels": (png_claiming(3000, 3000), {"Content-Type": "image/png"},
                        "/api/predict", 422, "9 megapixels, more than the 4-megapixel limit"),
    "unknown model": (json.dumps({"image": data_url(stroke_one()), "model": "nope"}).encode(),
                      JSON, "/api/predict", 404, "no model has the id 'nope'"),
    "a path as model": (json.dumps({"image": data_url(stroke_one()),
                                    "model": "../runs/two-layer/model.npz"}).encode(),
                        JSON, "/api/predict", 404, "no model has the id"),
    "unknown URL": (b"{}", JSON, "/api/nothing", 404, "nothing to POST"),
}


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_bad_requests_get_a_4xx_json_error_and_the_server_goes_on(server, name):
    body, headers, path, status, words = BAD_REQUESTS[name]
    got, answer, got_headers = request(server, "POST", path, body, headers)
    assert got == status, answer
    assert got_headers["Content-Type"].startswith("application/json")
    assert set(answer) == {"error"} and words in answer["error"]
    assert "\n" not in answer["error"] and "Traceback" not in answer["error"]
    still_serving(server)


def test_a_run_whose_model_file_is_broken_is_409_and_the_others_still_work(runs, tmp_path):
    copied = tmp_path / "runs"
    shutil.copytree(runs, copied)
    (copied / "broken").mkdir()
    shutil.copyfile(runs / "two-layer" / "config.json", copied / "broken" / "config.json")
    (copied / "broken" / "model.npz").write_bytes(b"PK\x03\x04 cut short")
    with serving(copied, copied / "two-layer" / "model.npz") as other:
        status, answer = predict(other, stroke_one(), "broken")
        assert status == 409, answer
        assert answer["error"].startswith("the model 'broken' cannot be used: ")
        still_serving(other)


def test_a_body_over_the_limit_is_refused_from_its_length(server):
    """413 from Content-Length alone: the server answers before the body is sent."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                     + f"Content-Length: {MAX_BODY + 1}\r\n\r\n".encode())
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b"Connection: close" in head
    assert "more than the 2,097,152-byte limit" in json.loads(body)["error"]
    still_serving(server)


@pytest.mark.parametrize("length, status", [(None, 411), ("lots", 400)])
def test_a_missing_or_bad_content_length_is_refused(server, length, status):
    headers = b"" if length is None else f"Content-Length: {length}\r\n".encode()
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                     + headers + b"\r\n")
        reply = sock.makefile("rb").read()  # the server closes the connection after it
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status}".encode()), head
    assert json.loads(body)["error"]
    still_serving(server)


@pytest.mark.parametrize("request_line, status", [
    (b"PUT /api/predict HTTP/1.1", 501), (b"GARBAGE", 400), (b"GET /" + b"x" * 70000, 414)])
def test_what_http_server_refuses_itself_is_json_too(server, request_line, status):
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(request_line + b"\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        reply = sock.makefile("rb").read()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0].split()[1] == str(status).encode(), head
    assert json.loads(body)["error"]
    still_serving(server)


def test_a_broken_connection_mid_body_does_not_stop_the_server(server):
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                     b"Content-Length: 1000\r\n\r\n\x89PNG")
    still_serving(server)


# -- the page -------------------------------------------------------------------------------
@pytest.mark.parametrize("path, kind", [
    ("/", "text/html"), ("/static/app.js", "text/javascript"), ("/static/style.css", "text/css"),
    ("/favicon.svg", "image/svg+xml"), ("/favicon.ico", "image/svg+xml")])
def test_the_page_and_its_files_are_served_from_the_package(server, path, kind):
    status, answer, headers = request(server, "GET", path)
    assert status == 200 and headers["Content-Type"].startswith(kind)
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    text = answer["raw"].decode("utf-8")
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")  # nothing from
    assert "https://" not in text  # elsewhere: the page works offline


def test_unknown_pages_are_404_json(server):
    for path in ("/static/../catalogue.py", "/static/nothing.js", "/api/models/x"):
        status, answer, _ = request(server, "GET", path)
        assert status == 404 and "nothing at" in answer["error"]


def test_several_open_connections_do_not_block_each_other(server):
    """A client that opened a connection and sends nothing (an idle tab) holds one thread,
    not the server."""
    idle = [socket.create_connection((server.host, server.port), timeout=10) for _ in range(3)]
    try:
        done = threading.Event()

        def ask():
            still_serving(server)
            done.set()

        threading.Thread(target=ask, daemon=True).start()
        assert done.wait(10)
    finally:
        for sock in idle:
            sock.close()
