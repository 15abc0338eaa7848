"""Legal clocks by time travel: ``now`` is passed in, nothing sleeps, nothing is mocked."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from itertools import islice
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.clocks import (
    ClockRule,
    ClockView,
    IncidentView,
    StepKind,
    T0Source,
    choose_t0,
    clocks_for,
    latest_missed,
    next_check_at,
    next_steps,
    plan,
    status_at,
    steps_due,
    steps_to_fire,
)
from alerts.models import ClockKind, ClockState
from alerts.policy import DEFAULT_POLICY, Policy, load_policy
from analysis.models import Severity
from tests.shared_data import shared_data_dir
from yuqing.core.clock import SHANGHAI, format_local, parse_local

UTC = timezone.utc
T0 = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)  # 08:00 in Beijing
H = timedelta(hours=1)
M = timedelta(minutes=1)
STATEMENT, PRESS, RESPONSE, FOLLOW_UP = (
    ClockKind.STATEMENT, ClockKind.PRESS_CONFERENCE, ClockKind.RESPONSE, ClockKind.FOLLOW_UP)
SERIOUS_WITH_QUIET_HOURS = load_policy(
    {"levels": {"serious": {"clocks": [{"kind": "response", "due_after_hours": 48}],
                            "quiet_hours": {"start": "22:00", "end": "07:00"}}}})


def make_incident(**overrides: Any) -> IncidentView:
    """A 重大 incident whose event time (default T0) an officer entered, detected 20 minutes
    and graded 25 minutes later."""
    base = overrides.get("t_event") or overrides.get("t_first_post") or T0
    fields: dict[str, Any] = {
        "t_event": T0, "t_detected": base + 20 * M, "t_graded": base + 25 * M,
        "severity_history": [(Severity.MAJOR, base + 25 * M)],
    }
    fields.update(overrides)
    return IncidentView(**fields)


def clock(incident: IncidentView, now: datetime, key: str,
          policy: Policy = DEFAULT_POLICY) -> ClockView:
    return {c.key: c for c in clocks_for(incident, policy, now)}[key]


def ids(steps: Sequence[Any]) -> list[str]:
    return [step.step_id for step in steps]


# --- T0 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t_event", "t_first_post", "expected"),
    [
        (T0, T0 - 2 * H, (T0, T0Source.T_EVENT)),
        (None, T0 - 2 * H, (T0 - 2 * H, T0Source.T_FIRST_POST)),
        (None, None, (T0 + 3 * H, T0Source.T_DETECTED)),
    ],
)
def test_it_starts_legal_clocks_from_the_event_else_the_first_post_else_detection(
        t_event: datetime | None, t_first_post: datetime | None,
        expected: tuple[datetime, T0Source]) -> None:
    assert choose_t0(t_event, t_first_post, T0 + 3 * H) == expected


def test_it_marks_a_t0_that_fell_back_to_detection() -> None:
    incident = make_incident(t_event=None, t_first_post=None, t_detected=T0)
    statement = clock(incident, T0 + H, "statement:0")
    assert statement.t0_source is T0Source.T_DETECTED and statement.t0_fallback
    assert not clock(make_incident(), T0 + H, "statement:0").t0_fallback


def test_it_converts_beijing_times_to_utc() -> None:
    beijing = T0.astimezone(SHANGHAI)
    statement = clock(make_incident(t_event=beijing), beijing + H, "statement:0")
    assert statement.due_at == T0 + 5 * H and statement.due_at.tzinfo is UTC


NAIVE = datetime(2026, 11, 29, 8, 0)
RULE = ClockRule(STATEMENT, 5 * H)


@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda: choose_t0(NAIVE, None, T0), "t_event"),
        (lambda: status_at(T0, None, RULE, NAIVE), "now"),
        (lambda: status_at(NAIVE, None, RULE, T0), "t0"),
        (lambda: make_incident(t_detected=NAIVE), "t_detected"),
        (lambda: make_incident(severity_history=[(Severity.MAJOR, NAIVE)]), "severity_history"),
        (lambda: make_incident(responses=[(STATEMENT, NAIVE)]), "responses"),
        (lambda: clocks_for(make_incident(), DEFAULT_POLICY, NAIVE), "now"),
        (lambda: steps_due([], NAIVE, T0), "since"),
    ],
)
def test_it_refuses_naive_datetimes_naming_them(call: Callable[[], object], names: str) -> None:
    with pytest.raises(ValueError, match=f"{names} is a naive datetime"):
        call()


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"due_after": timedelta(0)}, "must be positive"),
        ({"remind_before": (10 * M, 30 * M)}, "strictly decreasing"),
        ({"remind_before": (30 * M, 30 * M)}, "strictly decreasing"),
        ({"remind_before": (timedelta(seconds=90),)}, "whole minutes"),
    ],
)
def test_it_refuses_a_clock_rule_whose_steps_would_clash(fields: dict[str, Any],
                                                         says: str) -> None:
    with pytest.raises(ValueError, match=says):
        ClockRule(**{"kind": STATEMENT, "due_after": 5 * H, **fields})


# --- walking a 重大 incident ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (T0 + 25 * M, ClockState.PENDING),  # graded 重大 at T0+25min
        (T0 + 4 * H - timedelta(seconds=1), ClockState.PENDING),
        (T0 + 4 * H, ClockState.DUE_SOON),  # the first reminder opens the due_soon window
        (T0 + 4 * H + 59 * M, ClockState.DUE_SOON),
        (T0 + 5 * H, ClockState.DUE_SOON),  # the due instant: a publication now is on time
        (T0 + 5 * H + timedelta(microseconds=1), ClockState.OVERDUE),
        (T0 + 6 * H, ClockState.OVERDUE),
    ],
)
def test_it_walks_the_5_hour_statement_clock_from_pending_to_overdue(
        now: datetime, state: ClockState) -> None:
    statement = clock(make_incident(), now, "statement:0")
    assert statement.due_at == T0 + 5 * H
    assert statement.state is state


@pytest.mark.parametrize(
    ("published", "state"),
    [
        (T0 + 4 * H + 59 * M, ClockState.MET_ON_TIME),
        (T0 + 5 * H, ClockState.MET_ON_TIME),
        (T0 + 5 * H + M, ClockState.MET_LATE),
    ],
)
def test_it_marks_the_statement_met_on_time_or_late_by_its_publication_time(
        published: datetime, state: ClockState) -> None:
    incident = make_incident(responses=[(STATEMENT, published)])
    statement = clock(incident, T0 + 8 * H, "statement:0")
    assert (statement.state, statement.met_at) == (state, published)
    assert statement.next_steps == ()


def test_it_ignores_a_publication_later_than_now_when_travelling_back() -> None:
    incident = make_incident(responses=[(STATEMENT, T0 + 4 * H + 59 * M)])
    statement = clock(incident, T0 + 4 * H, "statement:0")
    assert statement.state is ClockState.DUE_SOON and statement.met_at is None


def test_it_gives_a_major_incident_a_press_conference_at_24_hours_and_daily_follow_ups() -> None:
    clocks = clocks_for(make_incident(), DEFAULT_POLICY, T0 + H)
    assert [(c.key, c.due_at - T0) for c in clocks] == [
        ("statement:0", 5 * H), ("press_conference:0", 24 * H), ("follow_up:1", 29 * H)]
    assert all(c.severity is Severity.MAJOR and not c.detected_late for c in clocks)


def test_it_lets_a_press_conference_within_5_hours_meet_the_statement_too() -> None:
    incident = make_incident(responses=[(PRESS, T0 + 3 * H)])
    clocks = {c.key: c.state for c in clocks_for(incident, DEFAULT_POLICY, T0 + 4 * H)}
    assert clocks["statement:0"] is ClockState.MET_ON_TIME
    assert clocks["press_conference:0"] is ClockState.MET_ON_TIME


def test_it_plans_reminders_due_and_the_first_overdue_notice_of_the_statement() -> None:
    statement = clock(make_incident(), T0 + H, "statement:0")
    assert [(s.step_id, s.at - T0) for s in statement.next_steps] == [
        ("statement:0:remind-60", 4 * H), ("statement:0:remind-30", 4 * H + 30 * M),
        ("statement:0:remind-10", 4 * H + 50 * M), ("statement:0:due", 5 * H),
        ("statement:0:overdue-1", 5 * H + 30 * M)]


def test_it_repeats_overdue_notices_every_30_minutes_while_unmet() -> None:
    statement = clock(make_incident(), T0 + 7 * H + M, "statement:0")
    assert [(s.step_id, s.at - T0) for s in statement.next_steps] == [
        ("statement:0:overdue-5", 7 * H + 30 * M)]


def test_it_stops_overdue_notices_after_the_policy_maximum() -> None:
    policy = load_policy({"overdue_repeat_max": 2})
    statement = clock(make_incident(), T0 + 6 * H + M, "statement:0", policy)
    assert statement.state is ClockState.OVERDUE and statement.notifies
    assert statement.next_steps == ()
    assert ids(list(plan(statement)))[-1] == "statement:0:overdue-2"


# --- raising severity -------------------------------------------------------------------------


def escalated_late() -> IncidentView:
    """较大 at T0+1h, raised to 重大 at T0+6h10: the 5-hour statement is already past due."""
    return make_incident(severity_history=[
        (Severity.SERIOUS, T0 + H), (Severity.MAJOR, T0 + 6 * H + 10 * M)])


def test_it_adds_the_major_clocks_from_the_same_t0_overdue_at_once_and_detected_late() -> None:
    raised = T0 + 6 * H + 10 * M
    statement = clock(escalated_late(), raised, "statement:0")
    assert statement.due_at == T0 + 5 * H
    assert statement.state is ClockState.OVERDUE
    assert statement.detected_late and statement.late_cause == "graded"
    first = next(plan(statement))
    assert (first.step_id, first.at, first.catch_up) == ("statement:0:overdue-2", raised, True)
    assert statement.next_steps[0].at == T0 + 6 * H + 30 * M


def test_it_notifies_the_late_statement_in_the_sweep_right_after_the_raise() -> None:
    raised = T0 + 6 * H + 10 * M
    clocks = clocks_for(escalated_late(), DEFAULT_POLICY, raised)
    fired = steps_to_fire(clocks, since=raised - M, now=raised)
    assert [(s.step_id, s.at) for s in fired] == [("statement:0:overdue-2", raised)]


def test_it_keeps_the_serious_response_clock_as_superseded_history() -> None:
    before = clock(escalated_late(), T0 + 2 * H, "response:0")
    after = clock(escalated_late(), T0 + 7 * H, "response:0")
    assert before.superseded_by is None and before.notifies
    assert after.superseded_by is Severity.MAJOR and not after.notifies
    assert after.due_at == before.due_at == T0 + 48 * H
    assert after.state is ClockState.PENDING and after.next_steps == ()


def test_it_lets_the_major_statement_also_meet_the_superseded_response() -> None:
    incident = make_incident(severity_history=escalated_late().severity_history,
                             responses=[(STATEMENT, T0 + 7 * H)])
    response = clock(incident, T0 + 8 * H, "response:0")
    assert (response.state, response.met_at) == (ClockState.MET_ON_TIME, T0 + 7 * H)


def test_it_blames_detection_when_the_incident_was_found_after_the_due() -> None:
    incident = make_incident(t_event=None, t_first_post=T0, t_detected=T0 + 7 * H,
                             severity_history=[(Severity.MAJOR, T0 + 7 * H)])
    statement = clock(incident, T0 + 7 * H, "statement:0")
    assert statement.detected_late and statement.late_cause == "detected"
    assert statement.t0_source is T0Source.T_FIRST_POST


def test_it_never_silently_lowers_severity() -> None:
    incident = make_incident(severity_history=[
        (Severity.MAJOR, T0 + H), (Severity.SERIOUS, T0 + 2 * H)])
    keys = [c.key for c in clocks_for(incident, DEFAULT_POLICY, T0 + 3 * H)]
    assert keys == ["statement:0", "press_conference:0", "follow_up:1"]


def test_it_replaces_an_internal_general_target_by_the_legal_serious_clock() -> None:
    policy = load_policy({"levels": {"general": {"clocks": [
        {"kind": "response", "due_after_hours": 24, "internal": True}]}}})
    incident = make_incident(severity_history=[
        (Severity.GENERAL, T0 + H), (Severity.SERIOUS, T0 + 2 * H)])
    early = clock(incident, T0 + 90 * M, "response:0", policy)
    later = clock(incident, T0 + 3 * H, "response:0", policy)
    assert (early.rule.internal, early.due_at) == (True, T0 + 24 * H)
    assert (later.rule.internal, later.due_at) == (False, T0 + 48 * H)


def test_it_has_no_clock_before_the_incident_is_graded() -> None:
    assert clocks_for(make_incident(), DEFAULT_POLICY, T0 + 24 * M) == []


def test_it_starts_no_clock_for_a_general_incident_by_default() -> None:
    incident = make_incident(severity_history=[(Severity.GENERAL, T0 + H)])
    assert clocks_for(incident, DEFAULT_POLICY, T0 + 50 * H) == []


def test_it_shows_a_waived_clock_with_its_reason_and_sends_nothing() -> None:
    incident = make_incident(waived={PRESS: "经领导小组批准，以书面通报代替发布会"})
    press = clock(incident, T0 + 30 * H, "press_conference:0")
    assert press.state is ClockState.WAIVED
    assert press.waived_reason == "经领导小组批准，以书面通报代替发布会"
    assert not press.notifies and press.next_steps == ()


# --- 持续发布 ---------------------------------------------------------------------------------


def test_it_restarts_the_follow_up_interval_at_each_publication() -> None:
    incident = make_incident(responses=[
        (STATEMENT, T0 + 3 * H), (FOLLOW_UP, T0 + 20 * H), (FOLLOW_UP, T0 + 50 * H)])
    follow_ups = [c for c in clocks_for(incident, DEFAULT_POLICY, T0 + 60 * H)
                  if c.kind is FOLLOW_UP]
    assert [(c.sequence, c.anchor - T0, c.due_at - T0, c.state) for c in follow_ups] == [
        (1, 3 * H, 27 * H, ClockState.MET_ON_TIME),
        (2, 20 * H, 44 * H, ClockState.MET_LATE),
        (3, 50 * H, 74 * H, ClockState.PENDING)]


def test_it_counts_follow_ups_from_the_statement_due_while_the_statement_is_unmet() -> None:
    follow_up = clock(make_incident(), T0 + 30 * H, "follow_up:1")
    assert follow_up.due_at == T0 + 29 * H and follow_up.state is ClockState.OVERDUE


def test_it_ignores_a_follow_up_published_before_the_statement() -> None:
    incident = make_incident(responses=[(FOLLOW_UP, T0 + H), (STATEMENT, T0 + 2 * H)])
    follow_up = clock(incident, T0 + 3 * H, "follow_up:1")
    assert follow_up.met_at is None and follow_up.due_at == T0 + 26 * H


def test_a_publication_before_t0_meets_nothing_and_anchors_no_follow_up() -> None:
    years_before = datetime(2020, 1, 1, tzinfo=SHANGHAI)
    incident = make_incident(responses=[(STATEMENT, years_before), (FOLLOW_UP, years_before)])
    now = T0 + 6 * H
    statement = clock(incident, now, "statement:0")
    follow_up = clock(incident, now, "follow_up:1")
    assert statement.met_at is None and statement.state is ClockState.OVERDUE
    assert follow_up.anchor == T0 + 5 * H and follow_up.due_at == T0 + 29 * H
    assert follow_up.state is ClockState.PENDING and follow_up.due_at - now == 23 * H


def test_it_stops_follow_ups_and_notifications_once_the_incident_is_closed() -> None:
    incident = make_incident(responses=[(STATEMENT, T0 + 4 * H)], closed_at=T0 + 10 * H)
    clocks = clocks_for(incident, DEFAULT_POLICY, T0 + 30 * H)
    assert [(c.key, c.state) for c in clocks] == [
        ("statement:0", ClockState.MET_ON_TIME), ("press_conference:0", ClockState.OVERDUE)]
    assert not any(c.notifies for c in clocks)
    assert steps_due(clocks, T0, T0 + 30 * H) == []
    assert next_check_at(clocks, T0 + 30 * H) is None


# --- sweeps and downtime ----------------------------------------------------------------------


def test_it_takes_steps_after_since_up_to_and_including_now() -> None:
    clocks = clocks_for(make_incident(), DEFAULT_POLICY, T0 + 5 * H)
    assert ids(steps_due(clocks, T0 + 4 * H, T0 + 5 * H)) == [
        "statement:0:remind-30", "statement:0:remind-10", "statement:0:due"]


def test_it_fires_only_the_latest_missed_reminder_after_downtime() -> None:
    clocks = clocks_for(make_incident(), DEFAULT_POLICY, T0 + 4 * H + 55 * M)
    missed = steps_due(clocks, T0 + 3 * H, T0 + 4 * H + 55 * M)
    assert ids(missed) == ["statement:0:remind-60", "statement:0:remind-30",
                           "statement:0:remind-10"]
    assert ids(latest_missed(missed)) == ["statement:0:remind-10"]


def test_it_fires_every_missed_overdue_notice_but_no_moot_reminder() -> None:
    clocks = clocks_for(make_incident(), DEFAULT_POLICY, T0 + 6 * H)
    fired = steps_to_fire(clocks, T0 + 3 * H, T0 + 6 * H)
    assert ids(fired) == ["statement:0:due", "statement:0:overdue-1", "statement:0:overdue-2"]


def test_it_sends_nothing_for_a_clock_met_during_the_downtime() -> None:
    incident = make_incident(responses=[(STATEMENT, T0 + 4 * H + 40 * M)])
    clocks = clocks_for(incident, DEFAULT_POLICY, T0 + 6 * H)
    assert [s for s in steps_to_fire(clocks, T0 + 3 * H, T0 + 6 * H)
            if s.clock_kind is STATEMENT] == []


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (T0 + H, T0 + 4 * H),  # the first reminder (and due_soon)
        (T0 + 4 * H + 50 * M, T0 + 5 * H),
        (T0 + 5 * H, T0 + 5 * H + timedelta(microseconds=1)),  # the turn to overdue
    ],
)
def test_it_tells_the_sweep_when_to_look_next(now: datetime, expected: datetime) -> None:
    incident = make_incident(responses=[(PRESS, T0 + 5 * H + 30 * M)])
    clocks = clocks_for(incident, DEFAULT_POLICY, now)
    assert next_check_at(clocks, now) == expected


# --- Beijing midnight -------------------------------------------------------------------------

BJ_T0 = datetime(2026, 11, 28, 19, 0, tzinfo=SHANGHAI)  # statement due 00:00 Beijing


@pytest.mark.parametrize(
    ("local_now", "state"),
    [
        ("2026-11-28 23:59:59", ClockState.DUE_SOON),
        ("2026-11-29 00:00:00", ClockState.DUE_SOON),
        ("2026-11-29 00:00:01", ClockState.OVERDUE),
    ],
)
def test_it_turns_overdue_just_after_midnight_beijing(local_now: str, state: ClockState) -> None:
    statement = clock(make_incident(t_event=BJ_T0), parse_local(local_now), "statement:0")
    assert format_local(statement.due_at) == "2026-11-29 00:00"
    assert statement.state is state


@pytest.mark.parametrize(
    ("local_published", "state"),
    [
        ("2026-11-28 23:59", ClockState.MET_ON_TIME),
        ("2026-11-29 00:00", ClockState.MET_ON_TIME),
        ("2026-11-29 00:01", ClockState.MET_LATE),
    ],
)
def test_it_judges_a_statement_published_around_midnight_beijing(
        local_published: str, state: ClockState) -> None:
    incident = make_incident(t_event=BJ_T0, responses=[(STATEMENT, parse_local(local_published))])
    assert clock(incident, parse_local("2026-11-29 09:00"), "statement:0").state is state


def test_it_runs_the_24_hour_clock_from_midnight_to_midnight_beijing() -> None:
    t0 = parse_local("2026-11-29 00:00")
    press = clock(make_incident(t_event=t0), t0 + H, "press_conference:0")
    assert format_local(press.due_at) == "2026-11-30 00:00"


# --- quiet hours (较大 only) ------------------------------------------------------------------


def test_it_holds_serious_notifications_until_the_end_of_quiet_hours() -> None:
    t0 = parse_local("2026-11-27 02:00")  # response due 2026-11-29 02:00 Beijing, inside 22–07
    incident = make_incident(t_event=t0, severity_history=[(Severity.SERIOUS, t0 + H)])
    response = clock(incident, t0 + 2 * H, "response:0", SERIOUS_WITH_QUIET_HOURS)
    first = response.next_steps[0]
    assert format_local(first.at) == "2026-11-29 07:00"
    assert first.kind is StepKind.OVERDUE  # reminders at 01:00–01:50 are dropped, not deferred
    assert response.due_at == parse_local("2026-11-29 02:00")  # the clock itself is unchanged


# --- real publish times as first posts --------------------------------------------------------

_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$")


def _real_publish_times() -> list[str]:
    base = shared_data_dir()
    manifest = base / "pages" / "manifest.json" if base else None
    if manifest is None or not manifest.exists():
        return []
    pages = json.loads(manifest.read_text(encoding="utf-8"))["pages"]
    times = [(page.get("expected") or {}).get("publish_time") for page in pages]
    return sorted({t for t in times if isinstance(t, str) and _LOCAL_TIME.match(t)})


@pytest.mark.parametrize("published", _real_publish_times())
def test_it_runs_clocks_in_calendar_hours_from_a_real_pages_publish_time(published: str) -> None:
    first_post = parse_local(published)  # Chinese pages give Beijing wall time without a zone
    incident = make_incident(t_event=None, t_first_post=first_post, t_detected=first_post + H,
                             severity_history=[(Severity.MAJOR, first_post + H)])
    clocks = {c.key: c for c in clocks_for(incident, DEFAULT_POLICY, first_post + 2 * H)}
    wall = datetime.fromisoformat(published)  # naive wall-clock arithmetic as the reference
    assert format_local(clocks["statement:0"].due_at) == f"{wall + 5 * H:%Y-%m-%d %H:%M}"
    assert format_local(clocks["press_conference:0"].due_at) == f"{wall + 24 * H:%Y-%m-%d %H:%M}"
    assert clocks["statement:0"].t0_source is T0Source.T_FIRST_POST


# --- properties -------------------------------------------------------------------------------

MINUTES = st.integers(min_value=0, max_value=80 * 60)
SEVERITIES = st.sampled_from([Severity.GENERAL, Severity.SERIOUS, Severity.MAJOR,
                              Severity.CRITICAL])
POLICY_CHOICES = [DEFAULT_POLICY, SERIOUS_WITH_QUIET_HOURS, load_policy({
    "levels": {"serious": {"clocks": [{"kind": "response", "due_after_hours": 6},
                                      {"kind": "press_conference", "due_after_hours": 12}]},
               "critical": {"clocks": [{"kind": "statement", "due_after_hours": 2},
                                       {"kind": "follow_up", "every_hours": 6}]}},
    "reminders_before_minutes": [180, 5], "overdue_repeat_minutes": 45})]
POLICIES = st.sampled_from(POLICY_CHOICES)


@st.composite
def incidents(draw: st.DrawFn) -> IncidentView:
    detected = draw(MINUTES)
    grades = draw(st.lists(st.tuples(SEVERITIES, MINUTES), min_size=1, max_size=4))
    published = draw(st.lists(st.tuples(st.sampled_from(list(ClockKind)), MINUTES), max_size=5))
    closed = draw(st.none() | MINUTES)
    return make_incident(
        t_event=draw(st.sampled_from([T0, None])), t_first_post=T0 - 30 * M,
        t_detected=T0 + detected * M,
        severity_history=[(s, T0 + (detected + m) * M) for s, m in grades],
        responses=[(k, T0 + m * M) for k, m in published],
        closed_at=None if closed is None else T0 + closed * M)


@given(due_after=st.integers(1, 10_000), met=st.integers(0, 10_000), later=st.integers(0, 10_000))
def test_property_a_clock_met_at_or_before_due_is_on_time(due_after: int, met: int,
                                                          later: int) -> None:
    rule = ClockRule(STATEMENT, due_after * M)
    met_at = T0 + min(met, due_after) * M
    assert status_at(T0, met_at, rule, met_at + later * M) is ClockState.MET_ON_TIME
    late = T0 + (due_after + 1 + met) * M
    assert status_at(T0, late, rule, late + later * M) is ClockState.MET_LATE


@pytest.mark.parametrize("policy", POLICY_CHOICES)
@given(incident=incidents(), pair=st.lists(SEVERITIES, min_size=2, max_size=2, unique=True),
       gap=MINUTES)
def test_property_raising_severity_never_moves_a_legal_due_time_later(
        policy: Policy, incident: IncidentView, pair: list[Severity], gap: int) -> None:
    low, high = sorted(pair, key=lambda severity: severity.rank)
    graded = incident.severity_history[0][1]
    before = replace(incident, severity_history=[(low, graded)])
    raised = replace(incident, severity_history=[(low, graded), (high, graded + gap * M)])
    now = graded + 100 * H
    earlier = {c.key: c for c in clocks_for(before, policy, now) if not c.rule.internal}
    later = {c.key: c for c in clocks_for(raised, policy, now)}
    assert set(earlier) <= set(later)
    for key, clock_before in earlier.items():
        assert later[key].due_at <= clock_before.due_at


@given(incident=incidents(), policy=POLICIES, now=MINUTES)
def test_property_every_live_clock_of_an_open_incident_has_a_next_step(
        incident: IncidentView, policy: Policy, now: int) -> None:
    at = T0 + now * M
    for c in clocks_for(incident, policy, at):
        open_ = incident.closed_at is None or incident.closed_at > at
        if c.state in {ClockState.PENDING, ClockState.DUE_SOON, ClockState.OVERDUE} and open_ \
                and c.superseded_by is None:
            assert c.notifies and c.next_steps, c
            assert all(step.at > at for step in c.next_steps)


@given(incident=incidents(), policy=POLICIES)
@settings(max_examples=60)
def test_property_steps_increase_strictly_and_none_is_before_t0_or_the_clock_start(
        incident: IncidentView, policy: Policy) -> None:
    for c in clocks_for(incident, policy, T0 + 200 * H):
        steps = list(islice(plan(c), 40))
        assert steps, c
        assert all(a.at < b.at for a, b in zip(steps, steps[1:]))
        assert steps[0].at >= max(c.t0, c.started_at)
        assert len({s.step_id for s in steps}) == len(steps)


@given(incident=incidents(), policy=POLICIES, cuts=st.lists(MINUTES, min_size=2, max_size=6))
@settings(max_examples=60)
def test_property_sweeping_in_pieces_sends_each_step_once(
        incident: IncidentView, policy: Policy, cuts: list[int]) -> None:
    times = sorted(T0 + m * M for m in cuts)
    clocks = clocks_for(incident, policy, times[-1])
    pieces = [s for a, b in zip(times, times[1:]) for s in steps_due(clocks, a, b)]
    assert sorted(ids(pieces)) == sorted(ids(steps_due(clocks, times[0], times[-1])))


@given(incident=incidents(), now=MINUTES)
@settings(max_examples=60)
def test_property_no_serious_step_falls_inside_quiet_hours(incident: IncidentView,
                                                          now: int) -> None:
    window = SERIOUS_WITH_QUIET_HOURS.levels.serious.quiet_hours
    assert window is not None
    for c in clocks_for(incident, SERIOUS_WITH_QUIET_HOURS, T0 + now * M):
        if c.severity is Severity.SERIOUS:
            for step in next_steps(c, T0 + now * M):
                local = step.at.astimezone(SHANGHAI).time()
                assert not (local >= window.start or local < window.end), step
