"""Deadline rows derived from the pure clocks, and the incident facts they depend on.

``alerts.clocks`` decides; this module reads an incident's facts from the database (severity
history, publications, waivers), stores each clock as a ``Deadline`` row with its indexed
``next_check_at`` and moves rows with compare-and-set updates, so two workers never both act on
one clock. Inner functions take a ``Session`` and never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from alerts.clocks import (ClockView, IncidentView, Step, T0Source, choose_t0, clocks_for,
                           next_check_at, status_at, steps_to_fire)
from alerts.models import (Acknowledgement, ClockKind, ClockState, Deadline, IncidentLink,
                           Notification, SeverityChange, T0Change)
from alerts.policy import DEFAULT_POLICY, Policy, load_policy
from analysis.incidents import IncidentTerms, advance, new_incident
from analysis.models import ACTIVE_STATUSES, Incident, IncidentStatus, Severity
from analysis.ownership import DEFAULT_OWNERSHIP, Ownership
# The one record of what was published is the response's publication step: the clocks read it
# there (and nothing else of ``responses``), which ``responses`` keeps in step by calling
# ``publication_recorded`` after each publication.
from responses.models import Response
from yuqing.core import audit
from yuqing.core.clock import SHANGHAI, ensure_aware, format_local

TICK = timedelta(microseconds=1)
SETTLED = frozenset({ClockState.MET_ON_TIME, ClockState.MET_LATE, ClockState.WAIVED})


class IncidentError(Exception):
    """An operator asked for something impossible (unknown incident, missing reason)."""


def policy_of(incident: Incident, fallback: Policy = DEFAULT_POLICY) -> Policy:
    """The policy copied onto the incident when it opened, else ``fallback``."""
    return load_policy(incident.policy_snapshot) if incident.policy_snapshot else fallback


def incident_view(session: Session, incident: Incident, now: datetime) -> IncidentView:
    """The facts of ``incident`` that its clocks depend on."""
    history = [(Severity(c.severity), c.at) for c in session.scalars(
        select(SeverityChange).where(SeverityChange.incident_id == incident.id))]
    if not history:  # opened by analysis before any regrading: its grade at grading time
        history = [(Severity(incident.severity), incident.graded_at or incident.detected_at)]
    published = published_kinds(session, incident.id)
    waived = {ClockKind(d.kind): d.waived_reason for d in session.scalars(
        select(Deadline).where(Deadline.incident_id == incident.id,
                               Deadline.waived_reason.is_not(None))) if d.waived_reason}
    # Rows closed before closing times were kept count as closed from ``now``.
    closed_at = None if incident.active else incident.closed_at or now
    return IncidentView(t_detected=incident.detected_at, severity_history=history,
                        t_event=incident.t_event, t_first_post=incident.t_first_post,
                        t_graded=incident.graded_at, responses=published, closed_at=closed_at,
                        waived=waived)


def published_kinds(session: Session, incident_id: int) -> list[tuple[ClockKind, datetime]]:
    """The incident's published responses as the clocks see them: clock kind and time."""
    return published_kinds_of(session, [incident_id]).get(incident_id, [])


def published_kinds_of(session: Session, incident_ids: Collection[int]
                       ) -> dict[int, list[tuple[ClockKind, datetime]]]:
    """``published_kinds`` of several incidents in one query, by incident id."""
    rows = session.execute(
        select(Response.incident_id, Response.clock_kind, Response.published_at)
        .where(Response.incident_id.in_(incident_ids), Response.state == "published",
               Response.clock_kind.is_not(None), Response.published_at.is_not(None))
        .order_by(Response.published_at, Response.id)).tuples()
    published: dict[int, list[tuple[ClockKind, datetime]]] = {}
    for incident_id, kind, at in rows:
        if kind is not None and at is not None:
            published.setdefault(incident_id, []).append((ClockKind(kind), at))
    return published


@dataclass(frozen=True)
class ClockUpdate:
    """One clock after a sync: its row, its view at ``now`` and the steps to send now."""

    row: Deadline
    clock: ClockView
    steps: tuple[Step, ...]
    first_sight: bool  # the row had never been swept (a new incident or a new level)


def sync_incident(session: Session, incident: Incident, now: datetime, *,
                  fallback: Policy = DEFAULT_POLICY, fire: bool = True) -> list[ClockUpdate]:
    """Bring the incident's deadline rows up to ``now``; with ``fire`` return the steps due.

    A row another worker moved first (its state or ``checked_at`` changed under us) is skipped:
    that worker owns those steps. Steps fall in ``(checked_at, now]``; a never-swept row starts
    just before its clock's floor so that catch-up steps placed at the floor fire.
    """
    clocks = clocks_for(incident_view(session, incident, now), policy_of(incident, fallback), now)
    rows = {(r.kind, r.sequence): r for r in session.scalars(
        select(Deadline).where(Deadline.incident_id == incident.id))}
    updates: list[ClockUpdate] = []
    for clock in clocks:
        row = rows.get((clock.kind.value, clock.sequence))
        first = row is None or row.checked_at is None
        since = row.checked_at if row is not None and row.checked_at else clock.floor - TICK
        steps = tuple(steps_to_fire([clock], since, now)) if fire else ()
        checked = now if fire else None
        moved = (_insert_row(session, incident, clock, now, checked) if row is None
                 else _move_row(session, row, clock, now, checked if fire else row.checked_at))
        if moved is not None:
            updates.append(ClockUpdate(moved, clock, steps, first))
    return updates


def _next_check(clock: ClockView, now: datetime, checked: datetime | None) -> datetime | None:
    # A row that has not fired its steps yet must be looked at by the next sweep.
    return now if checked is None else next_check_at([clock], now)


def _insert_row(session: Session, incident: Incident, clock: ClockView, now: datetime,
                checked: datetime | None) -> Deadline | None:
    row = Deadline(incident_id=incident.id, kind=clock.kind.value, sequence=clock.sequence,
                   severity=clock.severity.value, t0=clock.t0, due_at=clock.due_at,
                   met_at=clock.met_at, state=clock.state.value,
                   waived_reason=clock.waived_reason, created_at=now, checked_at=checked,
                   started_at=clock.started_at, next_check_at=_next_check(clock, now, checked))
    try:
        with session.begin_nested():  # a racing worker may insert the same clock first
            session.add(row)
    except IntegrityError:
        return None
    return row


def _move_row(session: Session, row: Deadline, clock: ClockView, now: datetime,
              checked: datetime | None) -> Deadline | None:
    """Compare-and-set: proceed only if nobody moved the row since we read it."""
    values = dict(state=clock.state.value, due_at=clock.due_at, met_at=clock.met_at,
                  t0=clock.t0, severity=clock.severity.value, started_at=clock.started_at,
                  checked_at=checked, next_check_at=_next_check(clock, now, checked))
    statement = _CAS_NULL if row.checked_at is None else _CAS_SEEN
    result = session.execute(statement, {"row_id": row.id, "old_state": row.state,
                                         "old_checked": row.checked_at, **values})
    if getattr(result, "rowcount", 0) != 1:
        return None
    for name, value in values.items():  # keep the loaded row in step without re-flushing it
        set_committed_value(row, name, value)
    return row


def _cas(seen: Any) -> Any:
    # Built once (compiled once): a Core UPDATE on the table, cheaper than an ORM update.
    table = _DEADLINES
    names = ("state", "due_at", "met_at", "t0", "severity", "started_at", "checked_at",
             "next_check_at")
    return (update(table).where(table.c.id == bindparam("row_id"),
                                table.c.state == bindparam("old_state"), seen)
            .values({name: bindparam(name, type_=table.c[name].type) for name in names}))


_DEADLINES = cast(Table, Deadline.__table__)
_CAS_NULL = _cas(_DEADLINES.c.checked_at.is_(None))
_CAS_SEEN = _cas(_DEADLINES.c.checked_at == bindparam(
    "old_checked", type_=_DEADLINES.c.checked_at.type))


def open_clocks(session: Session, incident: Incident, now: datetime,
                fallback: Policy = DEFAULT_POLICY) -> list[Deadline]:
    """Create the incident's deadline rows (no steps fired: the next sweep sends them)."""
    updates = sync_incident(session, incident, now, fallback=fallback, fire=False)
    session.flush()
    return [u.row for u in updates if u.clock.sequence == 0]


# --- services that change the facts ------------------------------------------------------------


def report_incident(session: Session, *, title: str, severity: Severity, t_event: datetime | None,
                    urls: Sequence[str], actor: str, now: datetime, policy: Policy,
                    is_drill: bool = False, topic: str | None = None,
                    ownership: Ownership = DEFAULT_OWNERSHIP) -> Incident:
    """人工上报: an incident reported by hand, with its clocks (audited); with a ``topic`` it
    gets that topic's owning section."""
    incident = new_incident(session, title=title, severity=severity, topic=topic,
                            t_event=t_event, t_first_post=None, now=now, actor=actor,
                            terms=IncidentTerms(policy.model_dump(mode="json"), ownership),
                            is_drill=is_drill)
    session.add(SeverityChange(incident_id=incident.id, severity=severity.value, at=now,
                               actor=actor, reason="人工上报"))
    for url in urls:
        session.add(IncidentLink(incident_id=incident.id, url=url, added_by=actor, added_at=now))
    audit.record(session, actor=actor, action="incident.report", object_type="incident",
                 object_id=incident.id, now=now,
                 details={"title": title, "severity": severity.value,
                          "t0": incident.t0.isoformat(), "t0_source": incident.t0_source,
                          "urls": list(urls), "drill": is_drill, "topic": topic,
                          "owning_section": incident.owning_section})
    open_clocks(session, incident, now, policy)
    return incident


def get_incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise IncidentError(f"事件不存在 / no incident #{incident_id}")
    return incident


def change_severity(session: Session, incident_id: int, severity: Severity, *, actor: str,
                    reason: str, now: datetime) -> Incident:
    """Regrade; the new level's clocks start from the same T0 (audited)."""
    incident = get_incident(session, incident_id)
    old = incident.severity
    if not session.scalars(select(SeverityChange.id).where(
            SeverityChange.incident_id == incident.id)).first():
        session.add(SeverityChange(incident_id=incident.id, severity=old, actor="system",
                                   at=incident.graded_at or incident.detected_at))
    session.add(SeverityChange(incident_id=incident.id, severity=severity.value, at=now,
                               actor=actor, reason=reason))
    incident.severity, incident.graded_at = severity.value, now
    audit.record(session, actor=actor, action="incident.severity", object_type="incident",
                 object_id=incident.id, now=now,
                 details={"from": old, "to": severity.value, "reason": reason})
    _recheck(session, incident.id, now)
    return incident


def correct_t0(session: Session, incident_id: int, t_event: datetime, *, actor: str, reason: str,
               now: datetime) -> Incident:
    """Correct the event time; the old T0 and due times stay in history (audited)."""
    if not reason.strip():
        raise IncidentError("更正 T0 必须说明理由 / a reason is required to correct T0")
    incident = get_incident(session, incident_id)
    return _change_t0(session, incident, t_event, incident.t_first_post, actor=actor,
                      reason=reason, now=now)


def move_first_post(session: Session, incident_id: int, t_first_post: datetime, *, reason: str,
                    now: datetime, details: dict[str, Any] | None = None) -> Incident:
    """A member published before the incident's first post joined it: the first post, and T0
    unless an officer gave the event time, move earlier with every clock's due (audited, the
    old T0 and due times kept). A clock whose new due has passed is overdue at once."""
    incident = get_incident(session, incident_id)
    if incident.t_first_post is not None and t_first_post >= incident.t_first_post:
        return incident
    return _change_t0(session, incident, incident.t_event, t_first_post, actor="system",
                      reason=reason, now=now, details=details)


def _change_t0(session: Session, incident: Incident, t_event: datetime | None,
               t_first_post: datetime | None, *, actor: str, reason: str, now: datetime,
               details: dict[str, Any] | None = None) -> Incident:
    rows = session.scalars(select(Deadline).where(Deadline.incident_id == incident.id)).all()
    t0, source = choose_t0(t_event, t_first_post, incident.detected_at)
    old_due = {f"{r.kind}:{r.sequence}": r.due_at.isoformat() for r in rows}
    session.add(T0Change(incident_id=incident.id, old_t0=incident.t0, old_source=incident.t0_source,
                         new_t0=t0, new_source=source.value, reason=reason, actor=actor, at=now,
                         old_due=old_due))
    audit.record(session, actor=actor, action="incident.t0", object_type="incident",
                 object_id=incident.id, now=now,
                 details={"from": incident.t0.isoformat(), "to": t0.isoformat(),
                          "old_source": incident.t0_source, "source": source.value,
                          "old_t_first_post": _iso(incident.t_first_post),
                          "t_first_post": _iso(t_first_post), "old_due": old_due,
                          "reason": reason, **(details or {})})
    incident.t_event, incident.t_first_post = t_event, t_first_post
    incident.t0, incident.t0_source = t0, source.value
    _recheck(session, incident.id, now)
    return incident


def close_incident(session: Session, incident_id: int, *, actor: str, reason: str,
                   now: datetime) -> Incident:
    """Close the incident: its clocks stop being checked, its undelivered notifications are
    held and nothing escalates while it stays closed (audited). Raises ``IncidentError`` for
    an unknown or already closed incident, or an empty reason."""
    if not reason.strip():
        raise IncidentError("关闭事件必须说明理由 / a reason is required to close an incident")
    incident = get_incident(session, incident_id)
    if not incident.active:
        raise IncidentError(f"事件 #{incident_id} 已关闭 / incident #{incident_id} is already "
                            f"closed (reopen it first)")
    before = incident.status
    incident.status = IncidentStatus.CLOSED.value
    incident.closed_at, incident.closed_by, incident.close_reason = now, actor, reason.strip()
    session.execute(update(Deadline).where(Deadline.incident_id == incident_id)
                    .values(next_check_at=None).execution_options(synchronize_session=False))
    held = session.execute(update(Notification).where(
        Notification.incident_id == incident_id, Notification.status == "pending")
        .values(next_attempt_at=None).execution_options(synchronize_session=False))
    audit.record(session, actor=actor, action="incident.close", object_type="incident",
                 object_id=incident_id, now=now,
                 details={"from": before, "reason": reason.strip(),
                          "held_notifications": int(getattr(held, "rowcount", 0) or 0)})
    session.flush()
    return incident


def reopen_incident(session: Session, incident_id: int, *, actor: str, reason: str,
                    now: datetime) -> Incident:
    """Reopen a closed incident: back to acknowledged (or open, if nobody acknowledged it),
    its clocks are checked at the next sweep, held notifications go out and pending
    escalations resume (audited; the closing stays in the audit log)."""
    if not reason.strip():
        raise IncidentError("重新打开事件必须说明理由 / a reason is required to reopen an incident")
    incident = get_incident(session, incident_id)
    if incident.active:
        raise IncidentError(f"事件 #{incident_id} 未关闭 / incident #{incident_id} is not closed")
    acked = session.scalars(select(Acknowledgement.id).where(
        Acknowledgement.incident_id == incident_id)).first() is not None
    closed = {"closed_at": _iso(incident.closed_at), "closed_by": incident.closed_by,
              "close_reason": incident.close_reason}
    incident.status = (IncidentStatus.ACKNOWLEDGED if acked else IncidentStatus.OPEN).value
    incident.closed_at = incident.closed_by = incident.close_reason = None
    session.execute(update(Notification).where(
        Notification.incident_id == incident_id, Notification.status == "pending",
        Notification.next_attempt_at.is_(None))
        .values(next_attempt_at=now).execution_options(synchronize_session=False))
    audit.record(session, actor=actor, action="incident.reopen", object_type="incident",
                 object_id=incident_id, now=now,
                 details={"to": incident.status, "reason": reason.strip(), **closed})
    _recheck(session, incident_id, now)
    return incident


# How far ahead of ``now`` a publication time may be: the clocks of the machines involved differ.
PUBLICATION_SKEW = timedelta(minutes=10)


def check_publication(incident: Incident, published_at: datetime, url: str | None,
                      now: datetime, tz: ZoneInfo = SHANGHAI) -> None:
    """Refuse a publication that cannot be true: after ``now`` (beyond the skew), before T0, or
    with a URL that is not http(s). Raises ``IncidentError`` with one line."""
    published_at, now = ensure_aware(published_at, "published_at"), ensure_aware(now, "now")
    if published_at > now + PUBLICATION_SKEW:
        raise IncidentError(f"发布时间晚于当前时间 / publication time {format_local(published_at, tz)} "
                            f"is after now ({format_local(now, tz)}); give the time it was "
                            f"published")
    if published_at < incident.t0:
        raise IncidentError(f"发布时间早于事件起算时间 / publication time "
                            f"{format_local(published_at, tz)} is before the incident's T0 "
                            f"({format_local(incident.t0, tz)}); correct T0 first if it is wrong")
    if url is not None and not _is_http_url(url):
        raise IncidentError(f"发布地址无效 / url {url[:80]!r} is not an http(s) address, "
                            f"e.g. https://sfj.example.gov.cn/xwfb/1.html")


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and " " not in url


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def publication_recorded(session: Session, incident_id: int, now: datetime) -> None:
    """A response of the incident was published (or filed): its clocks are recomputed by the
    next sweep. Called by ``responses`` in the unit of work that stored the publication."""
    incident = get_incident(session, incident_id)
    if incident.status != IncidentStatus.CLOSED:
        advance(incident, IncidentStatus.RESPONDING)
    _recheck(session, incident_id, now)


def waive_unmet(session: Session, incident_id: int, reason: str, *, actor: str,
                now: datetime) -> list[str]:
    """Waive every unmet clock of the incident with ``reason`` (a recorded decision not to
    publish); the clocks show 已豁免 and notify no more. Returns the waived clock keys (audited)."""
    rows = session.scalars(select(Deadline).where(
        Deadline.incident_id == incident_id, Deadline.met_at.is_(None),
        Deadline.waived_reason.is_(None))).all()
    for row in rows:
        row.waived_reason = reason
    keys = [f"{r.kind}:{r.sequence}" for r in rows]
    audit.record(session, actor=actor, action="clock.waive", object_type="incident",
                 object_id=incident_id, now=now, details={"clocks": keys, "reason": reason})
    _recheck(session, incident_id, now)
    return keys


def _recheck(session: Session, incident_id: int, now: datetime) -> None:
    # The facts changed: let the next sweep recompute every clock of the incident.
    session.flush()
    session.execute(update(Deadline).where(Deadline.incident_id == incident_id)
                    .values(next_check_at=now).execution_options(synchronize_session=False))
    if not session.scalars(select(Deadline.id).where(Deadline.incident_id == incident_id)).first():
        open_clocks(session, get_incident(session, incident_id), now)


# --- listing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockLine:
    """One row of ``yuqing clocks``."""

    incident_id: int
    title: str
    is_drill: bool
    kind: ClockKind
    sequence: int
    t0: datetime
    t0_source: T0Source
    due_at: datetime
    state: str
    seconds_left: int | None  # None once met or waived: nothing is left to count
    met_at: datetime | None = None
    late_cause: str | None = None  # "detected" / "graded": the clock started after its due

    def as_json(self) -> dict[str, Any]:
        return {"incident_id": self.incident_id, "title": self.title, "drill": self.is_drill,
                "kind": self.kind.value, "sequence": self.sequence,
                "t0": self.t0.isoformat(), "t0_source": self.t0_source.value,
                "due_at": self.due_at.isoformat(), "state": self.state,
                "seconds_left": self.seconds_left,
                "met_at": self.met_at.isoformat() if self.met_at else None,
                "late_cause": self.late_cause}


def list_clocks(session: Session, at: datetime, known: datetime,
                fallback: Policy = DEFAULT_POLICY) -> list[ClockLine]:
    """Every clock of the open incidents, as known at ``known``, in the state it has at ``at``.

    ``at`` may be before the incident was reported (``--now`` time travel): the clocks are those
    the incident has now, and each one's state is computed for ``at``.
    """
    lines: list[ClockLine] = []
    incidents = session.scalars(select(Incident).where(Incident.status.in_(ACTIVE_STATUSES))
                                .order_by(Incident.id))
    for incident in incidents:
        view = incident_view(session, incident, max(at, known))
        for clock in clocks_for(view, policy_of(incident, fallback), max(at, known)):
            met = clock.met_at if clock.met_at is not None and clock.met_at <= at else None
            state = status_at(clock.anchor, met, clock.rule, at,
                              waived=clock.waived_reason is not None)
            left = None if state in SETTLED else int((clock.due_at - at).total_seconds())
            lines.append(ClockLine(incident.id, incident.title, incident.is_drill, clock.kind,
                                   clock.sequence, clock.t0, clock.t0_source, clock.due_at,
                                   state.value, left, met, clock.late_cause))
    return lines
