"""A real HTTP server on 127.0.0.1 for crawl tests: real pages, feeds, APIs and fault cases.

Threaded with a large listen backlog (the stock server's backlog of 5 stalls concurrent crawls).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Route = Callable[["Handler"], None]


class Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = False  # server_close() joins the request threads

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Server

    def handle(self) -> None:
        # A crawler that gave up (timeout) closes its end; that is the point of the case.
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        with self.server.lock:
            self.server.hits[path] = self.server.hits.get(path, 0) + 1
        route = self.server.routes.get(path)
        if route is None:
            self.reply(404, b"not found", "text/plain")
            return
        route(self)

    def reply(self, status: int, body: bytes, content_type: str = "text/html",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def static(body: bytes, content_type: str = "text/html") -> Route:
    return lambda h: h.reply(200, body, content_type)


def json_route(data: Any) -> Route:
    return static(json.dumps(data, ensure_ascii=False).encode(), "application/json")


def status(code: int) -> Route:
    return lambda h: h.reply(code, b"error", "text/plain")


def redirect(to: str) -> Route:
    return lambda h: h.reply(302, b"", "text/plain", {"Location": to})


def truncated(body: bytes) -> Route:
    """Announces the full length, sends half and closes: a truncated transfer."""

    def route(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[: len(body) // 2])
        h.wfile.flush()
        h.close_connection = True

    return route


def stalled(seconds: float) -> Route:
    """Answers nothing for longer than the crawl's download timeout (the server waits, the
    test does not: it only waits for the crawl to finish)."""

    def route(h: Handler) -> None:
        time.sleep(seconds)
        h.reply(200, b"<html><body>late</body></html>")

    return route


def page_file(path: Path, content_type: str = "text/html") -> Route:
    return static(path.read_bytes(), content_type)


def start(routes: dict[str, Route]) -> Server:
    server = Server(routes)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
