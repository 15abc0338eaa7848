"""Fixtures of the dashboard tests: a migrated SQLite file with a cast of accounts (one per
role), incidents reported through the domain services, the app on a ``ManualClock``, a
``TestClient`` per visitor and a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import re
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from alerts.deadlines import report_incident
from alerts.policy import DEFAULT_POLICY
from analysis.models import IncidentDocument, Severity
from crawler.models import Document, Source
from yuqing.core.clock import ManualClock
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.core.migrate import upgrade
from yuqing.core.settings import AppConfig, Settings
from yuqing.core.users import add_user
from yuqing.web.app import WebOptions, create_app

# Sunday 2026-11-29 08:00 in Beijing.
START = datetime(2026, 11, 29, 0, 0, tzinfo=timezone.utc)
PASSWORD = "Zhiban#2026-safe"
CAST = {"zhangsan": "duty_officer", "xuanchuan": "section", "gongkai": "office",
        "fujuzhang": "leader", "guanliyuan": "admin"}
ROLE_USER = {role: name for name, role in CAST.items()}

ROSTER = {
    "admin": "guanliyuan",
    "people": {
        "zhangsan": {"name": "张三", "section": "宣传科", "channels": ["json://127.0.0.1:9/x"]},
        "lisi": {"name": "李四", "section": "宣传科", "channels": ["json://127.0.0.1:9/y"]},
        "guanliyuan": {"name": "王管理员", "channels": ["json://127.0.0.1:9/z"]},
    },
    "sections": {"宣传科": "lisi"},
    "shifts": [
        {"person": "zhangsan", "start": "2026-11-28 08:30", "end": "2026-11-29 08:30"},
        {"person": "lisi", "start": "2026-11-29 08:30", "end": "2026-11-30 08:30"},
    ],
}

XSS_TITLE = '<script>document.title="pwned"</script>司法局回应<img src=x onerror="window.__xss=1">'
XSS_BODY = ('网传某律师事务所违规收费<script>window.__xss=2</script>'
            '<a href="javascript:window.__xss=3">点击查看</a>')


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with the cast of accounts, built once and copied for each test."""
    path = tmp_path_factory.mktemp("webdb") / "template.db"
    add_cast(f"sqlite:///{path}")
    return path


@dataclass
class World:
    """The database, clock and app of one test."""

    engine: Engine
    sessions: sessionmaker[Session]
    clock: ManualClock
    app: FastAPI
    url: str

    def add(self, fn: Callable[[Session], Any]) -> Any:
        with session_scope(self.sessions) as session:
            return fn(session)

    def incident(self, title: str = "网传某市司法考试考场泄题，考生质疑公平性",
                 severity: Severity = Severity.MAJOR, t_event: datetime | None = None,
                 drill: bool = False) -> int:
        def make(session: Session) -> int:
            row = report_incident(session, title=title, severity=severity,
                                  t_event=t_event or self.clock() - timedelta(hours=1),
                                  urls=[], actor="zhangsan", now=self.clock(),
                                  policy=DEFAULT_POLICY, is_drill=drill)
            return row.id
        return int(self.add(make))

    def document(self, incident_id: int, title: str, content: str, url: str,
                 repost_of: int | None = None, source: str | None = "weibo",
                 published_at: datetime | None = None) -> int:
        def make(session: Session) -> int:
            src_id = None
            if source:
                src = session.query(Source).filter_by(name=source).one_or_none()
                if src is None:
                    src = Source(name=source, kind="feed", url="https://weibo.example.cn/feed",
                                 config={}, created_at=self.clock(),
                                 last_success_at=self.clock(), last_item_at=self.clock())
                    session.add(src)
                    session.flush()
                src_id = src.id
            doc = Document(source_id=src_id, url=url, title=title, content=content,
                           published_at=published_at or self.clock() - timedelta(minutes=50),
                           fetched_at=self.clock(), near_duplicate_of_id=repost_of,
                           content_hash=hashlib.sha256((url + content).encode()).hexdigest())
            session.add(doc)
            session.flush()
            session.add(IncidentDocument(incident_id=incident_id, document_id=doc.id,
                                         added_at=self.clock()))
            return doc.id
        return int(self.add(make))


def build_world(template_db: Path, folder: Path) -> World:
    path = folder / "web.db"
    shutil.copy(template_db, path)
    return world_at(f"sqlite:///{path}")


def add_cast(url: str) -> None:
    """Migrate the database at ``url`` and add one account per role."""
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        for name, role in CAST.items():
            add_user(session, name, role, PASSWORD, actor="init", now=START)
    engine.dispose()


def world_at(url: str) -> World:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    clock = ManualClock(START)
    app = create_app(Settings(database_url=url), sessions, clock,
                     config=AppConfig(roster=ROSTER),
                     options=WebOptions(secret="test-secret-0123456789abcdef", poll_seconds=1))
    return World(engine, sessions, clock, app, url)


@pytest.fixture
def world(template_db: Path, tmp_path: Path) -> Iterator[World]:
    built = build_world(template_db, tmp_path)
    yield built
    built.engine.dispose()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD,
          next_: str = "/") -> Any:
    form = client.get("/login", params={"next": next_})
    return client.post("/login", data={"username": name, "password": password,
                                       "csrf": csrf_of(form.text), "next": next_},
                       follow_redirects=False)


@pytest.fixture
def client_for(world: World) -> Iterator[Callable[[str | None], TestClient]]:
    """A logged-in client for a role (None: anonymous)."""
    clients: list[TestClient] = []

    def make(role: str | None) -> TestClient:
        client = TestClient(world.app, follow_redirects=False)
        clients.append(client)
        if role is not None:
            response = login(client, ROLE_USER[role])
            assert response.status_code == 303, response.text
        return client

    yield make
    for client in clients:
        client.close()


@dataclass
class LiveServer:
    base_url: str
    world: World


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` under a real uvicorn on 127.0.0.1 (a free port), in a thread of this process
    (so the test moves the server's clock); yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    ready = threading.Event()
    for _ in range(1000):  # a bounded wait for the thread to start listening
        if server.started:
            ready.set()
            break
        ready.wait(0.01)
    assert ready.is_set(), "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def live_server(world: World) -> Iterator[LiveServer]:
    with serving(world.app) as base_url:
        yield LiveServer(base_url, world)


STATEMENT_PAGE = ("<html><head><meta charset='utf-8'><title>情况通报</title></head><body>"
                  "<h1>关于网传考场泄题一事的情况通报</h1><p>经核查，相关说法不实。</p>"
                  "</body></html>").encode()


@pytest.fixture(scope="session")
def statement_site() -> Iterator[str]:
    """The bureau's own site on 127.0.0.1: ``/xwfb/1.html`` is a published statement (the
    evidence a publication fetches); yields the statement's URL."""
    from tests.crawler.loopback import Server, static

    server = Server({"/xwfb/1.html": static(STATEMENT_PAGE, "text/html; charset=utf-8")})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{server.base}/xwfb/1.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
