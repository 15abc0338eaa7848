"""``yuqing run`` judges its sources on its own clock, not only after a crawl: a source that
goes silent while none of its crawls runs (a cron line that does not fire) is reported to the
admin as a coverage gap, once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from alerts.models import Notification
from crawler.models import CoverageGap, Source
from tests.alerts.conftest import T
from tests.alerts.receivers import Inbox, Webhook
from tests.yuqing import harness
from yuqing.core.db import make_engine, make_sessionmaker, session_scope


def test_a_source_silent_past_its_limit_is_reported_without_any_crawl_of_it(
        tmp_path: Path, webhook: Webhook, inbox: Inbox) -> None:
    server = harness.site(3)
    # Crawled once at start; its cron line (3:00 on 1 January) never fires in this test.
    source = {**harness.site_source(server), "cron": "0 3 1 1 *", "silence_hours": 1}
    url = harness.daemon_world(tmp_path, source, webhook.url, T)
    clock = tmp_path / "clock"
    daemon = harness.Daemon(tmp_path, harness.cli_env(tmp_path, url))
    daemon.start()
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        settled = daemon.heartbeat.with_name(daemon.heartbeat.name + ".settled")
        harness.wait_until(lambda: settled.exists(), "the first crawl and its analysis")
        with session_scope(sessions, readonly=True) as session:
            row = session.scalars(select(Source)).one()
            assert row.healthy and row.last_item_at is not None  # three articles at T

        harness.write_clock(clock, T + timedelta(minutes=50))  # within its hour of silence
        daemon.wait_caught_up(T + timedelta(minutes=50))
        with session_scope(sessions, readonly=True) as session:
            assert session.scalars(select(CoverageGap)).all() == []

        for minutes in (75, 90, 120):  # past it: reported at the next check, and only once
            harness.write_clock(clock, T + timedelta(minutes=minutes))
            daemon.wait_caught_up(T + timedelta(minutes=minutes))
        harness.wait_until(lambda: any("【数据源异常】bureau_site" in a.title
                                       for a in inbox.arrivals), "the admin's coverage-gap alert")
        with session_scope(sessions, readonly=True) as session:
            [gap] = session.scalars(select(CoverageGap)).all()
            sent = session.scalars(select(Notification).where(
                Notification.kind == "source_down")).all()
        assert "没有新内容" in gap.reason and gap.ended_at is None
        arrived = [a for a in inbox.arrivals if "【数据源异常】" in a.title]
        assert len(arrived) == 1 and arrived[0].channel.endswith("/wang")
        assert [n.recipient for n in sent] == ["wang"] and sent[0].status == "sent"
        with server.lock:
            assert server.hits.get("/list/1.html") == 1  # no crawl but the first one
        assert "source health check: 1 coverage gaps reported" in daemon.log()
    finally:
        daemon.stop()
        engine.dispose()
        harness.stop_server(server)
