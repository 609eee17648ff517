"""A `POST /api/predict` body -> (image bytes, model id), or an ApiError with its HTTP status.

Two forms are accepted:
- JSON (`Content-Type: application/json`): `{"image": "data:image/png;base64,...",
  "model": "<id>"}`, `model` optional (the server's default model);
- the raw image (`Content-Type: image/png` or `image/jpeg`), the model in the query string
  (`/api/predict?model=<id>`, optional).

The limits: a body of at most MAX_BODY bytes (checked from Content-Length, before reading),
an image of at most MAX_PIXELS pixels (checked from its header, before decoding).
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import parse_qs

MAX_BODY = 2 * 1024 * 1024  # 2 MB: a 280x280 drawing is a few KB, a phone photo a few MB
MAX_PIXELS = 4_000_000  # 4 megapixels: the canvas is 280x280; 16 MB as float32
IMAGE_TYPES = ("image/png", "image/jpeg")
DATA_URL = "data:image/"


class ApiError(Exception):
    """A request the API refuses: `status` (4xx) and a one-line message for {"error": ...}."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def body_length(header: str | None) -> int:
    """The Content-Length header as a number within MAX_BODY, else an ApiError."""
    if header is None:
        raise ApiError(411, "a Content-Length header is required")
    if not header.strip().isdigit():
        raise ApiError(400, f"Content-Length must be a number of bytes, got {header!r}")
    length = int(header)
    if length > MAX_BODY:
        raise ApiError(413, f"the body is {length:,} bytes, more than the {MAX_BODY:,}-byte "
                            "limit")
    return length


def parse_predict(content_type: str | None, body: bytes, query: str) -> tuple[bytes, str | None]:
    """(the image's bytes, the model id or None) from a request, else an ApiError."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/json":
        return _from_json(body)
    if kind in IMAGE_TYPES:
        models = parse_qs(query).get("model")
        return body, models[-1] if models else None
    raise ApiError(415, f"send JSON (application/json) or an image ({', '.join(IMAGE_TYPES)}), "
                        f"not {kind or 'a body without a Content-Type'}")


def _from_json(body: bytes) -> tuple[bytes, str | None]:
    try:
        request = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"the body is not valid JSON ({exc})") from None
    if not isinstance(request, dict):
        raise ApiError(400, 'the JSON must be an object: {"image": "data:image/png;base64,..."}')
    image, model = request.get("image"), request.get("model")
    if not isinstance(image, str):
        raise ApiError(400, '"image" is missing or not a string: send '
                            '{"image": "data:image/png;base64,..."}')
    if model is not None and not isinstance(model, str):
        raise ApiError(400, f'"model" must be a model id (a string), got {model!r}')
    head, comma, data = image.partition(",")
    if not comma or not head.startswith(DATA_URL) or not head.endswith(";base64"):
        raise ApiError(400, '"image" must be a base64 data URL of an image: '
                            f'"data:image/png;base64,...", got {image[:40]!r}')
    try:
        return base64.b64decode(data, validate=True), model
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, f'"image" is not valid base64 ({exc})') from None
