"""Test doubles passed through the same parameters as the real things."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any


class FakeClock:
    """A clock that stands still until the test moves it."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


class RecordingHandler:
    """Collects the events the bus publishes, to check what was published and when."""

    def __init__(self) -> None:
        self.events: list[object] = []

    def __call__(self, event: object) -> None:
        self.events.append(event)


# A JPEG's markers around nothing: enough for whoever checks the type, not an image.
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + bytes(200)
    + b"\xff\xd9"
)


@dataclass
class FakeFrigate:
    """Frigate's snapshot endpoint on a local port: what it answers for each event id."""

    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


def frigate_handler(fake: FakeFrigate) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, so pooling can be seen

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            fake.requests.append(
                {
                    "path": path,
                    "query": query,
                    "authorization": self.headers.get("Authorization"),
                    "port": self.client_address[1],
                }
            )
            event = path.removesuffix("/snapshot.jpg").rpartition("/")[2]
            try:
                if event == "slow":
                    fake.release.wait(5)
                if event == "missing":
                    self._send(404, "application/json", b'{"success": false}')
                elif event == "login":
                    self.send_response(302)
                    self.send_header("Location", "/login")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif event == "html":
                    self._send(200, "text/html", b"<html>login</html>")
                elif event == "fake":
                    self._send(200, "image/jpeg", b"GIF89a not a jpeg")
                elif event == "huge":
                    self._send(200, "image/jpeg", JPEG[:4] + bytes(5000))
                else:
                    self._send(200, "image/jpeg", JPEG)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test): nothing to answer

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

    return Handler
