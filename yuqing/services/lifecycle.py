"""The incident's life: open → acknowledged → responding → closed, and reopening.

Acknowledging (``alerts.sweep.acknowledge``) and recording a publication
(``alerts.deadlines.record_publication``) move an incident forward; closing and reopening are
the steps here. Each takes the acting person's name, refused by ``yuqing.core.people.require``
(unknown person, or a role that may not close or reopen) before anything changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from alerts.deadlines import close_incident, reopen_incident
from yuqing.core.people import Action, require


@dataclass(frozen=True)
class LifeStep:
    incident_id: int
    status: str
    by: str
    at: datetime


def close(session: Session, incident_id: int, *, by: str, reason: str, now: datetime) -> LifeStep:
    """``by`` closes the incident for ``reason``: its clocks send no more reminders and nothing
    escalates. Raises ``PeopleError`` or ``alerts.deadlines.IncidentError`` (one line)."""
    person = require(session, by, Action.CLOSE)
    incident = close_incident(session, incident_id, actor=person.name, reason=reason, now=now)
    return LifeStep(incident.id, incident.status, person.name, now)


def reopen(session: Session, incident_id: int, *, by: str, reason: str,
           now: datetime) -> LifeStep:
    """``by`` reopens a closed incident for ``reason``; its clocks and escalations resume."""
    person = require(session, by, Action.REOPEN)
    incident = reopen_incident(session, incident_id, actor=person.name, reason=reason, now=now)
    return LifeStep(incident.id, incident.status, person.name, now)
