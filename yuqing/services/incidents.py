"""Incident use cases: report by hand, list, grade, correct T0, acknowledge (publications are
steps of a response: ``services.respond``).

Each acting service takes the actor as ``by`` and checks it in one place, :func:`actor`, before
anything changes; a refusal raises ``IncidentError`` (one line for the user) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.deadlines import (IncidentError, change_severity, correct_t0 as _correct_t0,
                              report_incident)
from alerts.models import ClockKind
from alerts.roster import acting_person
from alerts.sweep import Acknowledged, acknowledge as _acknowledge
from analysis.models import Incident, IncidentDocument, Severity
from analysis.ownership import TOPICS
from yuqing.core.people import Action
from yuqing.services.config import Config

GRADES = tuple(s.value for s in Severity if s is not Severity.NONE)  # what an officer may give
CLOCK_KINDS = tuple(k.value for k in ClockKind)


def severity_of(code: str) -> Severity:
    """The grade a user typed (``major``); ``IncidentError`` naming the valid codes."""
    if code not in GRADES:
        raise IncidentError(f"等级无效 / unknown severity {code!r}: expected {', '.join(GRADES)}")
    return Severity(code)


def clock_kind_of(code: str) -> ClockKind:
    if code not in CLOCK_KINDS:
        raise IncidentError(f"类型无效 / unknown kind {code!r}: expected {', '.join(CLOCK_KINDS)}")
    return ClockKind(code)


_ACTIONS = {"grade": Action.GRADE, "correct_t0": Action.CORRECT_T0}


def actor(session: Session, by: str, action: str, config: Config, now: datetime) -> str:
    """Who acts, as recorded in the audit log: the one place an acting service checks its
    actor. Grading and correcting T0 need a person whose role allows the step
    (``yuqing.core.people``: ``UnknownPerson`` / ``PermissionDenied``, one line, nothing
    written); acknowledging is checked by ``alerts.sweep.acknowledge``; a hand report names
    who reported it."""
    if action in _ACTIONS:
        return acting_person(session, by, _ACTIONS[action], config.roster, now).name
    if not by.strip():
        raise IncidentError("操作人不能为空 / --by must name who acts")
    return by.strip()


@dataclass(frozen=True)
class Reported:
    incident_id: int


def report(session: Session, config: Config, *, title: str, severity: Severity,
           t_event: datetime | None, urls: Sequence[str], by: str, now: datetime,
           topic: str | None = None) -> Reported:
    """人工上报: an incident with its clocks under the configured policy; with a ``topic``
    (a classifier topic code) it gets that topic's owning section (the ownership map)."""
    if topic is not None and topic not in TOPICS:
        raise IncidentError(f"未知主题 / unknown topic {topic!r} (topics: {', '.join(TOPICS)})")
    who = actor(session, by, "report", config, now)
    incident = report_incident(session, title=title, severity=severity, t_event=t_event,
                               urls=urls, actor=who, now=now, policy=config.policy,
                               topic=topic, ownership=config.ownership)
    return Reported(incident.id)


@dataclass(frozen=True)
class Graded:
    incident_id: int
    severity: Severity


def grade(session: Session, config: Config, incident_id: int, severity: Severity, *,
          reason: str, by: str, now: datetime) -> Graded:
    """Regrade; a higher level's clocks start from the same T0."""
    who = actor(session, by, "grade", config, now)
    change_severity(session, incident_id, severity, actor=who, reason=reason, now=now)
    return Graded(incident_id, severity)


@dataclass(frozen=True)
class T0Corrected:
    incident_id: int
    t0: datetime


def correct_t0(session: Session, config: Config, incident_id: int, t_event: datetime, *,
               reason: str, by: str, now: datetime) -> T0Corrected:
    """The event time an officer gives; old T0 and due times stay in history."""
    who = actor(session, by, "correct_t0", config, now)
    row = _correct_t0(session, incident_id, t_event, actor=who, reason=reason, now=now)
    return T0Corrected(incident_id, row.t0)


def acknowledge(session: Session, config: Config, incident_id: int, *, by: str,
                now: datetime) -> Acknowledged:
    """Acknowledge for the incident: no step of it escalates for lack of acknowledgement any
    more and later ones go to that person (an overdue legal clock still escalates)."""
    return _acknowledge(session, incident_id, by, now, config.roster)


@dataclass(frozen=True)
class IncidentRow:
    id: int
    title: str
    severity: Severity
    status: str
    topic: str | None
    t0: datetime
    t0_source: str
    detected_at: datetime
    drill: bool
    documents: int
    owning_section: str | None = None  # 主管科室 (the ownership map of the incident's topic)


def list_incidents(session: Session, *, include_closed: bool = False) -> list[IncidentRow]:
    """Incidents in id order with their document counts; open ones only by default."""
    query = (select(Incident, func.count(IncidentDocument.document_id))
             .outerjoin(IncidentDocument, IncidentDocument.incident_id == Incident.id)
             .group_by(Incident.id).order_by(Incident.id))
    if not include_closed:
        query = query.where(Incident.status != "closed")  # acknowledged, responding: still open
    return [IncidentRow(i.id, i.title, Severity(i.severity), i.status, i.topic, i.t0,
                        i.t0_source, i.detected_at, i.is_drill, n, i.owning_section)
            for i, n in session.execute(query).tuples()]
