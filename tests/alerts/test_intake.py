"""A blind source reaches the admin once per outage, through the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.intake import report_blind_sources
from alerts.models import Notification
from alerts.sweep import AlertSetup
from crawler.health import coverage_gaps, record_run
from crawler.sources import SourceConfig, sync_sources

T = datetime(2026, 11, 29, 0, 0, tzinfo=timezone.utc)
ROSTER = {"people": {"wang": {"name": "王管理", "channels": ["json://127.0.0.1:9/"]}},
          "admin": "wang"}


def test_a_failing_source_is_reported_once_per_outage(session: Session) -> None:
    cfg = SourceConfig(name="bureau_site", kind="site", url="http://127.0.0.1/", max_failures=1)
    sid = sync_sources(session, [cfg], T)[0].id
    setup = AlertSetup(roster=ROSTER)
    assert report_blind_sources(session, setup, T) == 0
    record_run(session, sid, items=0, errors=1, pages=0, last_error="HTTP 500", now=T)
    assert report_blind_sources(session, setup, T + timedelta(minutes=1)) == 1
    assert report_blind_sources(session, setup, T + timedelta(minutes=30)) == 0
    notes = list(session.scalars(select(Notification).where(Notification.step == "source-down")))
    assert len(notes) == 1 and "bureau_site" in notes[0].body and "HTTP 500" in notes[0].body
    record_run(session, sid, items=2, errors=0, pages=2, last_error=None, now=T + timedelta(hours=1))
    record_run(session, sid, items=0, errors=1, pages=0, last_error="timeout",
               now=T + timedelta(hours=2))
    assert report_blind_sources(session, setup, T + timedelta(hours=2)) == 1  # a new outage


def test_a_source_removed_from_the_config_is_neither_judged_nor_reported(
        session: Session) -> None:
    kept = SourceConfig(name="bureau_site", kind="site", url="http://127.0.0.1/", max_failures=1)
    gone = SourceConfig(name="old_forum", kind="site", url="http://127.0.0.1/bbs", max_failures=1)
    _, gone_id = (s.id for s in sync_sources(session, [kept, gone], T))
    setup = AlertSetup(roster=ROSTER)
    record_run(session, gone_id, items=0, errors=1, pages=0, last_error="HTTP 404", now=T)
    # While configured, its failure is an outage; once removed, its gap ends and nothing more
    # is said of it, however long it stays silent.
    both = {"bureau_site", "old_forum"}
    assert report_blind_sources(session, setup, T + timedelta(minutes=1), both) == 1
    # five days on, the kept source's silence is an outage; the removed one's is not
    assert report_blind_sources(session, setup, T + timedelta(days=5), {"bureau_site"}) == 1
    gaps = {name: gap.ended_at for name, gap in coverage_gaps(session, T, T + timedelta(days=6))}
    assert gaps == {"old_forum": T + timedelta(days=5), "bureau_site": None}
    notes = session.scalars(select(Notification.body).where(Notification.step == "source-down"))
    assert sorted("old_forum" in body for body in notes) == [False, True]
