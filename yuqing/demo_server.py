"""A tiny local news site on 127.0.0.1 for the demo (our own fictional pages)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from yuqing.core.clock import SHANGHAI

SITE_DIR = Path(__file__).parent / "demo_site"


class DemoSite:
    """Serves ``demo_site/`` with publish times placed relative to ``now``."""

    def __init__(self, now: datetime) -> None:
        local = now.astimezone(SHANGHAI)
        self.values = {
            "{published}": (local - timedelta(hours=2, minutes=10)).strftime("%Y-%m-%d %H:%M"),
            "{published_later}": (local - timedelta(hours=1)).strftime("%Y年%m月%d日 %H:%M"),
            "{published_old}": (local - timedelta(days=1)).strftime("%Y-%m-%d %H:%M"),
        }
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> DemoSite:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def page(self, path: str) -> bytes | None:
        name = path.split("?", 1)[0].rsplit("/", 1)[-1] or "index.html"
        if name == "robots.txt":
            return b"User-agent: *\nAllow: /\n"
        for candidate in (SITE_DIR / name, SITE_DIR / name.replace(".html", ".gbk.html")):
            if candidate.is_file():
                encoding = "gb18030" if candidate.name.endswith(".gbk.html") else "utf-8"
                text = candidate.read_bytes().decode(encoding)
                for key, value in self.values.items():
                    text = text.replace(key, value)
                return text.encode(encoding)
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                body = site.page(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/plain" if self.path.endswith(".txt")
                                 else "text/html")
                self.end_headers()
                self.wfile.write(body or b"not found")

            def log_message(self, *_: Any) -> None:
                pass

        return Handler
