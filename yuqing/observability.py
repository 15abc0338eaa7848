"""What `yuqing run` tells a monitoring system: ``/healthz`` and Prometheus ``/metrics``.

Served on a local port (``127.0.0.1`` by default) from a thread of the daemon. Counters of what
this process did (crawls, their durations, documents fetched) live in the process; everything
the database knows (incidents, open and overdue clocks, failed notifications, the last crawl of
each source) is read at each request, so a standby and a freshly restarted daemon report the
same figures as the active one.

``/healthz`` answers 200 when the database answers and the scheduler's loop has beaten within
``stale_after`` (a standby that is waiting for the lock counts as alive), 503 otherwise, with a
JSON body saying which part failed.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from alerts.models import ClockState, Deadline, Notification
from analysis.models import Incident
from crawler.models import Document, Source
from yuqing.core.clock import Clock, ensure_aware
from yuqing.core.db import session_scope

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPEN_STATES = (ClockState.PENDING, ClockState.DUE_SOON, ClockState.OVERDUE)


@dataclass
class Heartbeat:
    """The scheduler's loop, as the daemon reports it: its role and when it last beat."""

    role: str = "starting"  # starting, active, standby, stopping
    beat_at: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def beat(self, role: str, now: datetime) -> None:
        with self._lock:
            self.role, self.beat_at = role, ensure_aware(now, "now")

    def read(self) -> tuple[str, datetime | None]:
        with self._lock:
            return self.role, self.beat_at


class CrawlMetrics:
    """Counters of this process's crawls, kept in a registry of their own."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.crawls = Counter("yuqing_crawls", "采集次数 / crawls run, by outcome",
                              ["source", "outcome"], registry=registry)
        self.fetched = Counter("yuqing_documents_fetched", "采集到的新文档 / new documents "
                               "stored by crawls", ["source"], registry=registry)
        self.duration = Histogram("yuqing_crawl_duration_seconds", "采集耗时 / crawl duration",
                                  ["source"], registry=registry,
                                  buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800))

    def crawled(self, source: str, *, seconds: float, new_documents: int, ok: bool) -> None:
        self.crawls.labels(source, "ok" if ok else "failed").inc()
        self.fetched.labels(source).inc(max(new_documents, 0))
        self.duration.labels(source).observe(max(seconds, 0.0))


class DatabaseCollector(Collector):
    """Figures read from the database at each scrape."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions, self.clock = sessions, clock

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        try:
            with session_scope(self.sessions, readonly=True) as session:
                figures = _figures(session, now)
        except Exception as exc:  # a scrape must answer even when the database does not
            log.warning("metrics: database unreadable: %s", exc)
            up = GaugeMetricFamily("yuqing_database_up", "数据库可用 / database reachable")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("yuqing_database_up", "数据库可用 / database reachable")
        up.add_metric([], 1)
        yield up
        for name, help_text, value in (
                ("yuqing_documents", "已存文档 / documents stored", figures["documents"]),
                ("yuqing_incidents", "已立事件 / incidents opened", figures["incidents"]),
                ("yuqing_notifications_failed", "发送失败的通知 / notifications that failed",
                 figures["notifications_failed"])):
            counter = CounterMetricFamily(name, help_text)
            counter.add_metric([], value)
            yield counter
        open_clocks = GaugeMetricFamily("yuqing_clocks_open", "未办结的时限 / clocks not met",
                                        labels=["kind"])
        overdue = GaugeMetricFamily("yuqing_clocks_overdue", "已超时未办结 / clocks overdue",
                                    labels=["kind"])
        for kind, (count, late) in sorted(figures["clocks"].items()):
            open_clocks.add_metric([kind], count)
            overdue.add_metric([kind], late)
        yield open_clocks
        yield overdue
        last = GaugeMetricFamily("yuqing_source_last_success_timestamp_seconds",
                                 "数据源最近一次成功采集 / last successful crawl (Unix time)",
                                 labels=["source"])
        healthy = GaugeMetricFamily("yuqing_source_healthy", "数据源正常 / source healthy",
                                    labels=["source"])
        for source in figures["sources"]:
            if source["last_success_at"] is not None:
                last.add_metric([source["name"]], source["last_success_at"].timestamp())
            healthy.add_metric([source["name"]], 1 if source["healthy"] else 0)
        yield last
        yield healthy


def _figures(session: Session, now: datetime) -> dict[str, Any]:
    clocks: dict[str, tuple[int, int]] = {}
    rows = session.execute(
        select(Deadline.kind, func.count(),
               func.sum(case((Deadline.due_at < now, 1), else_=0)))
        .where(Deadline.met_at.is_(None), Deadline.state.in_(OPEN_STATES))
        .group_by(Deadline.kind))
    for kind, count, late in rows:
        clocks[kind] = (int(count), int(late or 0))
    return {
        "documents": session.scalar(select(func.count()).select_from(Document)) or 0,
        "incidents": session.scalar(select(func.count()).select_from(Incident)) or 0,
        "notifications_failed": session.scalar(
            select(func.count()).select_from(Notification)
            .where(Notification.status.in_(("failed", "unknown")))) or 0,
        "clocks": clocks,
        "sources": [{"name": s.name, "last_success_at": s.last_success_at, "healthy": s.healthy}
                    for s in session.scalars(select(Source).order_by(Source.name))],
    }


def health(sessions: sessionmaker[Session], heartbeat: Heartbeat, now: datetime, *,
           stale_after: timedelta) -> tuple[int, dict[str, Any]]:
    """The ``/healthz`` status and body."""
    role, beat_at = heartbeat.read()
    alive = beat_at is not None and now - beat_at <= stale_after
    body: dict[str, Any] = {
        "scheduler": {"role": role, "alive": alive,
                      "last_beat": beat_at.isoformat() if beat_at else None},
        "database": {"ok": False},
        "sources": [],
    }
    try:
        with session_scope(sessions, readonly=True) as session:
            session.execute(text("SELECT 1"))
            body["database"] = {"ok": True}
            body["sources"] = [
                {"name": s.name, "healthy": s.healthy,
                 "last_success": s.last_success_at.isoformat() if s.last_success_at else None,
                 "consecutive_failures": s.consecutive_failures, "last_error": s.last_error}
                for s in session.scalars(select(Source).order_by(Source.name))]
    except Exception as exc:
        body["database"] = {"ok": False, "error": str(exc).splitlines()[0]}
    ok = alive and body["database"]["ok"]
    body["ok"] = ok
    return (HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE), body


@dataclass
class Observability:
    """The daemon's status server and its crawl counters."""

    sessions: sessionmaker[Session]
    clock: Clock
    heartbeat: Heartbeat = field(default_factory=Heartbeat)
    stale_after: timedelta = timedelta(minutes=2)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    crawls: CrawlMetrics = field(init=False)
    _server: ThreadingHTTPServer | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.crawls = CrawlMetrics(self.registry)
        self.registry.register(DatabaseCollector(self.sessions, self.clock))

    def metrics_text(self) -> bytes:
        return generate_latest(self.registry)

    def health(self) -> tuple[int, dict[str, Any]]:
        return health(self.sessions, self.heartbeat, self.clock(), stale_after=self.stale_after)

    def serve(self, host: str = "127.0.0.1", port: int = 9108) -> tuple[str, int]:
        """Start serving in a daemon thread; returns the bound address (port 0 picks one)."""
        self._server = ThreadingHTTPServer((host, port), _handler(self.metrics_text, self.health))
        self._server.daemon_threads = True
        thread = threading.Thread(target=self._server.serve_forever, name="yuqing-status",
                                  daemon=True)
        thread.start()
        bound = self._server.server_address
        log.info("status server on http://%s:%d (/healthz, /metrics)", bound[0], bound[1])
        return str(bound[0]), int(bound[1])

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _handler(metrics: Callable[[], bytes],
             health_of: Callable[[], tuple[int, dict[str, Any]]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's name)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(HTTPStatus.OK, metrics(), CONTENT_TYPE)
            elif path == "/healthz":
                status, body = health_of()
                self._send(status, json.dumps(body, ensure_ascii=False).encode(),
                           "application/json; charset=utf-8")
            else:
                self._send(HTTPStatus.NOT_FOUND, "未找到：/healthz 或 /metrics\n".encode(),
                           "text/plain; charset=utf-8")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug("status server: " + format, *args)

    return Handler
