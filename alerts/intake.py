"""What follows a crawl: blind sources are reported to the admin (once per outage), and new
documents become incidents with their clocks (``analysis`` judges, ``alerts`` starts clocks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.sweep import AlertSetup, source_unhealthy
from crawler.health import refresh_all
from crawler.models import CoverageGap, Source


def report_blind_sources(session: Session, setup: AlertSetup, now: datetime) -> int:
    """Re-judge every source and notify the admin of each open coverage gap; the outbox key
    holds the gap's start, so an outage is reported once however often this runs."""
    refresh_all(session, now)
    gaps = session.execute(select(Source.name, CoverageGap)
                           .join(Source, Source.id == CoverageGap.source_id)
                           .where(CoverageGap.ended_at.is_(None)))
    return sum(source_unhealthy(session, setup, source=name, reason=gap.reason,
                                since=gap.started_at, now=now) for name, gap in gaps)
