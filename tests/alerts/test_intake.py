"""A blind source reaches the admin once per outage, through the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.intake import report_blind_sources
from alerts.models import Notification
from alerts.sweep import AlertSetup
from crawler.health import record_run
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
