"""What follows a crawl: blind sources are reported to the admin (once per outage), and new
documents become incidents with their clocks (``analysis`` judges, ``alerts`` starts clocks)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.deadlines import change_severity, get_incident, move_first_post, open_clocks, sync_incident
from alerts.models import SeverityChange
from alerts.sweep import AlertSetup, source_unhealthy
from analysis.classify import Model
from analysis.models import Severity
from analysis.service import analyse_pending
from crawler.health import refresh_all
from crawler.models import CoverageGap, Source


def report_blind_sources(session: Session, setup: AlertSetup, now: datetime,
                         configured: Collection[str] | None = None) -> int:
    """Re-judge every source and notify the admin of each open coverage gap; the outbox key
    holds the gap's start, so an outage is reported once however often this runs. With
    ``configured``, sources removed from the config are neither judged nor reported."""
    refresh_all(session, now, configured)
    gaps = session.execute(select(Source.name, CoverageGap)
                           .join(Source, Source.id == CoverageGap.source_id)
                           .where(CoverageGap.ended_at.is_(None)))
    return sum(source_unhealthy(session, setup, source=name, reason=gap.reason,
                                since=gap.started_at, now=now) for name, gap in gaps)


@dataclass
class IntakeResult:
    classified: int
    sensitive: int
    opened: list[int]
    raised: list[int]
    moved_t0: list[int]  # incidents whose first post (and T0, clocks) moved earlier


def analyse_and_start_clocks(session: Session, setup: AlertSetup, now: datetime,
                             model: Model | None = None) -> IntakeResult:
    """Classify new documents; open incidents (with the policy snapshot and owning section)
    and their clocks; raised incidents get the new level's clocks from the same T0 (with the
    reason recorded)."""
    result = analyse_pending(session, now, model, terms=setup.terms())
    for incident_id in result.opened:
        incident = get_incident(session, incident_id)
        session.add(SeverityChange(incident_id=incident.id, severity=incident.severity, at=now,
                                   actor="system", reason="系统研判"))
        open_clocks(session, incident, now, setup.policy)
    for earlier in result.earlier:
        move_first_post(session, earlier.incident_id, earlier.published_at, now=now,
                        reason=f"发现更早的首发：文档 {earlier.document_id}",
                        details={"document": earlier.document_id,
                                 "not_used_for_t0": list(earlier.flagged)})
        sync_incident(session, get_incident(session, earlier.incident_id), now, fire=False)
    raised: list[int] = []
    for change in result.raised:
        incident = get_incident(session, change.incident_id)
        if Severity(incident.severity).rank < change.severity.rank:
            change_severity(session, incident.id, change.severity, actor="system",
                            reason=change.reason, now=now)
            open_clocks(session, incident, now, setup.policy)  # the new level's rows, now
            raised.append(incident.id)
    return IntakeResult(result.classified, result.sensitive, result.opened, raised,
                        sorted({e.incident_id for e in result.earlier}))
