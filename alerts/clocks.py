"""Legal deadline clocks as pure functions of an incident's facts and ``now``.

Nothing here reads the real clock, touches the database, schedules or sends anything: the sweep
(side effects), the notifier and the scheduler are built on top. Every datetime is aware; naive
values are refused with ``ValueError`` and results are in UTC.

API
---
``choose_t0(t_event, t_first_post, t_detected) -> (t0, T0Source)``
    Legal clocks run from t_event, else t_first_post; if neither is known, t_detected with source
    ``T0Source.T_DETECTED``, which reports must show as a fallback (``ClockView.t0_fallback``).
``rules_for(policy, severity) -> tuple[ClockRule, ...]``
    The policy of one level as plain frozen values (durations as ``timedelta``).
``due_at(t0, rule)`` and ``status_at(t0, met_at, rule, now, waived=False) -> ClockState``
    The single-clock math. ``met_at <= due`` is on time, so at the due instant itself the clock is
    ``due_soon``; it is ``overdue`` from the first instant after. ``due_soon`` starts at the first
    (largest) reminder offset. A ``met_at`` later than ``now`` is not yet known and ignored.
``clocks_for(incident: IncidentView, policy, now) -> list[ClockView]``
    Every clock of the incident as known at ``now`` (severity entries, publications and closing
    later than ``now`` are ignored, so ``--now`` time travel is consistent).
``plan(clock)``, ``next_steps(clock, now)``, ``steps_between(clock, since, until)``
    The notification steps of one clock; ``ClockView.next_steps`` holds those after ``now``.
``steps_due(clocks, since, now)``, ``latest_missed(steps)``, ``steps_to_fire(clocks, since, now)``
    What a sweep running at ``now`` (previous run at ``since``) must send.
``next_check_at(clocks, now)``
    When the sweep must next look at these clocks (a step or a state change); None: never.

Severity and clocks
-------------------
Severity is never lowered by this module: the clocks come from every level the history reached
(each new maximum, at the moment it was reached). A later lower grade is ignored here; removing
a clock takes an explicit waiver with a reason (``IncidentView.waived``), which the service audits.
Raising severity starts the new level's clocks from the *same* T0, so a level reached after its
due shows ``overdue`` at once, with ``detected_late`` (and ``late_cause``: ``"detected"`` when
the incident itself was detected after the due, ``"graded"`` when only the grading came late).

There is one clock per kind (plus numbered follow-ups), matching the ``(incident, kind, sequence)``
key of the ``deadlines`` table. When several reached levels define a kind, the earliest due wins
(ties: the level reached first), legal rules before internal targets; so raising severity never
moves a due time later. A clock whose kind the highest reached level does not define (the 较大
``response`` once 重大 arrives) stays in the result with ``superseded_by`` set: its state is still
computed honestly (a 首次权威信息 meets it, see :data:`MEETS`; unmet past 48 h it is overdue), but it
sends no notifications, since the higher level's earlier clocks carry them.

A legal clock is met by the earliest matching publication known at ``now``, whenever it happened:
a statement published while the incident was 较大 meets the 重大 statement clock added later.
A publication before T0 meets nothing (it cannot answer the event; ``check_publication``
refuses one, but T0 can be corrected past an earlier one).
Closing the incident stops notifications but excuses nothing: an unmet legal clock still turns
overdue in reports unless it is waived with a reason (a recorded decision not to publish, 备案).

持续发布 (follow_up) cadence
----------------------------
Follow-up ``n`` (sequence 1, 2, ...) is due ``every`` after its anchor. The anchor of #1 is the
publication that met the ``after`` clock (the statement), or that clock's due while it is unmet
(so #1's due is provisional until the statement is published). The anchor of #n+1 is the
publication that met #n: each publication restarts the interval, so the rule reads "never more than
``every`` between publications". Follow-up #n is met by the first ``follow_up`` publication strictly
after its anchor. Only one follow-up is open at a time: #n+1 exists once #n is met. After the
incident is closed no new follow-up falls due (one whose due passed while open stays, e.g. overdue).

Notification steps
------------------
For a clock due at D with reminder offsets r1 > r2 > ... and overdue interval R::

    <kind>:<seq>:remind-<minutes>   at D - r       (e.g. statement:0:remind-60)
    <kind>:<seq>:due                at D
    <kind>:<seq>:overdue-<k>        at D + k*R      k = 1, 2, ... (up to policy.overdue_repeat_max)

``step_id`` is stable for given facts and is meant for idempotency keys (the sweep prefixes the
incident id and appends the recipient). Steps are strictly increasing in time. No step is before
the clock's floor, max(T0, anchor, the moment its level was reached): steps before it are dropped,
except that the latest of them is moved to the floor (``catch_up=True``) so that a clock starting
late, e.g. already overdue after an escalation of severity, notifies at once. Quiet hours (never
for 重大/特别重大) drop reminders inside the window and defer ``due``/``overdue`` to its end, keeping
only the latest of those deferred to the same instant. Steps fire only for clocks that still need
action at ``now``: pending/due_soon/overdue, not superseded, incident open (``ClockView.notifies``).

After downtime, ``latest_missed`` keeps the latest missed reminder of each clock (none if the clock
also has a missed ``due``/``overdue`` step, which makes the reminder moot) and every missed
``due``/``overdue`` step. Changing T0 keeps step ids, so a reminder already sent is not repeated for
the corrected due time; include a T0 version in the idempotency key if that is ever wanted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta, timezone
from enum import StrEnum
from functools import lru_cache
from itertools import islice
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

from alerts.models import ClockKind, ClockState
from alerts.policy import ClockRuleSpec, Policy
from analysis import t0 as analysis_t0
from analysis.models import Severity
from yuqing.core.clock import SHANGHAI, ensure_aware

# Which publication kinds meet which clock. A press conference releases authoritative
# information, so it also meets the 5-hour statement; a statement or press conference is a
# response to 较大 opinion.
MEETS: Mapping[ClockKind, frozenset[ClockKind]] = MappingProxyType({
    ClockKind.STATEMENT: frozenset({ClockKind.STATEMENT, ClockKind.PRESS_CONFERENCE}),
    ClockKind.PRESS_CONFERENCE: frozenset({ClockKind.PRESS_CONFERENCE}),
    ClockKind.RESPONSE: frozenset(
        {ClockKind.RESPONSE, ClockKind.STATEMENT, ClockKind.PRESS_CONFERENCE}),
    ClockKind.FOLLOW_UP: frozenset({ClockKind.FOLLOW_UP}),
})

LIVE_STATES = frozenset({ClockState.PENDING, ClockState.DUE_SOON, ClockState.OVERDUE})
_KIND_ORDER = {kind: index for index, kind in enumerate(ClockKind)}


class T0Source(StrEnum):
    T_EVENT = "t_event"
    T_FIRST_POST = "t_first_post"
    T_DETECTED = "t_detected"  # fallback: neither the event nor the first post is known


class StepKind(StrEnum):
    REMIND = "remind"
    DUE = "due"
    OVERDUE = "overdue"


def _aware_or_none(value: datetime | None, name: str) -> datetime | None:
    return None if value is None else ensure_aware(value, name)


@dataclass(frozen=True)
class QuietWindow:
    """A daily local window [start, end) that may wrap midnight (22:00–07:00)."""

    start: time
    end: time
    tz: ZoneInfo = SHANGHAI

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(self.tz).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def end_after(self, at: datetime) -> datetime:
        """The first end of the window strictly after ``at``."""
        local = at.astimezone(self.tz)
        end = datetime.combine(local.date(), self.end, tzinfo=self.tz)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.tz)
        return end.astimezone(timezone.utc)


@dataclass(frozen=True)
class ClockRule:
    """One clock of a level. For ``follow_up``, ``due_after`` is the interval from its anchor."""

    kind: ClockKind
    due_after: timedelta
    remind_before: tuple[timedelta, ...] = (
        timedelta(minutes=60), timedelta(minutes=30), timedelta(minutes=10))
    overdue_every: timedelta = timedelta(minutes=30)
    overdue_max: int | None = None  # None: repeat while overdue
    after: ClockKind | None = None  # follow_up: the clock whose publication starts the cadence
    internal: bool = False  # an internal target, not a legal deadline
    quiet: QuietWindow | None = None

    def __post_init__(self) -> None:
        if self.due_after <= timedelta(0) or self.overdue_every <= timedelta(0):
            raise ValueError("due_after and overdue_every must be positive")
        offsets = self.remind_before
        decreasing = all(later < earlier for earlier, later in zip(offsets, offsets[1:]))
        if not decreasing or any(offset <= timedelta(0) for offset in offsets):
            raise ValueError("remind_before must be positive and strictly decreasing")
        if any(offset % timedelta(minutes=1) for offset in offsets):
            raise ValueError("remind_before must be whole minutes (they name the step ids)")


@dataclass(frozen=True)
class Step:
    """One planned notification of one clock."""

    clock_kind: ClockKind
    sequence: int
    kind: StepKind
    number: int  # minutes before due for a reminder, k for the k-th overdue notice, 0 for due
    at: datetime
    catch_up: bool = False  # moved to the clock's start (it would have fallen before it)

    @property
    def clock_key(self) -> str:
        return f"{self.clock_kind}:{self.sequence}"

    @property
    def step_id(self) -> str:
        suffix = "due" if self.kind is StepKind.DUE else f"{self.kind}-{self.number}"
        return f"{self.clock_key}:{suffix}"


@dataclass(frozen=True)
class IncidentView:
    """The facts about one incident that its clocks depend on.

    ``severity_history``: (severity, when it was graded so), any order. ``responses``: (kind,
    published_at) of publications. ``closed_at``: None while open. ``waived``: kind -> reason.
    """

    t_detected: datetime
    severity_history: Sequence[tuple[Severity, datetime]]
    t_event: datetime | None = None
    t_first_post: datetime | None = None
    t_graded: datetime | None = None
    responses: Sequence[tuple[ClockKind, datetime]] = ()
    closed_at: datetime | None = None
    waived: Mapping[ClockKind, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # Normalise to UTC once, so the functions below compare plain values.
        set_ = object.__setattr__
        set_(self, "t_detected", ensure_aware(self.t_detected, "t_detected"))
        for name in ("t_event", "t_first_post", "t_graded", "closed_at"):
            set_(self, name, _aware_or_none(getattr(self, name), name))
        history = [(Severity(s), ensure_aware(at, "severity_history"))
                   for s, at in self.severity_history]
        set_(self, "severity_history", tuple(sorted(history, key=lambda entry: entry[1])))
        set_(self, "responses", tuple(
            (ClockKind(kind), ensure_aware(at, "responses")) for kind, at in self.responses))
        set_(self, "waived", MappingProxyType(dict(self.waived)))


@dataclass(frozen=True)
class ClockView:
    """One clock as of ``now``. ``anchor`` is T0, or the previous publication for a follow-up."""

    kind: ClockKind
    sequence: int  # 0 for legal clocks, 1..n for follow-ups
    severity: Severity  # the level whose rule set this due time
    rule: ClockRule
    t0: datetime
    t0_source: T0Source
    anchor: datetime
    due_at: datetime
    started_at: datetime  # when the clock's level was reached (it could not be known before)
    state: ClockState
    met_at: datetime | None = None
    detected_late: bool = False  # the clock only started after its due
    late_cause: Literal["detected", "graded"] | None = None
    superseded_by: Severity | None = None
    waived_reason: str | None = None
    notifies: bool = False  # still needs action at ``now`` and sends steps
    next_steps: tuple[Step, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.sequence}"

    @property
    def t0_fallback(self) -> bool:
        return self.t0_source is T0Source.T_DETECTED

    @property
    def floor(self) -> datetime:
        """No step of this clock is earlier than this instant."""
        return max(self.t0, self.anchor, self.started_at)


def choose_t0(t_event: datetime | None, t_first_post: datetime | None,
              t_detected: datetime) -> tuple[datetime, T0Source]:
    """The start of legal clocks and its source (the rule lives in ``analysis.t0``)."""
    t0, source = analysis_t0.choose_t0(t_event, t_first_post, t_detected)
    return ensure_aware(t0, source), T0Source(source)


def due_at(t0: datetime, rule: ClockRule) -> datetime:
    """When the clock falls due; for a follow-up pass its anchor as ``t0``."""
    return ensure_aware(t0, "t0") + rule.due_after


def status_at(t0: datetime, met_at: datetime | None, rule: ClockRule, now: datetime,
              waived: bool = False) -> ClockState:
    """The state of one clock at ``now`` (see the module docstring for the boundaries)."""
    now = ensure_aware(now, "now")
    due = due_at(t0, rule)
    met = _aware_or_none(met_at, "met_at")
    if waived:
        return ClockState.WAIVED
    if met is not None and met <= now:
        return ClockState.MET_ON_TIME if met <= due else ClockState.MET_LATE
    if now > due:
        return ClockState.OVERDUE
    if rule.remind_before and now >= due - rule.remind_before[0]:
        return ClockState.DUE_SOON
    return ClockState.PENDING


@lru_cache(maxsize=256)  # policies are frozen and hashable; sweeps ask for the same few
def rules_for(policy: Policy, severity: Severity) -> tuple[ClockRule, ...]:
    """The clock rules of one level, resolved from the policy into plain values."""
    level = policy.level(severity)
    quiet = level.quiet_hours
    window = None if quiet is None else QuietWindow(quiet.start, quiet.end)
    return tuple(_rule(spec, policy, window) for spec in level.clocks)


def _rule(spec: ClockRuleSpec, policy: Policy, quiet: QuietWindow | None) -> ClockRule:
    hours = spec.every_hours if spec.kind is ClockKind.FOLLOW_UP else spec.due_after_hours
    return ClockRule(
        kind=spec.kind, due_after=timedelta(hours=hours or 0),
        remind_before=tuple(timedelta(minutes=m) for m in policy.reminders_before_minutes),
        overdue_every=timedelta(minutes=policy.overdue_repeat_minutes),
        overdue_max=policy.overdue_repeat_max, after=spec.after, internal=spec.internal,
        quiet=quiet)


# --- clocks_for -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """Where a clock's rule comes from: the level and when the incident reached it."""

    rule: ClockRule
    severity: Severity
    reached_at: datetime


@dataclass(frozen=True)
class _Context:
    incident: IncidentView
    t0: datetime
    t0_source: T0Source
    now: datetime
    top: Severity | None
    top_kinds: frozenset[ClockKind]

    @property
    def closed(self) -> bool:
        closed_at = self.incident.closed_at
        return closed_at is not None and closed_at <= self.now


def reached_levels(history: Iterable[tuple[Severity, datetime]],
                   now: datetime) -> list[tuple[Severity, datetime]]:
    """Each new maximum severity with the moment it was reached, up to ``now``."""
    levels: list[tuple[Severity, datetime]] = []
    for severity, at in sorted(history, key=lambda entry: entry[1]):
        if at > now:
            break
        if not levels or severity.rank > levels[-1][0].rank:
            levels.append((severity, at))
    return levels


def _effective_rules(policy: Policy, levels: list[tuple[Severity, datetime]]) -> list[_Source]:
    candidates: dict[ClockKind, list[_Source]] = {}
    for severity, at in levels:
        for rule in rules_for(policy, severity):
            candidates.setdefault(rule.kind, []).append(_Source(rule, severity, at))
    return [_pick(sources) for _, sources in sorted(
        candidates.items(), key=lambda item: _KIND_ORDER[item[0]])]


def _pick(sources: list[_Source]) -> _Source:
    # Legal rules outrank internal targets; then the earliest due; then the level reached first.
    legal = [source for source in sources if not source.rule.internal] or sources
    return min(legal, key=lambda source: (source.rule.due_after, source.reached_at))


def clocks_for(incident: IncidentView, policy: Policy, now: datetime) -> list[ClockView]:
    """Every clock of ``incident`` at ``now``: legal clocks by kind, then follow-ups 1..n."""
    now = ensure_aware(now, "now")
    levels = reached_levels(incident.severity_history, now)
    t0, source = choose_t0(incident.t_event, incident.t_first_post, incident.t_detected)
    top = levels[-1][0] if levels else None
    top_kinds = frozenset(r.kind for r in rules_for(policy, top)) if top else frozenset()
    ctx = _Context(incident, t0, source, now, top, top_kinds)
    clocks: list[ClockView] = []
    for src in _effective_rules(policy, levels):
        if src.rule.kind is ClockKind.FOLLOW_UP:
            clocks.extend(_follow_ups(src, clocks, ctx))
        else:
            clocks.append(_legal_clock(src, ctx))
    return clocks


def _published(ctx: _Context, kinds: frozenset[ClockKind]) -> list[datetime]:
    # A publication before T0 cannot answer the event (and would anchor 持续发布 years back).
    return sorted(at for kind, at in ctx.incident.responses
                  if kind in kinds and ctx.t0 <= at <= ctx.now)


def _legal_clock(src: _Source, ctx: _Context) -> ClockView:
    published = _published(ctx, MEETS[src.rule.kind])
    return _view(src, ctx, sequence=0, anchor=ctx.t0, met_at=published[0] if published else None)


def _follow_ups(src: _Source, earlier: list[ClockView], ctx: _Context) -> list[ClockView]:
    after = src.rule.after or ClockKind.STATEMENT
    base = next((clock for clock in earlier if clock.kind is after), None)
    if base is None:
        return []
    anchor = base.met_at or base.due_at
    publications = _published(ctx, MEETS[ClockKind.FOLLOW_UP])
    views: list[ClockView] = []
    while True:
        met_at = next((at for at in publications if at > anchor), None)
        view = _view(src, ctx, sequence=len(views) + 1, anchor=anchor, met_at=met_at)
        closed_at = ctx.incident.closed_at
        if met_at is None and ctx.closed and closed_at is not None and view.due_at > closed_at:
            return views  # closed before this one fell due: no obligation left
        views.append(view)
        if met_at is None or view.state is ClockState.WAIVED:
            return views
        anchor = met_at


def _view(src: _Source, ctx: _Context, sequence: int, anchor: datetime,
          met_at: datetime | None) -> ClockView:
    kind = src.rule.kind
    reason = ctx.incident.waived.get(kind)
    due = due_at(anchor, src.rule)
    started = max(src.reached_at, anchor) if sequence else src.reached_at
    state = status_at(anchor, met_at, src.rule, ctx.now, waived=reason is not None)
    superseded_by = _superseded_by(kind, ctx)
    view = ClockView(
        kind=kind, sequence=sequence, severity=src.severity, rule=src.rule, t0=ctx.t0,
        t0_source=ctx.t0_source, anchor=anchor, due_at=due, started_at=started, state=state,
        met_at=met_at, detected_late=started > due,
        late_cause=_late_cause(started, due, ctx.incident.t_detected),
        superseded_by=superseded_by, waived_reason=reason,
        notifies=state in LIVE_STATES and superseded_by is None and not ctx.closed)
    return replace(view, next_steps=next_steps(view, ctx.now))


def _late_cause(started: datetime, due: datetime,
                t_detected: datetime) -> Literal["detected", "graded"] | None:
    if started <= due:
        return None
    return "detected" if t_detected > due else "graded"


def _superseded_by(kind: ClockKind, ctx: _Context) -> Severity | None:
    if not ctx.top_kinds or kind in ctx.top_kinds:
        return None
    return ctx.top


# --- notification steps ---------------------------------------------------------------------


def _raw_steps(clock: ClockView) -> Iterator[Step]:
    rule, due = clock.rule, clock.due_at
    for before in rule.remind_before:
        minutes = int(before.total_seconds() // 60)
        yield Step(clock.kind, clock.sequence, StepKind.REMIND, minutes, due - before)
    yield Step(clock.kind, clock.sequence, StepKind.DUE, 0, due)
    k = 1
    while rule.overdue_max is None or k <= rule.overdue_max:
        yield Step(clock.kind, clock.sequence, StepKind.OVERDUE, k, due + k * rule.overdue_every)
        k += 1


def _from_floor(steps: Iterable[Step], floor: datetime) -> Iterator[Step]:
    """Drop steps before ``floor``; the latest of them is moved to ``floor`` unless one is there."""
    latest_before: Step | None = None
    for step in steps:
        if step.at < floor:
            latest_before = step
            continue
        if latest_before is not None and step.at > floor:
            yield replace(latest_before, at=floor, catch_up=True)
        latest_before = None
        yield step
    if latest_before is not None:
        yield replace(latest_before, at=floor, catch_up=True)


def _outside_quiet(steps: Iterable[Step], window: QuietWindow) -> Iterator[Step]:
    """Drop reminders inside the window; defer other steps to its end, keeping the latest."""
    held: Step | None = None
    for step in steps:
        if window.contains(step.at):
            if step.kind is not StepKind.REMIND:
                held = replace(step, at=window.end_after(step.at))
            continue
        if held is not None and held.at < step.at:
            yield held
        held = None
        yield step
    if held is not None:
        yield held


def plan(clock: ClockView) -> Iterator[Step]:
    """All steps of the clock in time order, as if it never got met (infinite when overdue
    repeats are unbounded: consume lazily). Whether a step is still sent is ``clock.notifies``."""
    steps = _from_floor(_raw_steps(clock), clock.floor)
    if clock.rule.quiet is not None:
        return _outside_quiet(steps, clock.rule.quiet)
    return steps


def steps_between(clock: ClockView, since: datetime, until: datetime) -> list[Step]:
    """Steps of a notifying clock with ``since < at <= until``."""
    since, until = ensure_aware(since, "since"), ensure_aware(until, "until")
    if not clock.notifies:
        return []
    found: list[Step] = []
    for step in plan(clock):
        if step.at > until:
            break
        if step.at > since:
            found.append(step)
    return found


def next_steps(clock: ClockView, now: datetime) -> tuple[Step, ...]:
    """The steps after ``now``: remaining reminders and due, then overdue notices up to and
    including the first overdue one (the rest repeat at ``rule.overdue_every``)."""
    now = ensure_aware(now, "now")
    if not clock.notifies:
        return ()
    upcoming: list[Step] = []
    for step in plan(clock):
        if step.at <= now:
            continue
        upcoming.append(step)
        if step.kind is StepKind.OVERDUE:
            break
    return tuple(upcoming)


def steps_due(clocks: Iterable[ClockView], since: datetime, now: datetime) -> list[Step]:
    """Every step with ``since < at <= now`` of the clocks that still notify, in time order.

    ``clocks`` should come from ``clocks_for(..., now)``: whether a clock still notifies is
    judged at the time it was computed."""
    since, now = ensure_aware(since, "since"), ensure_aware(now, "now")
    found = [step for clock in clocks for step in steps_between(clock, since, now)]
    return sorted(found, key=lambda step: (step.at, step.step_id))


def latest_missed(steps: Iterable[Step]) -> list[Step]:
    """Of steps missed together (downtime): the latest reminder per clock unless that clock also
    missed its due/overdue steps, and every due/overdue step."""
    steps = list(steps)
    urgent = {step.clock_key for step in steps if step.kind is not StepKind.REMIND}
    latest: dict[str, Step] = {}
    for step in steps:
        if step.kind is StepKind.REMIND and step.clock_key not in urgent:
            previous = latest.get(step.clock_key)
            if previous is None or step.at > previous.at:
                latest[step.clock_key] = step
    kept = [step for step in steps if step.kind is not StepKind.REMIND] + list(latest.values())
    return sorted(kept, key=lambda step: (step.at, step.step_id))


def steps_to_fire(clocks: Iterable[ClockView], since: datetime, now: datetime) -> list[Step]:
    """What a sweep at ``now`` sends when its previous run was at ``since``."""
    return latest_missed(steps_due(clocks, since, now))


def next_check_at(clocks: Iterable[ClockView], now: datetime) -> datetime | None:
    """The next instant after ``now`` when a step falls or a state changes; None: nothing left."""
    now = ensure_aware(now, "now")
    times = [t for clock in clocks if clock.notifies for t in _changes(clock, now) if t > now]
    return min(times, default=None)


def _changes(clock: ClockView, now: datetime) -> Iterator[datetime]:
    yield from (step.at for step in islice(next_steps(clock, now), 1))
    if clock.rule.remind_before:
        yield clock.due_at - clock.rule.remind_before[0]  # pending -> due_soon
    yield clock.due_at + timedelta(microseconds=1)  # due_soon -> overdue
