"""Every read and write of the web app, in one place, over today's domain functions.

The views call only this module; it opens nothing itself (the caller passes the ``Session`` of
the request's unit of work) and holds no business rules beyond shaping rows for the pages.
When the application services land, this is the one module to repoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.clocks import IncidentView, T0Source, clocks_for, status_at
from alerts.deadlines import (SETTLED, ClockLine, IncidentError, list_clocks, policy_of,
                              published_kinds_of)
from alerts.models import (CLOCK_LABELS, CLOCK_STATE_LABELS, Acknowledgement, ClockKind,
                           Deadline, Notification, SeverityChange, T0Change)
from alerts.roster import Roster, current_roster, display_name, on_duty
from alerts.sweep import latest_acknowledgement
from analysis.models import (ACTIVE_STATUSES, SEVERITY_LABELS, FeedbackKind, Incident,
                             IncidentDocument, Severity)
from crawler.health import unhealthy_reason
from crawler.models import CoverageGap, Document, Source
from yuqing.core import audit
from yuqing.core.models import AuditEvent, Role
from yuqing.core.models import Person
from yuqing.services import feedback as feedback_service
from yuqing.services import incidents as services
from yuqing.services.feedback import FeedbackError
from yuqing.web.heat import Heat, heat
from yuqing.services.config import Config

__all__ = ["FeedbackError", "give_feedback", "feedback_of", "incident_of_document",
           "IncidentError", "Identity", "authenticate", "board", "clocks", "incident_detail",
           "acknowledge", "correct_incident_t0", "sources", "roster", "record_login",
           "record_failed_login", "roles_of", "person_exists"]

T0_LABELS = {T0Source.T_EVENT.value: "事件发生时间", T0Source.T_FIRST_POST.value: "首发帖文时间",
             T0Source.T_DETECTED.value: "系统发现时间"}


@dataclass(frozen=True)
class Identity:
    """Who is logged in: the account name and the roles it holds."""

    name: str
    roles: frozenset[Role]


def authenticate(session: Session, username: str, password: str) -> Identity | None:
    """The identity for a correct name and password of an active person who has a login; None
    otherwise. An unknown name costs one argon2 check too, so the time taken does not tell
    names apart."""
    person = session.scalar(select(Person).where(Person.name == username))
    if person is None or person.password_hash is None:
        _dummy_check(password)
        return None
    try:
        PasswordHasher().verify(person.password_hash, password)
    except VerificationError:
        return None
    if not person.active:
        return None
    return Identity(person.name, _roles(person))


def _roles(person: Person) -> frozenset[Role]:
    return frozenset(Role(r) for r in person.roles if r in Role._value2member_map_)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return PasswordHasher().hash("unknown-account-placeholder")


def _dummy_check(password: str) -> None:
    try:
        PasswordHasher().verify(_dummy_hash(), password)
    except VerificationError:
        pass


def roles_of(session: Session, name: str) -> frozenset[Role] | None:
    """The roles a person holds now (None: no such active person with a login), read on every
    request so that a disabled person or a changed role takes effect at once."""
    person = session.scalar(select(Person).where(Person.name == name))
    if person is None or not person.active or person.password_hash is None:
        return None
    return _roles(person)


def person_exists(session: Session, name: str) -> bool:
    return roles_of(session, name) is not None


def record_login(session: Session, name: str, ip: str, now: datetime) -> None:
    audit.record(session, actor=name, action="auth.login", object_type="user", object_id=name,
                 details={"ip": ip}, now=now)


def record_failed_login(session: Session, name: str, ip: str, reason: str, now: datetime) -> None:
    audit.record(session, actor=name[:64] or "-", action="auth.login_failed", object_type="user",
                 object_id=name[:64], details={"ip": ip, "reason": reason}, now=now)


def record_logout(session: Session, name: str, now: datetime) -> None:
    audit.record(session, actor=name, action="auth.logout", object_type="user", object_id=name,
                 details={}, now=now)


# --- board and clocks -------------------------------------------------------------------------


@dataclass
class BoardClock:
    incident_id: int
    kind: str
    label: str
    sequence: int
    due_at: datetime
    state: str
    state_label: str
    seconds_left: int | None
    met_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"incident_id": self.incident_id, "kind": self.kind, "sequence": self.sequence,
                "due_at": self.due_at.isoformat(), "state": self.state,
                "seconds_left": self.seconds_left,
                "met_at": self.met_at.isoformat() if self.met_at else None}


@dataclass
class BoardIncident:
    id: int
    title: str
    severity: str
    severity_label: str
    topic: str | None
    is_drill: bool
    t0: datetime
    t0_source: str
    acked_by: str | None
    clocks: list[BoardClock] = field(default_factory=list)
    owning_section: str | None = None  # 主管科室 (谁主管谁负责)

    @property
    def urgency(self) -> tuple[int, int, int]:
        """Sort key: the clock left shortest (overdue first), then severity, then age."""
        left = [c.seconds_left for c in self.clocks if c.seconds_left is not None]
        soonest = min(left) if left else 10 ** 12
        return (soonest, -Severity(self.severity).rank, self.id)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "severity": self.severity,
                "topic": self.topic, "drill": self.is_drill, "t0": self.t0.isoformat(),
                "t0_source": self.t0_source, "acked_by": self.acked_by,
                "owning_section": self.owning_section,
                "clocks": [c.as_json() for c in self.clocks]}


def _board_clock(line: ClockLine) -> BoardClock:
    return BoardClock(line.incident_id, line.kind.value, CLOCK_LABELS.get(line.kind, line.kind),
                      line.sequence, line.due_at, line.state,
                      CLOCK_STATE_LABELS.get(line.state, line.state), line.seconds_left,
                      line.met_at)


def clocks(session: Session, now: datetime, only: int | None = None) -> list[BoardClock]:
    """Every clock of the open incidents, in its state at ``now`` (what ``list_clocks`` gives,
    with the facts of all incidents read in four queries instead of three per incident: the
    board is polled by every open page)."""
    query = select(Incident).where(Incident.status.in_(ACTIVE_STATUSES)).order_by(Incident.id)
    if only is not None:  # one incident (its page), open or not
        query = select(Incident).where(Incident.id == only)
    incidents = list(session.scalars(query))
    ids = [i.id for i in incidents]
    history: dict[int, list[tuple[Severity, datetime]]] = {}
    published: dict[int, list[tuple[ClockKind, datetime]]] = {}
    waived: dict[int, dict[ClockKind, str]] = {}
    for chunk in _chunks(ids):
        for change in session.scalars(select(SeverityChange)
                                      .where(SeverityChange.incident_id.in_(chunk))):
            history.setdefault(change.incident_id, []).append(
                (Severity(change.severity), change.at))
        published.update(published_kinds_of(session, chunk))
        for row in session.scalars(select(Deadline).where(
                Deadline.incident_id.in_(chunk), Deadline.waived_reason.is_not(None))):
            if row.waived_reason:
                waived.setdefault(row.incident_id, {})[ClockKind(row.kind)] = row.waived_reason
    out: list[BoardClock] = []
    for incident in incidents:
        view = IncidentView(
            t_detected=incident.detected_at,
            severity_history=history.get(incident.id) or [
                (Severity(incident.severity), incident.graded_at or incident.detected_at)],
            t_event=incident.t_event, t_first_post=incident.t_first_post,
            t_graded=incident.graded_at, responses=published.get(incident.id, []),
            closed_at=None if incident.status in ACTIVE_STATUSES else (incident.closed_at or now),
            waived=waived.get(incident.id, {}))
        for clock in clocks_for(view, policy_of(incident), now):
            met = clock.met_at if clock.met_at is not None and clock.met_at <= now else None
            state = status_at(clock.anchor, met, clock.rule, now,
                              waived=clock.waived_reason is not None)
            left = None if state in SETTLED else int((clock.due_at - now).total_seconds())
            out.append(_board_clock(ClockLine(
                incident.id, incident.title, incident.is_drill, clock.kind, clock.sequence,
                clock.t0, clock.t0_source, clock.due_at, state.value, left, met,
                clock.late_cause)))
    return out


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def clocks_by_domain(session: Session, now: datetime) -> list[BoardClock]:
    """The same through ``alerts.deadlines.list_clocks`` (one query per fact per incident);
    the tests hold ``clocks`` to it."""
    return [_board_clock(line) for line in list_clocks(session, now, now)]


def board(session: Session, now: datetime) -> list[BoardIncident]:
    """The open incidents, most urgent first, each with its clocks."""
    acks = {incident_id: user for incident_id, user in session.execute(
        select(Acknowledgement.incident_id, Acknowledgement.user).order_by(Acknowledgement.id))}
    items: dict[int, BoardIncident] = {}
    for row in session.scalars(select(Incident).where(Incident.status.in_(ACTIVE_STATUSES))):
        items[row.id] = BoardIncident(row.id, row.title, row.severity,
                                      SEVERITY_LABELS.get(Severity(row.severity), row.severity),
                                      row.topic, row.is_drill, row.t0, row.t0_source,
                                      acks.get(row.id), owning_section=row.owning_section)
    for clock in clocks(session, now):
        if clock.incident_id in items:
            items[clock.incident_id].clocks.append(clock)
    return sorted(items.values(), key=lambda i: i.urgency)


# --- incident detail --------------------------------------------------------------------------


HEADING_CHARS = 40


@dataclass
class DocumentRow:
    id: int
    title: str
    url: str
    source: str | None
    published_at: datetime | None
    content: str
    reposts: list[DocumentRow] = field(default_factory=list)

    @property
    def heading(self) -> str:
        """The title; a post without one (Weibo has none) by its first words."""
        if self.title.strip():
            return self.title
        words = " ".join(self.content.split())
        if not words:
            return "（无标题）"
        return words if len(words) <= HEADING_CHARS else words[:HEADING_CHARS] + "…"


@dataclass
class IncidentDetail:
    incident: BoardIncident
    status: str
    t0_candidates: list[tuple[str, datetime | None, bool]]
    t0_changes: list[T0Change]
    documents: list[DocumentRow]
    notifications: list[Notification]
    audit: list[AuditEvent]
    heat: Heat | None = None  # documents per hour (reposts included), T0 marked


def _documents(session: Session, incident_id: int) -> tuple[list[DocumentRow], list[datetime]]:
    """The incident's documents, reposts folded under their original; and every document's
    time for the heat chart: its publish time, else when it was fetched (a page without a date
    still counts, at the time we saw it)."""
    rows = session.execute(
        select(Document, Source.name).join(IncidentDocument,
                                           IncidentDocument.document_id == Document.id)
        .outerjoin(Source, Source.id == Document.source_id)
        .where(IncidentDocument.incident_id == incident_id)
        .order_by(Document.published_at, Document.id)).tuples().all()
    by_id = {doc.id: DocumentRow(doc.id, doc.title, doc.url, name, doc.published_at,
                                 doc.content[:300]) for doc, name in rows}
    originals: list[DocumentRow] = []
    for doc, _ in rows:
        parent = by_id.get(doc.near_duplicate_of_id) if doc.near_duplicate_of_id else None
        if parent is not None and parent.id != doc.id:
            parent.reposts.append(by_id[doc.id])
        else:
            originals.append(by_id[doc.id])
    return originals, [doc.published_at or doc.fetched_at for doc, _ in rows]


def incident_detail(session: Session, incident_id: int, now: datetime) -> IncidentDetail | None:
    """Everything the incident page shows; None when there is no such incident."""
    row = session.get(Incident, incident_id)
    if row is None:
        return None
    item = BoardIncident(row.id, row.title, row.severity,
                         SEVERITY_LABELS.get(Severity(row.severity), row.severity), row.topic,
                         row.is_drill, row.t0, row.t0_source, None,
                         owning_section=row.owning_section)
    ack = latest_acknowledgement(session, row.id)
    item.acked_by = ack.user if ack else None
    item.clocks = clocks(session, now, only=row.id)
    candidates = [(T0_LABELS[T0Source.T_EVENT.value], row.t_event,
                   row.t0_source == T0Source.T_EVENT.value),
                  (T0_LABELS[T0Source.T_FIRST_POST.value], row.t_first_post,
                   row.t0_source == T0Source.T_FIRST_POST.value),
                  (T0_LABELS[T0Source.T_DETECTED.value], row.detected_at,
                   row.t0_source == T0Source.T_DETECTED.value),
                  ("定级时间", row.graded_at, False)]
    changes = list(session.scalars(select(T0Change).where(T0Change.incident_id == row.id)
                                   .order_by(T0Change.id)))
    notes = list(session.scalars(select(Notification).where(Notification.incident_id == row.id)
                                 .order_by(Notification.id).limit(200)))
    events = list(session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "incident", AuditEvent.object_id == str(row.id))
        .order_by(AuditEvent.seq).limit(500)))
    documents, times = _documents(session, row.id)
    return IncidentDetail(item, row.status, candidates, changes, documents, notes, events,
                          heat(times, row.t0))


def acknowledge(session: Session, incident_id: int, who: Identity, now: datetime,
                config: Config) -> int:
    """Acknowledge as ``who`` through the acknowledge service (the person's role is checked
    there, audited by the domain); the number of notifications confirmed. Raises
    ``IncidentError`` for an unknown incident or a person who may not acknowledge."""
    return services.acknowledge(session, config, incident_id, by=who.name, now=now).notifications


def correct_incident_t0(session: Session, incident_id: int, t_event: datetime, reason: str,
                        who: Identity, now: datetime, config: Config) -> None:
    """Correct the event time through the service (role checked there, audited); raises
    ``IncidentError`` on a missing reason or an unknown incident, ``PeopleError`` on a person
    who may not correct T0."""
    services.correct_t0(session, config, incident_id, t_event, reason=reason, by=who.name,
                        now=now)


# --- classification feedback ------------------------------------------------------------------

FEEDBACK_LABELS = {FeedbackKind.CONFIRM.value: "确认无误", FeedbackKind.FALSE_ALARM.value: "误报",
                   FeedbackKind.WRONG_TOPIC.value: "主题错误",
                   FeedbackKind.WRONG_SEVERITY.value: "等级错误"}


SEVERITY_CHOICES = {s.value: SEVERITY_LABELS[s] for s in Severity}


@dataclass(frozen=True)
class Verdict:
    """The newest feedback on a document, as the incident page shows it."""

    kind: str
    label: str
    by: str
    at: datetime
    topic: str | None
    severity: str | None


def give_feedback(session: Session, document_id: int, kind: str, who: Identity, now: datetime,
                  config: Config, *, topic: str = "", severity: str = "") -> int:
    """Record the verdict through the feedback service (role checked there, audited); the
    feedback's id. Raises ``FeedbackError`` or ``PeopleError`` with the reason."""
    return feedback_service.give_feedback(session, config, document_id, kind, by=who.name,
                                          now=now, topic=topic, severity=severity).feedback_id


def incident_of_document(session: Session, document_id: int, given: int | None) -> int | None:
    """The incident to go back to: ``given`` when the document belongs to it, else the
    document's first incident, else None."""
    if given is not None and session.get(IncidentDocument, (given, document_id)) is not None:
        return given
    return feedback_service.incident_of_document(session, document_id)


@dataclass(frozen=True)
class DocumentBrief:
    id: int
    title: str
    url: str


def document_brief(session: Session, document_id: int) -> DocumentBrief | None:
    doc = session.get(Document, document_id)
    return None if doc is None else DocumentBrief(doc.id, doc.title, doc.url)


def verdict_of(session: Session, document_id: int) -> Verdict | None:
    return feedback_of_ids(session, [document_id]).get(document_id)


def feedback_of(session: Session, documents: list[DocumentRow]) -> dict[int, Verdict]:
    """The newest verdict on each shown document (reposts included) that has one."""
    return feedback_of_ids(session, [d.id for doc in documents for d in (doc, *doc.reposts)])


def feedback_of_ids(session: Session, ids: list[int]) -> dict[int, Verdict]:
    return {doc_id: Verdict(row.kind, FEEDBACK_LABELS.get(row.kind, row.kind), row.by, row.at,
                            row.topic, row.severity)
            for doc_id, row in feedback_service.latest_feedback(session, ids).items()}


def incident_exists(session: Session, incident_id: int) -> bool:
    return session.get(Incident, incident_id) is not None


# --- sources and roster -----------------------------------------------------------------------


@dataclass
class SourceRow:
    name: str
    kind: str
    healthy: bool
    reason: str | None
    last_success_at: datetime | None
    last_item_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    gaps: list[CoverageGap]


def sources(session: Session, now: datetime) -> list[SourceRow]:
    """Each source's health at ``now`` and its ten latest coverage gaps."""
    gaps: dict[int, list[CoverageGap]] = {}
    for gap in session.scalars(select(CoverageGap).order_by(CoverageGap.started_at.desc())):
        gaps.setdefault(gap.source_id, [])
        if len(gaps[gap.source_id]) < 10:
            gaps[gap.source_id].append(gap)
    rows = []
    for src in session.scalars(select(Source).order_by(Source.name)):
        reason = unhealthy_reason(src, now)
        rows.append(SourceRow(src.name, src.kind, reason is None, reason, src.last_success_at,
                              src.last_item_at, src.consecutive_failures, src.last_error,
                              gaps.get(src.id, [])))
    return rows


@dataclass
class Duty:
    person: str | None
    name: str
    section: str | None
    start: datetime | None
    end: datetime | None


@dataclass
class RosterView:
    now: Duty | None
    next: Duty | None
    admin: str | None
    sections: dict[str, str]


def _duty(roster: Roster, person: str | None, start: datetime | None,
          end: datetime | None) -> Duty:
    who = roster.people.get(person) if person else None
    return Duty(person, display_name(roster, person), who.section if who else None, start, end)


def roster(session: Session, configured: Roster | None, now: datetime) -> RosterView:
    """Who is on duty at ``now`` and whose shift starts next."""
    current = current_roster(session, configured)
    person = on_duty(current, now)
    covering = [s for s in current.shifts if s.start <= now < s.end]
    shift = max(covering, key=lambda s: s.start) if covering else None
    now_duty = _duty(current, person, shift.start, shift.end) if shift else None
    upcoming = sorted((s for s in current.shifts if s.start > now), key=lambda s: s.start)
    nxt = _duty(current, upcoming[0].person, upcoming[0].start, upcoming[0].end) \
        if upcoming else None
    heads = {section: display_name(current, key) for section, key in current.sections.items()}
    return RosterView(now_duty, nxt, display_name(current, current.admin) or None, heads)


def open_incident_count(session: Session) -> int:
    return int(session.scalar(select(func.count(Incident.id))
                              .where(Incident.status.in_(ACTIVE_STATUSES))) or 0)


def settled(state: str) -> bool:
    return state in SETTLED
