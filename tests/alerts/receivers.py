"""Real notification receivers on 127.0.0.1: an SMTP server (aiosmtpd) and a JSON webhook.

Each records what arrived with the message key (``消息编号：…`` in the body), and can hold the
next delivery open (the sender is then "in the middle of a delivery") until released.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

KEY = re.compile(r"消息编号：(\S+)")


@dataclass(frozen=True)
class Arrival:
    channel: str  # "smtp" or the webhook path
    key: str | None
    title: str
    body: str
    stamp: Any  # what ``stamp()`` returned on arrival (e.g. the simulated time)
    attachments: tuple[tuple[str, bytes], ...] = ()  # (file name, content) of an e-mail


@dataclass
class Hold:
    """Hold the next ``count`` deliveries open until ``release`` is set."""

    armed: int = 0
    in_flight: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def arm(self) -> None:
        self.in_flight.clear()
        self.release.clear()
        self.armed = 1

    def maybe_wait(self) -> None:
        if self.armed:
            self.armed = 0
            self.in_flight.set()
            self.release.wait(20)


@dataclass
class Inbox:
    arrivals: list[Arrival] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stamp: Callable[[], Any] = lambda: None
    hold: Hold = field(default_factory=Hold)

    def add(self, channel: str, title: str, body: str,
            attachments: tuple[tuple[str, bytes], ...] = ()) -> None:
        match = KEY.search(body)
        with self.lock:
            self.arrivals.append(Arrival(channel, match.group(1) if match else None, title, body,
                                         self.stamp(), attachments))

    def keys(self) -> list[str | None]:
        with self.lock:
            return [a.key for a in self.arrivals]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Server(ThreadingHTTPServer):
    # The stock backlog of 5 stalls under concurrent senders (DESIGN §9).
    request_queue_size = 128
    daemon_threads = True
    allow_reuse_address = True


class Webhook:
    """JSON webhook receiver; ``status[path]`` makes a path answer with that HTTP status."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.status: dict[str, int] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                code = owner.status.get(self.path, 200)
                if code == 200:
                    owner.inbox.add(self.path, data.get("title", ""), data.get("message", ""))
                    owner.inbox.hold.maybe_wait()
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Smtp:
    """An SMTP server that records each message's subject, plain-text body and attachments."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.port = free_port()
        owner = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                part = message.get_body(preferencelist=("plain",))
                body = part.get_content() if part is not None else ""
                files = tuple((part.get_filename() or "", part.get_payload(decode=True) or b"")
                              for part in message.iter_attachments())
                owner.inbox.add("smtp", str(message["Subject"]), body, files)
                await asyncio.get_running_loop().run_in_executor(None, owner.inbox.hold.maybe_wait)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def url(self, to: str = "duty@bureau.test") -> str:
        return (f"mailto://127.0.0.1:{self.port}?from=yuqing@bureau.test&to={to}"
                f"&mode=insecure")

    def close(self) -> None:
        self.controller.stop()
