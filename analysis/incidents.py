"""Incidents as rows: open one for a group of documents, keeping every T0 candidate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from analysis.models import Incident, IncidentDocument, Severity
from analysis.t0 import choose_t0
from crawler.models import Document
from yuqing.core import audit


def open_incident(session: Session, *, title: str, severity: Severity, topic: str | None,
                  documents: Sequence[Document], now: datetime, t_event: datetime | None = None,
                  actor: str = "system", is_drill: bool = False) -> Incident:
    """Create an incident linked to ``documents``; T0 from the earliest reliable publish time."""
    published = [d.published_at for d in documents if d.published_at is not None and
                 d.published_at <= now]
    t_first_post = min(published) if published else None
    t0, t0_source = choose_t0(t_event, t_first_post, now)
    incident = Incident(
        title=title, topic=topic, severity=severity.value, status="open", t_event=t_event,
        t_first_post=t_first_post, detected_at=now, graded_at=now, t0=t0, t0_source=t0_source,
        is_drill=is_drill, reported_by=actor, created_at=now, policy_snapshot={},
    )
    session.add(incident)
    session.flush()
    for rank, doc in enumerate(documents):
        session.add(IncidentDocument(incident_id=incident.id, document_id=doc.id, added_at=now,
                                     rank=rank))
    audit.record(session, actor=actor, action="incident.open", object_type="incident",
                 object_id=incident.id, now=now,
                 details={"title": title, "severity": severity.value, "t0": t0.isoformat(),
                          "t0_source": t0_source, "documents": [d.id for d in documents]})
    session.flush()
    return incident
