"""The HTTP side of `dlscratch serve`: the page, `GET /api/models`, `POST /api/predict`.

The server is the standard library's ThreadingHTTPServer (why: docs/architecture.md, "Serve"):
a thread per connection, so several tabs (and a slow client) never hold up the others. Every
answer of the API is JSON; a refused request is a 4xx with {"error": "<one line>"}, and an
unexpected failure a 500 with the same shape, logged on one line: the server keeps serving.
"""

from __future__ import annotations

import json
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import urlsplit

from dlscratch.errors import ImageError, ModelFileError
from dlscratch.serve.catalogue import Catalogue, ModelNotFound
from dlscratch.serve.payload import MAX_PIXELS, ApiError, body_length, parse_predict

# the page's files: URL path -> (file in static/, Content-Type); nothing else is served
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
    "/favicon.ico": ("favicon.svg", "image/svg+xml"),  # browsers that ask for it anyway
}
# the page loads nothing from elsewhere (it works offline); the browser enforces it
SECURITY_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:",
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def static_file(name: str) -> bytes:
    return resources.files("dlscratch.serve").joinpath("static", name).read_bytes()


class Handler(BaseHTTPRequestHandler):
    """One connection's requests (HTTP/1.1 keep-alive); `self.server` is a DigitServer."""

    protocol_version = "HTTP/1.1"
    server_version = "dlscratch-serve"
    timeout = 60  # seconds a connection may sit idle (or trickle a body) before it is closed
    # headers and body leave in two writes: without TCP_NODELAY the body can wait for the
    # client's delayed ACK of the headers (Nagle's algorithm), up to 40 ms per answer
    disable_nagle_algorithm = True

    def do_GET(self):
        path = urlsplit(self.path).path
        if path in STATIC:
            name, kind = STATIC[path]
            self._send(200, static_file(name), kind)
        elif path == "/api/models":
            catalogue = self.server.catalogue
            self._json(200, {"default": catalogue.default,
                             "models": [e.describe() for e in catalogue.refresh()]})
        else:
            self._json(404, {"error": f"nothing at {path} (the page is /, the API /api/...)"})

    def do_POST(self):
        url = urlsplit(self.path)
        try:
            length = body_length(self.headers.get("Content-Length"))
        except ApiError as exc:  # the body is not read: this connection ends after the answer
            self.close_connection = True
            self._json(exc.status, {"error": str(exc)}, close=True)
            return
        body = self.rfile.read(length)
        if len(body) < length:  # the client went away mid-body: no one to answer
            self.close_connection = True
            return
        if url.path != "/api/predict":
            self._json(404, {"error": f"nothing to POST at {url.path} (use /api/predict)"})
            return
        try:
            self._json(200, self._predict(body, url.query))
        except ApiError as exc:
            self._json(exc.status, {"error": str(exc)})
        except Exception as exc:  # a bug or a broken model file: one line, and keep serving
            self._json(500, {"error": f"internal error: {type(exc).__name__}: {exc}"})

    def _predict(self, body: bytes, query: str) -> dict:
        from dlscratch.data.images import load_digit_image
        from dlscratch.serve.inference import classify

        image_bytes, model_id = parse_predict(self.headers.get("Content-Type"), body, query)
        try:
            model = self.server.catalogue.get(model_id)
        except ModelNotFound as exc:
            raise ApiError(404, str(exc)) from None
        except (ModelFileError, ValueError, OSError) as exc:
            raise ApiError(409, f"the model {model_id!r} cannot be used: {exc}") from None
        try:
            image = load_digit_image(image_bytes, "image", max_pixels=MAX_PIXELS)
        except ImageError as exc:
            raise ApiError(422, str(exc)) from None
        return classify(model, image)

    def send_error(self, code, message=None, explain=None):
        """What http.server itself refuses (a malformed request line, an unknown method, a
        line too long) answered as JSON too, and the connection closed."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # an unreadable request line: http.server
            self.request_version = self.protocol_version  # would send the body alone
        self._json(code, {"error": message or self.responses.get(code, ("error",))[0]},
                   close=True)

    def _json(self, status: int, payload: dict, close: bool = False) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8", close)
        if status >= 400:
            print(f"dlscratch serve: {status} {self.command} {getattr(self, 'path', '')[:80]}: "
                  f"{payload['error'][:300]}", file=sys.stderr, flush=True)

    def _send(self, status: int, body: bytes, kind: str, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        """Quiet: a drawing sends several requests a second; refusals are logged by _json."""


class DigitServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with the catalogue its handlers use; IPv6 for a host with ':'."""

    daemon_threads = True  # open keep-alive connections do not hold up the end of the server
    # connections waiting to be accepted: socketserver's 5 drops the 6th of a burst (several
    # tabs, a load test), whose client then waits a second to try again
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], catalogue: Catalogue):
        self.catalogue = catalogue
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    @classmethod
    def on_socket(cls, sock: socket.socket, catalogue: Catalogue) -> DigitServer:
        """A DigitServer on a socket that already listens (another process's: see
        serve.processes)."""
        server = cls.__new__(cls)
        server.catalogue, server.address_family = catalogue, sock.family
        ThreadingHTTPServer.__init__(server, sock.getsockname()[:2], Handler,
                                     bind_and_activate=False)
        server.socket.close()  # the one it made: it serves from `sock` instead
        server.socket, server.server_address = sock, sock.getsockname()
        server.server_name, server.server_port = server.server_address[:2]
        return server

    def handle_error(self, request, client_address):
        """One line on stderr instead of socketserver's traceback; a client that hung up or
        timed out is not an error of the server's."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):
            print(f"dlscratch serve: error while answering {client_address[0]}: "
                  f"{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def make_server(catalogue: Catalogue, host: str = "127.0.0.1", port: int = 8000) -> DigitServer:
    """A DigitServer listening on (host, port) (port 0: a free one); OSError if it cannot."""
    return DigitServer((host, port), catalogue)
