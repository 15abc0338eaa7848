"""Deadline rows for an incident (the side-effect layer over the legal rules)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.models import ClockKind, ClockState, Deadline
from analysis.models import Incident, Severity

# 国办发〔2016〕80号 / 61号: 特别重大/重大 → authoritative information in 5 h and a press
# conference in 24 h; other 政务舆情 → a response within 48 h.
LEGAL_CLOCKS: dict[Severity, tuple[tuple[ClockKind, timedelta], ...]] = {
    Severity.CRITICAL: ((ClockKind.STATEMENT, timedelta(hours=5)),
                        (ClockKind.PRESS_CONFERENCE, timedelta(hours=24))),
    Severity.MAJOR: ((ClockKind.STATEMENT, timedelta(hours=5)),
                     (ClockKind.PRESS_CONFERENCE, timedelta(hours=24))),
    Severity.SERIOUS: ((ClockKind.RESPONSE, timedelta(hours=48)),),
    Severity.GENERAL: (),
}


def open_clocks(session: Session, incident: Incident, now: datetime) -> list[Deadline]:
    """Add the incident's legal clocks from its T0 (existing kinds are left as they are)."""
    existing = set(session.scalars(select(Deadline.kind).where(
        Deadline.incident_id == incident.id)))
    created: list[Deadline] = []
    for kind, after in LEGAL_CLOCKS.get(Severity(incident.severity), ()):
        if kind.value in existing:
            continue
        due = incident.t0 + after
        row = Deadline(incident_id=incident.id, kind=kind.value, sequence=0,
                       severity=incident.severity, t0=incident.t0, due_at=due,
                       state=ClockState.OVERDUE.value if due <= now else ClockState.PENDING.value,
                       next_check_at=due, created_at=now)
        session.add(row)
        created.append(row)
    session.flush()
    return created
