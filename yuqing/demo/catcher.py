"""The demo's notification catcher: a webhook receiver on 127.0.0.1 standing in for the
duty officers' phones (apprise ``json://`` channels post here, one path per person)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from yuqing.demo.loopback import LocalServer


@dataclass(frozen=True)
class Caught:
    person: str  # the path the channel posts to: the roster key
    title: str
    message: str


class Catcher(LocalServer):
    """Keeps every notification received, in order of arrival."""

    def __init__(self) -> None:
        self.caught: list[Caught] = []
        self.lock = threading.Lock()
        super().__init__(self._handler(), "demo-catcher")

    def channel(self, person: str) -> str:
        """The apprise URL of ``person``'s channel."""
        return f"json://{self.address}/{person}"

    def since(self, seen: int) -> list[Caught]:
        with self.lock:
            return self.caught[seen:]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    data = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    data = {}
                with catcher.lock:
                    catcher.caught.append(Caught(self.path.strip("/"), str(data.get("title", "")),
                                                 str(data.get("message", ""))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        return Handler
