"""The side-effect layer over the pure clocks: one sweep moves clocks and fills the outbox.

``sweep(session, now, setup)`` selects the incidents whose deadline rows have an indexed
``next_check_at`` that has passed, recomputes their clocks (``alerts.deadlines.sync_incident``,
compare-and-set on each row) and writes one ``Notification`` outbox row per step and recipient
in the same transaction. The idempotency key ``incident:step:recipient`` is UNIQUE and rows are
inserted with ON CONFLICT DO NOTHING, so a step reaches a person at most once however many
sweeps or schedulers race. It then escalates notifications left unacknowledged past the policy's
timeout to the next rung of the chain. Nothing here sends: ``alerts.notify`` delivers the outbox.

Escalation has a cause (``Notification.escalate_cause``). *Unacknowledged*: a step queued while
nobody has acknowledged the incident goes up the chain after ``policy.ack_timeout_minutes``; an
acknowledgement belongs to the incident, so it stops these for every step, earlier or later, and
later steps go to the person who acknowledged (when the roster can reach them). *Overdue*: the
first overdue notice of a legal clock goes up the chain after the same timeout whoever
acknowledged, rung by rung, until the clock is met or waived; its repeats do not escalate.
*Undelivered*: a notification no channel took goes up at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from alerts.clocks import ClockView, Step, StepKind
from alerts.console import escalated_title, render_notification, step_title
from alerts.deadlines import ClockUpdate, IncidentError, get_incident, policy_of, sync_incident
from alerts.models import (Acknowledgement, ClockState, Deadline, EscalationCause, IncidentLink,
                           Notification)
from alerts.policy import DEFAULT_POLICY, Policy
from alerts.roster import (Roster, Rung, acting_person, chain, current_roster, display_name,
                           gap_around, leader_for_gap, parse_roster)
from analysis.incidents import IncidentTerms, advance
from analysis.models import Incident, IncidentDocument, IncidentStatus, Severity
from analysis.ownership import DEFAULT_OWNERSHIP, Ownership
from crawler.models import Document
from yuqing.core import audit
from yuqing.core.people import Action, PeopleError
from yuqing.core.clock import SHANGHAI, format_local

NOBODY = "-"
# (kind, idempotency key, channel) -> the files that message carries.
Attachments = Callable[[str, str, str], Sequence[Path]]


@dataclass(frozen=True)
class AlertSetup:
    """What the alert services need from settings and config (read once at the entry point)."""

    policy: Policy = DEFAULT_POLICY  # for incidents opened without a policy snapshot
    roster: Roster = field(default_factory=Roster)  # the config's roster section
    dashboard_url: str | None = None  # alerts link to it only when one is configured
    tz: ZoneInfo = SHANGHAI
    ownership: Ownership = DEFAULT_OWNERSHIP  # topic -> owning section (谁主管谁负责)
    # (kind, idempotency key, channel) -> files sent with that message (a report's .docx by
    # e-mail); raises NotificationError when a file is missing. None: nothing is attached.
    attachments: Attachments | None = None

    def terms(self) -> IncidentTerms:
        """What a new incident copies: the policy (later edits never move running clocks) and
        the topic owners."""
        return IncidentTerms(self.policy.model_dump(mode="json"), self.ownership)

    def __post_init__(self) -> None:
        # Validated once here, never per sweep; a mapping (tests, benchmarks) is parsed now.
        if not isinstance(self.roster, Roster):
            object.__setattr__(self, "roster", parse_roster(self.roster))


@dataclass
class SweepResult:
    incidents: int = 0
    notifications: int = 0
    escalations: int = 0
    changed: list[Deadline] = field(default_factory=list)


_GRAVEST_FIRST = case({Severity.CRITICAL.value: 0, Severity.MAJOR.value: 1,
                       Severity.SERIOUS.value: 2}, value=Incident.severity, else_=3)


def sweep(session: Session, now: datetime, setup: AlertSetup, *, limit: int = 500,
          only_incident: int | None = None) -> SweepResult:
    """Process up to ``limit`` incidents whose clocks need a look at ``now``, then escalations
    (``only_incident``: that one alone, as a drill does on its own simulated time)."""
    roster = current_roster(session, setup.roster)
    result = SweepResult()
    waiting = select(Deadline.incident_id).where(Deadline.next_check_at <= now)
    if only_incident is not None:
        waiting = waiting.where(Deadline.incident_id == only_incident)
    # The gravest first: a new 重大 incident is never left for a later batch behind routine ones.
    ids = list(session.scalars(select(Incident.id).where(Incident.id.in_(waiting))
                               .order_by(_GRAVEST_FIRST, Incident.id).limit(limit)))
    for incident_id in ids:
        incident = session.get(Incident, incident_id)
        if incident is None:
            continue
        if not incident.active:
            _park(session, incident_id)
            continue
        updates = sync_incident(session, incident, now, fallback=setup.policy)
        result.incidents += 1
        result.changed.extend(u.row for u in updates)
        result.notifications += _enqueue_steps(session, incident, updates, roster, now, setup)
    result.escalations = escalate(session, now, roster, setup, only_incident=only_incident)
    session.flush()
    return result


def _park(session: Session, incident_id: int) -> None:
    # A closed incident sends nothing more; its rows stay for reports.
    session.execute(update(Deadline).where(Deadline.incident_id == incident_id)
                    .values(next_check_at=None).execution_options(synchronize_session=False))


@dataclass(frozen=True)
class _Planned:
    """One step about to be queued for the first rung."""

    step_id: str
    at: datetime
    deadline_id: int | None = None
    left: timedelta | None = None  # to the clock's due, at the step's time (what a reminder says)
    overdue: bool = False  # the first overdue notice of a legal clock


def _enqueue_steps(session: Session, incident: Incident, updates: Sequence[ClockUpdate],
                   roster: Roster, now: datetime, setup: AlertSetup) -> int:
    policy = policy_of(incident, setup.policy)
    clocks = [u.clock for u in updates if u.clock.notifies]
    planned: list[_Planned] = []
    if any(u.first_sight and u.clock.sequence == 0 and u.clock.notifies for u in updates):
        planned.append(_Planned(f"graded-{incident.severity}", now))
    ack = latest_acknowledgement(session, incident.id)
    for update_ in updates:
        clock = update_.clock
        for step in update_.steps:
            if not _repeat_stopped(step, clock, ack.at if ack else None):
                planned.append(_Planned(step.step_id, step.at, update_.row.id,
                                        clock.due_at - step.at, _overdue_escalates(step, clock)))
    return sum(_enqueue_first_rung(session, incident, p, clocks, roster, policy, now, setup, ack)
               for p in planned)


def latest_acknowledgement(session: Session, incident_id: int) -> Acknowledgement | None:
    """The incident's newest acknowledgement; None: nobody has acknowledged it."""
    return session.scalars(select(Acknowledgement).where(
        Acknowledgement.incident_id == incident_id)
        .order_by(Acknowledgement.at.desc(), Acknowledgement.id.desc()).limit(1)).first()


def _repeat_stopped(step: Step, clock: ClockView, acked_at: datetime | None) -> bool:
    """An acknowledgement given once the clock was overdue stops its further overdue repeats."""
    return (step.kind is StepKind.OVERDUE and step.number > 1 and acked_at is not None
            and acked_at > clock.due_at)


def _overdue_escalates(step: Step, clock: ClockView) -> bool:
    # The notice that a legal clock has passed its due (the first one, or the one a clock that
    # started late catches up with); repeats only remind, internal targets never escalate.
    return (step.kind is StepKind.OVERDUE and (step.number == 1 or step.catch_up)
            and not clock.rule.internal)


def _first_recipient(rungs: Sequence[Rung], roster: Roster,
                     ack: Acknowledgement | None) -> tuple[int | None, str | None]:
    """(rung, person) a new step goes to: whoever acknowledged the incident if the roster can
    reach them (their rung, else the first), else the first filled rung of the chain."""
    if ack is not None:
        person = roster.people.get(ack.user)
        if person is not None and person.channels:
            return next((i for i, r in enumerate(rungs) if r.person == ack.user), 0), ack.user
    level = next((i for i, r in enumerate(rungs) if r.person), None)
    return level, rungs[level].person if level is not None else None


def _enqueue_first_rung(session: Session, incident: Incident, planned: _Planned,
                        clocks: Sequence[ClockView], roster: Roster, policy: Policy,
                        now: datetime, setup: AlertSetup, ack: Acknowledgement | None) -> int:
    rungs = chain(roster, now, policy.escalation, incident.owning_section)
    count = 0
    if rungs and rungs[0].person is None:
        count += _report_gap(session, roster, policy, now)
    level, person = _first_recipient(rungs, roster, ack)
    cause = (EscalationCause.OVERDUE if planned.overdue
             else EscalationCause.UNACKNOWLEDGED if ack is None else None)
    key = f"{incident.id}:{planned.step_id}:{person or NOBODY}"
    title = step_title(planned.step_id, incident, left=planned.left)
    body = render_notification(incident, clocks, planned.at, setup.tz, step_id=planned.step_id,
                               key=key, links=top_links(session, incident.id),
                               dashboard_url=setup.dashboard_url, left=planned.left)
    climbs = cause is not None and level is not None and level + 1 < len(rungs)
    count += enqueue(session, roster, key=key,
                     recipient=person, incident_id=incident.id, deadline_id=planned.deadline_id,
                     step=planned.step_id, kind="step", level=level or 0, title=title, body=body,
                     scheduled_at=planned.at, now=now,
                     escalate_at=now + timedelta(minutes=policy.ack_timeout_minutes)
                     if climbs else None, escalate_cause=cause if climbs else None)
    return count


def top_links(session: Session, incident_id: int, limit: int = 3) -> list[str]:
    """The incident's top documents (by rank), then the links given when it was reported."""
    docs = session.execute(select(Document.title, Document.url).join(
        IncidentDocument, IncidentDocument.document_id == Document.id).where(
        IncidentDocument.incident_id == incident_id).order_by(IncidentDocument.rank)
        .limit(limit)).all()
    links = [f"{title} {url}".strip() for title, url in docs]
    links += list(session.scalars(select(IncidentLink.url).where(
        IncidentLink.incident_id == incident_id).order_by(IncidentLink.id)))
    return links[:limit]


def enqueue(session: Session, roster: Roster, *, key: str, recipient: str | None,
            incident_id: int | None, deadline_id: int | None, step: str, kind: str, level: int,
            title: str, body: str, scheduled_at: datetime, now: datetime,
            escalate_at: datetime | None = None, parent_id: int | None = None,
            escalate_cause: EscalationCause | None = None) -> int:
    """Insert one outbox row unless its idempotency key exists; returns 1 if inserted.

    A recipient without any channel gets a row that is ``failed`` at once (visible in
    ``yuqing alerts``) and escalates immediately.
    """
    person = roster.people.get(recipient) if recipient else None
    channels = person.channels if person else ()
    values: dict[str, Any] = dict(
        idempotency_key=key, incident_id=incident_id, deadline_id=deadline_id,
        recipient=recipient or NOBODY, channel=channels[0] if channels else "", step=step,
        kind=kind, level=level, title=title, body=body, scheduled_at=scheduled_at,
        attempts=0, channel_index=0, parent_id=parent_id, status="pending", next_attempt_at=now,
        escalate_at=escalate_at, escalate_cause=escalate_cause)
    if not channels:
        reason = "值班表中无此岗位人员 / nobody on the roster" if person is None else \
            "此人没有通知渠道 / no channel for this person"
        values.update(status="failed", error=reason, next_attempt_at=None)
        if incident_id is not None:  # nobody could be told: up the chain at once
            values.update(escalate_at=now, escalate_cause=undelivered(escalate_cause))
    return _insert_ignore(session, values)


def undelivered(cause: EscalationCause | str | None) -> EscalationCause:
    """The cause of a notification nobody could be told; an overdue clock stays the cause."""
    return (EscalationCause.OVERDUE if cause == EscalationCause.OVERDUE
            else EscalationCause.UNDELIVERED)


def _insert_ignore(session: Session, values: dict[str, Any]) -> int:
    dialect = session.get_bind().dialect.name
    statement = _INSERT_IGNORE.get(dialect)
    if statement is None:
        raise RuntimeError(f"unsupported database {dialect}: SQLite or PostgreSQL")
    # RETURNING yields no row when the key existed (rowcount is not reliable across drivers).
    inserted = session.execute(statement, values).first()
    return 0 if inserted is None else 1


def _insert_ignore_statement(insert_: Any) -> Any:
    # Built once per dialect so it compiles once; values come as parameters.
    table = Notification.__table__
    return insert_(table).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(
        table.c.id)


_INSERT_IGNORE = {"postgresql": _insert_ignore_statement(pg_insert),
                  "sqlite": _insert_ignore_statement(sqlite_insert)}


def _report_gap(session: Session, roster: Roster, policy: Policy, now: datetime) -> int:
    """An empty duty slot is itself an alert, to the first leader above the duty officer."""
    leader = leader_for_gap(roster, now, policy.escalation)
    start, end = gap_around(roster, now)
    slot = f"{format_local(start)} 至 {format_local(end)}"
    key = f"roster-gap:{start.isoformat() if start else 'open'}:{leader or NOBODY}"
    return enqueue(session, roster, key=key, recipient=leader, incident_id=None,
                   deadline_id=None, step="roster-gap", kind="roster_gap", level=0,
                   title="【值班表空缺】当前无值班员", scheduled_at=now, now=now,
                   body=f"值班表空缺：{slot} 无人值班，预警已转至上一级。请尽快安排值班。")


def escalate(session: Session, now: datetime, roster: Roster, setup: AlertSetup,
             *, limit: int = 500, only_incident: int | None = None) -> int:
    """Notifications whose escalation time has come go to the next person of the chain (an
    acknowledgement clears the time of those that escalate for lack of one)."""
    # A closed incident's escalations wait (its rows keep their time): reopening resumes them.
    query = (select(Notification).outerjoin(Incident, Incident.id == Notification.incident_id)
             .where(Notification.escalate_at <= now,
                    or_(Notification.incident_id.is_(None),
                        Incident.status != IncidentStatus.CLOSED.value)))
    if only_incident is not None:
        query = query.where(Notification.incident_id == only_incident)
    due = list(session.scalars(query.order_by(Notification.escalate_at).limit(limit)))
    count = 0
    for note in due:
        won = session.execute(update(Notification).where(
            Notification.id == note.id, Notification.escalate_at.is_not(None))
            .values(escalate_at=None).execution_options(synchronize_session=False))
        if getattr(won, "rowcount", 0) == 1:
            count += _escalate_one(session, note, now, roster, setup)
    return count


def _cause_holds(session: Session, note: Notification, cause: EscalationCause) -> bool:
    """Whether the reason to escalate still stands (another process may have changed it)."""
    if cause is EscalationCause.UNDELIVERED:
        return True
    if cause is EscalationCause.UNACKNOWLEDGED:
        return note.incident_id is None or latest_acknowledgement(session, note.incident_id) is None
    row = session.get(Deadline, note.deadline_id) if note.deadline_id else None
    return row is not None and row.state == ClockState.OVERDUE


def _onward_cause(session: Session, incident_id: int,
                  cause: EscalationCause) -> EscalationCause | None:
    """Why the escalated copy itself goes further up, if it does."""
    if cause is not EscalationCause.UNDELIVERED:
        return cause
    unacked = latest_acknowledgement(session, incident_id) is None
    return EscalationCause.UNACKNOWLEDGED if unacked else None


def _escalate_one(session: Session, note: Notification, now: datetime, roster: Roster,
                  setup: AlertSetup) -> int:
    incident = session.get(Incident, note.incident_id) if note.incident_id else None
    if incident is None or not incident.active:
        return 0
    # Rows written before causes were recorded escalated for lack of acknowledgement only.
    cause = EscalationCause(note.escalate_cause or EscalationCause.UNACKNOWLEDGED)
    if not _cause_holds(session, note, cause):
        return 0
    onward = _onward_cause(session, incident.id, cause)
    policy = policy_of(incident, setup.policy)
    rungs = chain(roster, now, policy.escalation, incident.owning_section)
    nxt = next((i for i in range(note.level + 1, len(rungs))
                if rungs[i].person and rungs[i].person != note.recipient), None)
    if nxt is None:
        return 0
    person = rungs[nxt].person
    later = any(r.person for r in rungs[nxt + 1:])
    key = f"{incident.id}:{note.step}:{person}"
    role = rungs[note.level].role.label if note.level < len(rungs) else ""
    who = f"{role}{display_name(roster, note.recipient)}"
    added = enqueue(session, roster, key=key, recipient=person, incident_id=incident.id,
                    deadline_id=note.deadline_id, step=note.step, kind="escalation", level=nxt,
                    title=escalated_title(note.title, cause, who),
                    body=note.body.replace(note.idempotency_key, key), scheduled_at=now, now=now,
                    escalate_at=now + timedelta(minutes=policy.ack_timeout_minutes)
                    if later and onward else None, escalate_cause=onward if later else None,
                    parent_id=note.id)
    if added:
        audit.record(session, actor="system", action="alert.escalate", object_type="incident",
                     object_id=incident.id, now=now,
                     details={"step": note.step, "from": note.recipient, "to": person,
                              "level": nxt, "cause": cause.value})
    return added


@dataclass(frozen=True)
class Acknowledged:
    incident_id: int
    person: str  # the roster key or user name it was recorded under
    notifications: int  # how many notifications it confirmed


def acknowledge(session: Session, incident_id: int, user: str, now: datetime,
                configured_roster: Roster | None) -> Acknowledged:
    """``user`` acknowledges the incident: no step of it escalates for lack of acknowledgement
    any more, later steps go to them, and overdue repeats of clocks already overdue stop (an
    overdue legal clock still escalates). ``user`` must name a person (key or display name, a
    config roster person included) whose role may acknowledge; else ``IncidentError`` and
    nothing changes (audited). An open incident becomes acknowledged."""
    incident = get_incident(session, incident_id)
    try:
        person = acting_person(session, user, Action.ACKNOWLEDGE, configured_roster, now).name
    except PeopleError as exc:
        raise IncidentError(str(exc)) from None
    advance(incident, IncidentStatus.ACKNOWLEDGED)
    result = session.execute(update(Notification).where(
        Notification.incident_id == incident_id, Notification.acked_at.is_(None))
        .values(acked_at=now, acked_by=person).execution_options(synchronize_session=False))
    count = int(getattr(result, "rowcount", 0) or 0)
    session.execute(update(Notification).where(
        Notification.incident_id == incident_id, Notification.escalate_at.is_not(None),
        or_(Notification.escalate_cause.is_(None),
            Notification.escalate_cause != EscalationCause.OVERDUE.value))
        .values(escalate_at=None).execution_options(synchronize_session=False))
    session.add(Acknowledgement(incident_id=incident_id, user=person, at=now))
    audit.record(session, actor=person, action="alert.ack", object_type="incident",
                 object_id=incident_id, now=now, details={"notifications": count})
    session.flush()
    return Acknowledged(incident_id, person, count)


def source_unhealthy(session: Session, setup: AlertSetup, *, source: str, reason: str,
                     since: datetime, now: datetime) -> int:
    """A source the crawler judges unhealthy (silent or failing since ``since``): tell the admin
    once per outage (the key holds the outage start). Returns 1 if a notification was queued."""
    roster = current_roster(session, setup.roster)
    return enqueue(session, roster, key=f"source-down:{source[:80]}:{since.isoformat()}",
                   recipient=roster.admin, incident_id=None, deadline_id=None,
                   step="source-down", kind="source_down", level=0,
                   title=f"【数据源异常】{source}", scheduled_at=now, now=now,
                   body=f"数据源 {source} 自 {format_local(since, setup.tz)} 起异常：{reason}\n"
                        f"此期间为监测盲区，请检查采集配置或目标站点。")
