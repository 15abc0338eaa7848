"""The embedded SQLite store takes concurrent writers: the daemon ticking and delivering while a
crawl stores its batches, with no "database is locked" and nothing fetched lost."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from alerts.deadlines import report_incident
from alerts.policy import load_policy
from analysis.models import Severity
from crawler.models import Document, Source
from tests.alerts.conftest import T
from tests.alerts.receivers import Webhook
from tests.yuqing import harness
from yuqing.core.db import make_engine, make_sessionmaker, retry_locked, session_scope
from yuqing.core.migrate import upgrade

ARTICLES = 600
INCIDENTS = 120
# Overdue notices every 5 minutes: each step of the simulated clock gives the daemon hundreds of
# notices to write and deliver while the crawl stores.
POLICY = {"overdue_repeat_minutes": 5, "reminders_before_minutes": [10],
          "escalation": ["duty_officer"], "ack_timeout_minutes": 600}


def test_a_session_takes_the_write_lock_when_it_begins(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: a unit of work that reads, then writes, cannot find its snapshot stale
    (SQLite then fails at once, busy timeout or not); another writer waits instead."""
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    upgrade(url)
    engine = make_engine(url)
    other = sqlite3.connect(tmp_path / "lock.db", timeout=0, isolation_level=None)
    with session_scope(make_sessionmaker(engine)) as session:
        session.scalar(select(func.count()).select_from(Document))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    with session_scope(make_sessionmaker(engine), readonly=True) as session:
        session.scalar(select(func.count()).select_from(Document))
        other.execute("BEGIN IMMEDIATE")  # a read-only unit of work leaves writers alone
        other.execute("COMMIT")
    other.close()
    engine.dispose()


def test_a_unit_of_work_locked_past_the_busy_timeout_runs_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'retry.db'}"
    upgrade(url)
    engine = make_engine(url, busy_timeout=0.05)
    holder = sqlite3.connect(tmp_path / "retry.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock, too long
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        holder.execute("COMMIT")  # ... and lets go while we wait

    def work() -> int:
        with session_scope(make_sessionmaker(engine)) as session:
            session.add(Source(name="s", kind="site", created_at=T, config={}))
        return 1

    assert retry_locked(work, sleep=wait) == 1
    assert waits == [1.0]
    with session_scope(make_sessionmaker(engine), readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 1
    holder.close()
    engine.dispose()


def test_a_hand_crawl_stores_everything_while_the_daemon_ticks(tmp_path: Path,
                                                               webhook: Webhook) -> None:
    server = harness.site(ARTICLES)
    config = {"sources": [harness.site_source(server)], "policy": POLICY, "roster": {
        "admin": "zhang", "people": {"zhang": {"name": "张三", "channels": [webhook.url("/z")]}},
        "shifts": [{"person": "zhang", "start": "2026-11-28 00:00", "end": "2026-12-31 00:00"}]}}
    (tmp_path / "yuqing.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    url = f"sqlite:///{tmp_path / 'yuqing.db'}"
    _incidents(url)
    env = harness.cli_env(tmp_path, url)
    daemon = harness.Daemon(tmp_path, env, extra=("--no-crawl",))
    now = T + timedelta(hours=6)  # every incident's 5-hour statement clock is overdue
    harness.write_clock(daemon.clock_file, now)
    daemon.start()
    try:
        # Each step sends many notices: under a loaded CI machine a tick can take a while, and
        # the wait is only a safety net (the subject is locking, not speed).
        daemon.wait_caught_up(now, timeout=300)
        crawl = harness.Command(["crawl", "-s", "bureau_site", "--json"], env, tmp_path)
        steps = 0
        while crawl.running():  # keep the daemon writing for as long as the crawl runs
            now += timedelta(minutes=5)
            harness.write_clock(daemon.clock_file, now)
            daemon.wait_caught_up(now, timeout=300)
            steps += 1
        crawl.wait()
    finally:
        daemon.stop()
        harness.stop_server(server)
    log = daemon.log()
    print(f"daemon steps during the crawl: {steps}, notices: {len(webhook.inbox.arrivals)}")
    assert steps >= 2, "the crawl ended before the daemon wrote anything"
    assert "locked" not in crawl.stderr + log, (crawl.stderr[-2000:], log[-2000:])
    runs = json.loads(crawl.stdout)
    assert [(r["new"], r["errors"]) for r in runs] == [(ARTICLES, 0)], runs
    assert _documents(url) == ARTICLES


def _incidents(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        for n in range(INCIDENTS):
            report_incident(session, title=f"网传某公证处违规办证事件{n}", severity=Severity.MAJOR,
                            t_event=T, urls=[], actor="zhang", now=T,
                            policy=load_policy(POLICY))
    engine.dispose()


def _documents(url: str) -> int:
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        count = session.scalar(select(func.count()).select_from(Document)) or 0
    engine.dispose()
    return count
