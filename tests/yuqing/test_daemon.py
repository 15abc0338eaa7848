"""``yuqing run`` crawls each source on its schedule and reports blind sources to the admin."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml
from sqlalchemy import func, select

from alerts.models import Notification
from analysis.models import Classification
from tests.crawler import loopback
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.core.migrate import upgrade
from yuqing.core.models import AuditEvent

RSS = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
       b"<item><title>\xe5\x8f\xb8\xe6\xb3\x95\xe5\xb1\x80\xe9\x80\x9a\xe6\x8a\xa5</title>"
       b"<link>http://127.0.0.1/n/1</link><description>d</description>"
       b"<pubDate>Sun, 29 Nov 2026 07:05:00 +0800</pubDate></item></channel></rss>")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _counts(url: str) -> tuple[int, int]:
    """Analysed documents and source-down notices."""
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        docs = session.scalar(select(func.count()).select_from(Classification)) or 0
        down = session.scalar(select(func.count()).select_from(Notification)
                              .where(Notification.step == "source-down")) or 0
    engine.dispose()
    return docs, down


def test_run_crawls_on_schedule_and_reports_a_dead_source(tmp_path: Path) -> None:
    server = loopback.start({"/feed.xml": loopback.static(RSS, "application/rss+xml")})
    config = {
        "sources": [
            {"name": "feed", "kind": "feed", "url": f"{server.base}/feed.xml"},
            {"name": "dead", "kind": "site", "url": f"http://127.0.0.1:{_closed_port()}/",
             "max_failures": 1},
        ],
        "roster": {"admin": "wang",
                   "people": {"wang": {"name": "王", "channels": ["json://127.0.0.1:9/"]}}},
    }
    (tmp_path / "yuqing.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    url = f"sqlite:///{tmp_path / 'run.db'}"
    upgrade(url)
    env = {**os.environ, "YUQING_DATABASE_URL": url,
           "YUQING_CONFIG": str(tmp_path / "yuqing.yaml")}
    daemon = subprocess.Popen([sys.executable, "-m", "yuqing.cli", "run", "--poll", "1",
                               "--log-format", "json"],
                              env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while _counts(url) != (1, 1) and time.monotonic() < deadline and daemon.poll() is None:
            time.sleep(0.2)  # waiting for the daemon's crawls, not for time to pass
        counts = _counts(url)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=60)
        server.shutdown()
        server.server_close()
    assert counts == (1, 1), err[-3000:]
    assert daemon.returncode == 0, err[-3000:]
    # Structured logs: one JSON object per line; each crawl's outcome names its source.
    records = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    outcomes = {r["source"]: r["outcome"] for r in records if "outcome" in r}
    assert outcomes == {"feed": "ok", "dead": "failed"}, err[-3000:]
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        changes = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "config.change")))
    engine.dispose()
    # The elected daemon recorded the config it runs on, once.
    assert [(e.details["by"], e.object_id) for e in changes] == [
        ("yuqing run", str(tmp_path / "yuqing.yaml")[-64:])]
