"""The timeliness report for leadership (时效报告), data side: read the database as it is at
``now`` and build a typed :class:`TimelinessReport`; ``responses.render`` turns it into files.

The period is a range of Asia/Shanghai dates; an incident belongs to it by its T0. Drills never
count. A clock's outcome is computed at ``now`` from its row's due time and meeting, so a report
asked for a past ``now`` shows what was known then. Every figure carries a link target: the
document or publication it rests on, or a dashboard path (``/incidents/12``).

Two reads are switchable through :class:`ReportSources`: ``publications`` (when each clock kind
was published, with what evidence URL: the published responses) and ``approvals`` (when the
response behind a clock was approved by a leader, for the "approval late" cause).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from alerts.clocks import MEETS
from alerts.models import (CLOCK_LABELS, Acknowledgement, ClockKind, Deadline, Notification,
                           SeverityChange, T0Change)
from analysis.models import SEVERITY_LABELS, Incident, IncidentDocument, Severity
from analysis.ownership import Ownership
from crawler.models import Document
from responses.models import Response, ResponseStep
from responses.procedure import ACTION_LABELS, KIND_LABELS, Action, Kind
from responses.timeliness import (Cause, LateFacts, Outcome, bucket_of, causes_of, hours,
                                  median, outcome_at, p90, rate)
from yuqing.core.clock import SHANGHAI, ensure_aware
from yuqing.core.models import Person

TOPIC_LABELS: Mapping[str, str] = {
    "legal_aid": "法律援助", "exam": "法律职业资格考试", "notary": "公证", "lawyer": "律师",
    "appraisal": "司法鉴定", "mediation": "人民调解", "corrections": "社区矫正",
    "prison": "监狱", "justice_admin": "司法行政", "other": "其他",
}
NO_TOPIC = "未分类"
NO_SECTION = "未指定"
SEVERITY_ORDER = (Severity.CRITICAL, Severity.MAJOR, Severity.SERIOUS, Severity.GENERAL)
KIND_ORDER = (ClockKind.STATEMENT, ClockKind.PRESS_CONFERENCE, ClockKind.RESPONSE,
              ClockKind.FOLLOW_UP)
# A first public word: the bureau's statement, press conference or 较大 response.
FIRST_STATEMENT_KINDS = MEETS[ClockKind.RESPONSE]
LEGAL_TOTAL = "合计（不含持续发布）"
T0_SOURCE_LABELS = {"t_event": "事件发生", "t_first_post": "首条网帖", "t_detected": "系统发现"}


def topic_label(topic: str | None) -> str:
    return TOPIC_LABELS.get(topic or "", topic or NO_TOPIC)


def kind_label(kind: str) -> str:
    return CLOCK_LABELS.get(kind, kind)


def incident_path(incident_id: int) -> str:
    return f"/incidents/{incident_id}"


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both included, as dates in ``tz``."""

    start: date
    end: date
    tz: ZoneInfo = SHANGHAI

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[start 00:00, day after end 00:00) in ``tz``, as aware UTC."""
        lo = datetime.combine(self.start, time(0), tzinfo=self.tz)
        hi = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=self.tz)
        return ensure_aware(lo), ensure_aware(hi)

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"

    @property
    def query(self) -> str:
        return f"from={self.start.isoformat()}&to={self.end.isoformat()}"

    @property
    def monthly(self) -> bool:
        """Trend buckets: weeks for up to a quarter, months beyond."""
        return (self.end - self.start).days > 92


# --- the switchable reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class PublicationFact:
    """One published response as far as timeliness goes: kind, time and its evidence."""

    incident_id: int
    kind: str
    published_at: datetime
    url: str | None
    recorded_by: str

    @property
    def link(self) -> str:
        return self.url or incident_path(self.incident_id)


Scope = Select[tuple[int]]
PublicationReader = Callable[[Session, Scope], Mapping[int, Sequence[PublicationFact]]]
ApprovalReader = Callable[[Session, Scope], Mapping[tuple[int, str], datetime]]


def read_publications(session: Session, scope: Scope) -> dict[int, list[PublicationFact]]:
    """When each clock kind was published for the incidents in ``scope``, with its evidence
    URL, oldest first: the publication step of each published response."""
    found: dict[int, list[PublicationFact]] = defaultdict(list)
    rows = session.execute(
        select(Response.incident_id, Response.clock_kind, Response.published_at,
               Response.published_url, Response.published_by)
        .where(Response.incident_id.in_(scope), Response.state == "published",
               Response.clock_kind.is_not(None), Response.published_at.is_not(None))
        .order_by(Response.incident_id, Response.published_at, Response.id))
    for incident_id, kind, at, url, by in rows.tuples():
        if kind is not None and at is not None:
            found[incident_id].append(PublicationFact(incident_id, kind, at, url, by or ""))
    return found


def read_approvals(session: Session, scope: Scope) -> dict[tuple[int, str], datetime]:
    """(incident, clock kind) -> the earliest leader approval of a response that meets it."""
    found: dict[tuple[int, str], datetime] = {}
    rows = session.execute(
        select(Response.incident_id, Response.clock_kind, Response.approved_at)
        .where(Response.incident_id.in_(scope), Response.approved_at.is_not(None),
               Response.clock_kind.is_not(None))
        .order_by(Response.approved_at, Response.id))
    for incident_id, published_kind, at in rows.tuples():
        if published_kind is None or at is None:
            continue
        for clock, kinds in MEETS.items():
            if published_kind in kinds:
                found.setdefault((incident_id, clock.value), at)
    return found


def no_approvals(session: Session, scope: Scope) -> dict[tuple[int, str], datetime]:
    """No approval times: no clock is ever "approval late"."""
    return {}


@dataclass(frozen=True)
class ReportSources:
    publications: PublicationReader = read_publications
    approvals: ApprovalReader = read_approvals  # (incident, clock kind) -> approved at


# --- the report's parts -----------------------------------------------------------------------


@dataclass(frozen=True)
class KindStats:
    """One clock kind, or (``kind=None``) the legal clocks together — statement, press
    conference, response; 持续发布 has its own line and gap list. due = on time + late + overdue."""

    kind: str | None
    on_time: int
    late: int
    overdue: int
    pending: int
    waived: int
    link: str

    @property
    def label(self) -> str:
        return LEGAL_TOTAL if self.kind is None else kind_label(self.kind)

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.overdue

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.due)


@dataclass(frozen=True)
class Durations:
    """Hours from one instant to another over the incidents that have both."""

    values: tuple[float, ...]
    link: str

    @property
    def count(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float | None:
        return median(self.values)

    @property
    def p90(self) -> float | None:
        return p90(self.values)


@dataclass(frozen=True)
class PressConferences:
    required: int
    held: int
    held_on_time: int
    link: str


@dataclass(frozen=True)
class LateClock:
    """One clock met late or still overdue, with who owns it and why."""

    incident_id: int
    title: str
    severity: str
    topic: str | None
    section: str
    kind: str
    sequence: int
    due_at: datetime
    met_at: datetime | None
    outcome: Outcome
    causes: tuple[Cause, ...]
    officer: str | None  # the person key (drafter of the answer, else who acknowledged)
    evidence: str | None  # the publication that met it
    officer_name: str | None = None  # as the people table shows them (张三)

    @property
    def link(self) -> str:
        return incident_path(self.incident_id)

    @property
    def overrun_hours(self) -> float | None:
        """How late it was met; None while still open."""
        return None if self.met_at is None else hours(self.met_at - self.due_at)


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    what: str
    detail: str
    link: str


@dataclass(frozen=True)
class IncidentTimeline:
    incident_id: int
    title: str
    severity: str
    topic: str | None
    t0: datetime
    t0_source: str
    events: tuple[TimelineEvent, ...]
    missed: bool  # any clock late or overdue

    @property
    def link(self) -> str:
        return incident_path(self.incident_id)


@dataclass(frozen=True)
class TrendPoint:
    """Clocks of incidents whose T0 falls in the bucket (week or month)."""

    bucket: date
    kind: str | None
    due: int
    on_time: int

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.due)


@dataclass(frozen=True)
class SectionStats:
    """One owning section (主管科室): its incidents and their legal clocks together."""

    section: str
    incidents: int
    clocks: KindStats


@dataclass(frozen=True)
class TimelinessReport:
    period: Period
    as_of: datetime
    incidents: int
    by_severity_topic: Mapping[tuple[str, str | None], int]  # (severity, topic) -> incidents
    kinds: tuple[KindStats, ...]
    overall: KindStats
    to_statement: Durations  # T0 -> first public statement
    without_statement: int  # incidents with no statement yet
    detection_lag: Durations  # T0 -> detected (T0 from the event or the first post only)
    to_acknowledge: Durations  # detected -> first acknowledgement
    press: PressConferences
    late: tuple[LateClock, ...]  # legal clocks met late or overdue
    follow_up_gaps: tuple[LateClock, ...]  # 持续发布 intervals met late or overdue
    follow_ups_due: int
    timelines: tuple[IncidentTimeline, ...]
    trend: tuple[TrendPoint, ...]
    links: Mapping[str, str] = field(default_factory=dict)  # figure name -> link target
    sections: tuple[SectionStats, ...] = ()  # per owning section, by name (未指定 last)

    @property
    def topics(self) -> list[str | None]:
        order = {topic: index for index, topic in enumerate(TOPIC_LABELS)}
        seen = {topic for _, topic in self.by_severity_topic}
        return sorted(seen, key=lambda t: (t is None, order.get(t or "", 99), t or ""))


# --- reading ----------------------------------------------------------------------------------


@dataclass
class _Clock:
    kind: str
    sequence: int
    due_at: datetime
    met_at: datetime | None
    waived: bool
    started_at: datetime | None
    outcome: Outcome = Outcome.PENDING


@dataclass
class _Incident:
    row: Any  # the selected incident columns
    clocks: list[_Clock] = field(default_factory=list)
    publications: Sequence[PublicationFact] = ()
    acks: list[tuple[str, datetime]] = field(default_factory=list)
    first_notified: str | None = None
    grades: list[tuple[str, datetime, str, str | None]] = field(default_factory=list)
    t0_changes: list[Any] = field(default_factory=list)
    first_post_url: str | None = None
    steps: list[tuple[datetime, str, str, str | None, int, str]] = field(default_factory=list)
    drafters: list[tuple[str, str]] = field(default_factory=list)  # (clock kind, drafted by)


_INCIDENT_COLUMNS = (Incident.id, Incident.title, Incident.topic, Incident.severity,
                     Incident.t_event, Incident.t_first_post, Incident.detected_at,
                     Incident.graded_at, Incident.t0, Incident.t0_source,
                     Incident.owning_section)


def _scope(period: Period, as_of: datetime) -> Scope:
    lo, hi = period.bounds
    return select(Incident.id).where(Incident.t0 >= lo, Incident.t0 < hi,
                                     Incident.detected_at <= as_of,
                                     Incident.is_drill.is_(False))


def _load(session: Session, scope: Scope, sources: ReportSources,
          as_of: datetime) -> dict[int, _Incident]:
    """Everything the report needs, in one query per table; facts after ``as_of`` are left
    out (a clock whose level was reached later did not exist yet)."""
    found = {row.id: _Incident(row) for row in session.execute(
        select(*_INCIDENT_COLUMNS).where(Incident.id.in_(scope)).order_by(Incident.id))}
    for d in session.execute(select(Deadline.incident_id, Deadline.kind, Deadline.sequence,
                                    Deadline.due_at, Deadline.met_at, Deadline.waived_reason,
                                    Deadline.started_at)
                             .where(Deadline.incident_id.in_(scope))
                             .order_by(Deadline.incident_id, Deadline.kind, Deadline.sequence)):
        if d.started_at is not None and d.started_at > as_of:
            continue
        found[d.incident_id].clocks.append(_Clock(d.kind, d.sequence, d.due_at, d.met_at,
                                                  d.waived_reason is not None, d.started_at))
    for incident_id, publications in sources.publications(session, scope).items():
        found[incident_id].publications = [p for p in publications if p.published_at <= as_of]
    _load_people(session, scope, found, as_of)
    _load_history(session, scope, found, as_of)
    _load_steps(session, scope, found, as_of)
    return found


def _load_steps(session: Session, scope: Scope, found: dict[int, _Incident],
                as_of: datetime) -> None:
    # Each response's procedure steps; its publication is shown from ``publications``.
    for incident_id, at, action, actor, comment, response_id, kind in session.execute(
            select(Response.incident_id, ResponseStep.at, ResponseStep.action,
                   ResponseStep.actor, ResponseStep.comment, Response.id, Response.kind)
            .join(Response, Response.id == ResponseStep.response_id)
            .where(Response.incident_id.in_(scope), ResponseStep.at <= as_of,
                   ResponseStep.action.not_in(("publish", "record")))
            .order_by(ResponseStep.at, ResponseStep.id)).tuples():
        found[incident_id].steps.append((at, action, actor, comment, response_id, kind))
    # Who drafted the answer to each clock kind (the owning section's officer), oldest first.
    for incident_id, clock_kind, drafted_by in session.execute(
            select(Response.incident_id, Response.clock_kind, Response.drafted_by)
            .where(Response.incident_id.in_(scope), Response.created_at <= as_of,
                   Response.clock_kind.is_not(None), Response.drafted_by.is_not(None))
            .order_by(Response.created_at, Response.id)).tuples():
        if clock_kind is not None and drafted_by is not None:
            found[incident_id].drafters.append((clock_kind, drafted_by))


def _load_people(session: Session, scope: Scope, found: dict[int, _Incident],
                 as_of: datetime) -> None:
    for incident_id, user, at in session.execute(
            select(Acknowledgement.incident_id, Acknowledgement.user, Acknowledgement.at)
            .where(Acknowledgement.incident_id.in_(scope), Acknowledgement.at <= as_of)
            .order_by(Acknowledgement.at, Acknowledgement.id)).tuples():
        found[incident_id].acks.append((user, at))
    for notified, recipient in session.execute(
            select(Notification.incident_id, Notification.recipient)
            .where(Notification.incident_id.in_(scope), Notification.sent_at <= as_of)
            .order_by(Notification.sent_at, Notification.id)).tuples():
        if notified is not None and found[notified].first_notified is None:
            found[notified].first_notified = recipient


def _load_history(session: Session, scope: Scope, found: dict[int, _Incident],
                  as_of: datetime) -> None:
    for c in session.execute(select(SeverityChange.incident_id, SeverityChange.severity,
                                    SeverityChange.at, SeverityChange.actor,
                                    SeverityChange.reason)
                             .where(SeverityChange.incident_id.in_(scope),
                                    SeverityChange.at <= as_of)
                             .order_by(SeverityChange.at, SeverityChange.id)):
        found[c.incident_id].grades.append((c.severity, c.at, c.actor, c.reason))
    for t in session.scalars(select(T0Change)
                             .where(T0Change.incident_id.in_(scope), T0Change.at <= as_of)
                             .order_by(T0Change.at, T0Change.id)):
        found[t.incident_id].t0_changes.append(t)
    # The first post is the incident's document published at t_first_post.
    for incident_id, url in session.execute(
            select(IncidentDocument.incident_id, Document.url)
            .join(Document, Document.id == IncidentDocument.document_id)
            .join(Incident, Incident.id == IncidentDocument.incident_id)
            .where(IncidentDocument.incident_id.in_(scope),
                   Document.published_at == Incident.t_first_post)
            .order_by(Document.id)).tuples():
        if found[incident_id].first_post_url is None:
            found[incident_id].first_post_url = url


# --- building ---------------------------------------------------------------------------------


def build_report(session: Session, period: Period, *, now: datetime,
                 ownership: Ownership | None = None,
                 sources: ReportSources = ReportSources()) -> TimelinessReport:
    """The report for ``period`` as the database knows it at ``now``.

    Each incident's owning section (谁主管谁负责) is the one stored with it when it was opened
    (``Incident.owning_section``); an older incident stored without one gets its topic's owner
    from ``ownership`` (the config's map), else 未指定."""
    as_of = ensure_aware(now, "now")
    scope = _scope(period, as_of)
    incidents = _load(session, scope, sources, as_of)
    approvals = sources.approvals(session, scope)
    for incident in incidents.values():
        _settle(incident, as_of)
    late = [item for i in incidents.values() for item in _late(i, ownership, approvals)]
    names = _display_names(session, {c.officer for c in late if c.officer})
    late = [replace(c, officer_name=names.get(c.officer or "", c.officer)) for c in late]
    built = _assemble(period, as_of, incidents, late)
    return replace(built, sections=_sections(incidents.values(), ownership, period.query))


def _display_names(session: Session, keys: set[str]) -> dict[str, str]:
    """Person key -> display name (张三) for the keys the people table knows."""
    if not keys:
        return {}
    return {name: shown for name, shown in session.execute(
        select(Person.name, Person.display_name).where(Person.name.in_(sorted(keys)))).tuples()
        if shown}


def owning_section(row: Any, ownership: Ownership | None) -> str:
    """The incident's stored owning section, else its topic's owner in ``ownership``."""
    stored: str | None = row.owning_section
    if stored:
        return stored
    found = ownership.section_for(row.topic) if ownership is not None else None
    return found or NO_SECTION


def _settle(incident: _Incident, as_of: datetime) -> None:
    """Each clock's outcome at ``as_of``. A legal clock whose row has not been swept since a
    publication was recorded is met by that publication (the rule of ``alerts.clocks``)."""
    for clock in incident.clocks:
        met = clock.met_at if clock.met_at is not None and clock.met_at <= as_of else None
        if met is None and clock.sequence == 0 and clock.kind in set(ClockKind):
            kinds = MEETS[ClockKind(clock.kind)]
            met = next((p.published_at for p in incident.publications
                        if p.kind in kinds and p.published_at <= as_of), None)
        clock.met_at = met
        clock.outcome = outcome_at(clock.due_at, met, clock.waived, as_of)


def _evidence(incident: _Incident, clock: _Clock) -> str | None:
    if clock.met_at is None:
        return None
    kinds = MEETS.get(ClockKind(clock.kind), frozenset()) if clock.kind in set(ClockKind) else ()
    return next((p.link for p in incident.publications
                 if p.kind in kinds and p.published_at == clock.met_at), None)


def _late(incident: _Incident, ownership: Ownership | None,
          approvals: Mapping[tuple[int, str], datetime]) -> Iterable[LateClock]:
    row = incident.row
    section = owning_section(row, ownership)
    for clock in incident.clocks:
        if clock.outcome not in (Outcome.LATE, Outcome.OVERDUE):
            continue
        facts = LateFacts(clock.due_at, clock.outcome, row.detected_at,
                          clock.started_at or row.graded_at, approvals.get((row.id, clock.kind)))
        yield LateClock(row.id, row.title, row.severity, row.topic, section, clock.kind,
                        clock.sequence, clock.due_at, clock.met_at, clock.outcome,
                        causes_of(facts), _officer(incident, clock.kind),
                        _evidence(incident, clock))


def _officer(incident: _Incident, clock_kind: str) -> str | None:
    """Who answers for a clock: the drafter of the first response meant to meet it (the owning
    section's officer), else the first to acknowledge the incident, else the first notified."""
    kinds = (MEETS[ClockKind(clock_kind)] if clock_kind in set(ClockKind)
             else frozenset({clock_kind}))
    drafter = next((by for kind, by in incident.drafters if kind in kinds), None)
    if drafter is not None:
        return drafter
    return incident.acks[0][0] if incident.acks else incident.first_notified


def _assemble(period: Period, as_of: datetime, incidents: Mapping[int, _Incident],
              late: list[LateClock]) -> TimelinessReport:
    q = period.query
    values = list(incidents.values())
    kinds = tuple(_kind_stats(values, kind, q) for kind in KIND_ORDER)
    statement = [_first_statement(i, as_of) for i in values]
    return TimelinessReport(
        period=period, as_of=as_of, incidents=len(values),
        by_severity_topic=Counter((i.row.severity, i.row.topic) for i in values),
        kinds=kinds, overall=_kind_stats(values, None, q),
        to_statement=Durations(tuple(hours(s - i.row.t0) for s, i in zip(statement, values)
                                     if s is not None), f"/reports/timeliness?{q}#statement"),
        without_statement=sum(s is None for s in statement),
        detection_lag=Durations(tuple(hours(i.row.detected_at - i.row.t0) for i in values
                                      if i.row.t0_source != "t_detected"),
                                f"/reports/timeliness?{q}#detection"),
        to_acknowledge=Durations(tuple(hours(i.acks[0][1] - i.row.detected_at) for i in values
                                       if i.acks), f"/reports/timeliness?{q}#acknowledge"),
        press=_press(values, q),
        late=tuple(sorted((c for c in late if c.kind != ClockKind.FOLLOW_UP), key=_late_key)),
        follow_up_gaps=tuple(sorted((c for c in late if c.kind == ClockKind.FOLLOW_UP),
                                    key=_late_key)),
        follow_ups_due=_kind_stats(values, ClockKind.FOLLOW_UP, q).due,
        timelines=tuple(_timeline(i) for i in values),
        trend=_trend(values, period),
        links={"incidents": f"/incidents?{q}", "report": f"/reports/timeliness?{q}"})


def _late_key(clock: LateClock) -> tuple[Any, ...]:
    return (clock.due_at, clock.incident_id, clock.kind, clock.sequence)


def _kind_stats(incidents: Sequence[_Incident], kind: str | None, query: str) -> KindStats:
    counts = Counter(c.outcome for i in incidents for c in i.clocks
                     if c.kind == kind or kind is None and c.kind != ClockKind.FOLLOW_UP)
    link = f"/clocks?{query}" + (f"&kind={kind}" if kind else "")
    return KindStats(kind, counts[Outcome.ON_TIME], counts[Outcome.LATE],
                     counts[Outcome.OVERDUE], counts[Outcome.PENDING], counts[Outcome.WAIVED],
                     link)


def _sections(incidents: Iterable[_Incident], ownership: Ownership | None,
              query: str) -> tuple[SectionStats, ...]:
    grouped: dict[str, list[_Incident]] = defaultdict(list)
    for incident in incidents:
        grouped[owning_section(incident.row, ownership)].append(incident)
    names = sorted(grouped, key=lambda name: (name == NO_SECTION, name))
    return tuple(SectionStats(name, len(grouped[name]),
                              replace(_kind_stats(grouped[name], None, query),
                                      link=f"/clocks?{query}&section={quote(name)}"))
                 for name in names)


def _first_statement(incident: _Incident, as_of: datetime) -> datetime | None:
    return next((p.published_at for p in incident.publications
                 if p.kind in FIRST_STATEMENT_KINDS and p.published_at <= as_of), None)


def _press(incidents: Sequence[_Incident], query: str) -> PressConferences:
    clocks = [c for i in incidents for c in i.clocks
              if c.kind == ClockKind.PRESS_CONFERENCE and c.outcome is not Outcome.WAIVED]
    return PressConferences(
        required=len(clocks), held=sum(c.met_at is not None for c in clocks),
        held_on_time=sum(c.outcome is Outcome.ON_TIME for c in clocks),
        link=f"/clocks?{query}&kind={ClockKind.PRESS_CONFERENCE.value}")


def _trend(incidents: Sequence[_Incident], period: Period) -> tuple[TrendPoint, ...]:
    due: Counter[tuple[date, str | None]] = Counter()
    on_time: Counter[tuple[date, str | None]] = Counter()
    for incident in incidents:
        bucket = bucket_of(incident.row.t0.astimezone(period.tz).date(), period.monthly)
        for clock in incident.clocks:
            if clock.outcome in (Outcome.ON_TIME, Outcome.LATE, Outcome.OVERDUE):
                keys: list[tuple[date, str | None]] = [(bucket, clock.kind)]
                if clock.kind != ClockKind.FOLLOW_UP:
                    keys.append((bucket, None))  # the total counts the legal clocks
                for key in keys:
                    due[key] += 1
                    on_time[key] += clock.outcome is Outcome.ON_TIME
    return tuple(TrendPoint(bucket, kind, due[(bucket, kind)], on_time[(bucket, kind)])
                 for bucket, kind in sorted(due, key=lambda k: (k[0], k[1] or "")))


# --- timelines --------------------------------------------------------------------------------


def _timeline(incident: _Incident) -> IncidentTimeline:
    row = incident.row
    path = incident_path(row.id)
    events = list(_candidates(incident, path))
    events += [TimelineEvent(at, f"定级：{severity_label(sev)}", _by(actor, reason), path)
               for sev, at, actor, reason in incident.grades]
    events += [TimelineEvent(t.at, "更正 T0", f"{_local(t.old_t0)} → {_local(t.new_t0)}；"
                             f"{_by(t.actor, t.reason)}", path) for t in incident.t0_changes]
    events += [TimelineEvent(at, "确认", user, f"{path}#acknowledgements")
               for user, at in incident.acks]
    events += [TimelineEvent(at, f"回应 #{rid}（{_response_kind(kind)}）：{_action(action)}",
                             _by(actor, comment), f"/responses/{rid}")
               for at, action, actor, comment, rid, kind in incident.steps]
    events += [TimelineEvent(p.published_at, f"发布：{kind_label(p.kind)}",
                             p.url or "（未提供链接）", p.link) for p in incident.publications]
    events += [TimelineEvent(c.due_at, f"时限：{kind_label(c.kind)}"
                             + (f" 第{c.sequence}次" if c.sequence else ""),
                             c.outcome.label, path) for c in incident.clocks]
    events.sort(key=lambda e: e.at)
    missed = any(c.outcome in (Outcome.LATE, Outcome.OVERDUE) for c in incident.clocks)
    return IncidentTimeline(row.id, row.title, row.severity, row.topic, row.t0, row.t0_source,
                            tuple(events), missed)


def _candidates(incident: _Incident, path: str) -> Iterable[TimelineEvent]:
    row = incident.row
    chosen = {row.t0_source}
    if row.t_event is not None:
        yield TimelineEvent(row.t_event, "事件发生（T0 候选）", _chosen("t_event", chosen), path)
    if row.t_first_post is not None:
        yield TimelineEvent(row.t_first_post, "首条网帖（T0 候选）",
                            _chosen("t_first_post", chosen), incident.first_post_url or path)
    yield TimelineEvent(row.detected_at, "系统发现", _chosen("t_detected", chosen), path)


def _response_kind(kind: str) -> str:
    return KIND_LABELS[Kind(kind)] if kind in set(Kind) else kind


def _action(action: str) -> str:
    return ACTION_LABELS[Action(action)] if action in set(Action) else action


def _chosen(source: str, chosen: set[str]) -> str:
    return "起算 T0" if source in chosen else "—"


def _by(actor: str, reason: str | None) -> str:
    return f"{actor}：{reason}" if reason else actor


def severity_label(value: str) -> str:
    try:
        return SEVERITY_LABELS[Severity(value)]
    except ValueError:
        return value


def _local(value: datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
