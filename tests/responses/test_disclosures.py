"""Disclosure items of the openness plan: due dates and display periods in working days."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from responses.disclosure_service import (DisclosureError, add_item, list_items,
                                          record_change, record_publication)
from responses.disclosures import (Cadence, DisclosureFacts, DisclosureKind, DisclosureState,
                                   obligation_at, period_of)
from responses.workdays import ChineseWorkCalendar, make_calendar
from yuqing.core.models import AuditEvent

NOW = datetime(2026, 10, 13, 2, 0, tzinfo=timezone.utc)
LONG, PERIODIC, IMMEDIATE = (DisclosureKind.LONG_TERM, DisclosureKind.PERIODIC,
                             DisclosureKind.IMMEDIATE)


@pytest.fixture(scope="module")
def cal() -> ChineseWorkCalendar:
    return make_calendar()


def state(facts: DisclosureFacts, today: date, cal: ChineseWorkCalendar) -> DisclosureState:
    return obligation_at(facts, today, cal).state


def test_a_long_term_item_is_due_five_working_days_after_the_decision_across_national_day(
        cal: ChineseWorkCalendar) -> None:
    facts = DisclosureFacts(LONG, date(2026, 9, 29))
    # Sep 30, Oct 8, Oct 9, Saturday Oct 10 (调休), Oct 12.
    assert obligation_at(facts, date(2026, 10, 1), cal).due_on == date(2026, 10, 12)
    assert state(facts, date(2026, 10, 12), cal) is DisclosureState.DUE
    assert state(facts, date(2026, 10, 13), cal) is DisclosureState.OVERDUE


def test_a_long_term_item_stays_displayed_until_changed_then_is_owed_again(
        cal: ChineseWorkCalendar) -> None:
    shown = DisclosureFacts(LONG, date(2026, 9, 29), published=(date(2026, 10, 9),))
    later = obligation_at(shown, date(2027, 6, 1), cal)
    assert (later.state, later.display_until) == (DisclosureState.DISPLAYED, None)
    changed = DisclosureFacts(LONG, date(2026, 9, 29), changed_on=date(2026, 11, 2),
                              published=(date(2026, 10, 9),))
    owed = obligation_at(changed, date(2026, 11, 10), cal)
    assert (owed.due_on, owed.state) == (date(2026, 11, 9), DisclosureState.OVERDUE)


def test_an_immediate_item_is_displayed_twenty_working_days_across_spring_festival(
        cal: ChineseWorkCalendar) -> None:
    facts = DisclosureFacts(IMMEDIATE, date(2026, 2, 11), published=(date(2026, 2, 13),))
    # Due: Feb 12, 13, Saturday Feb 14 (调休), then Feb 24, 25 after the holiday.
    assert obligation_at(facts, date(2026, 2, 13), cal).due_on == date(2026, 2, 25)
    shown = obligation_at(facts, date(2026, 3, 19), cal)
    assert (shown.state, shown.display_until) == (DisclosureState.DISPLAYED, date(2026, 3, 19))
    assert state(facts, date(2026, 3, 20), cal) is DisclosureState.MAY_WITHDRAW


def test_a_periodic_item_is_owed_each_quarter_by_its_last_working_day(
        cal: ChineseWorkCalendar) -> None:
    unpublished = DisclosureFacts(PERIODIC, date(2026, 7, 15), Cadence.QUARTERLY)
    q3 = obligation_at(unpublished, date(2026, 8, 1), cal)
    assert (q3.state, q3.due_on, q3.period) == (
        DisclosureState.DUE, date(2026, 9, 30), (date(2026, 7, 1), date(2026, 9, 30)))
    late = obligation_at(unpublished, date(2026, 11, 20), cal)
    assert (late.state, late.period) == (DisclosureState.OVERDUE,
                                         (date(2026, 7, 1), date(2026, 9, 30)))
    published = DisclosureFacts(PERIODIC, date(2026, 7, 15), Cadence.QUARTERLY,
                                published=(date(2026, 9, 10),))
    q4 = obligation_at(published, date(2026, 11, 20), cal)
    assert (q4.state, q4.due_on) == (DisclosureState.DUE, date(2026, 12, 31))


def test_a_half_yearly_item_is_displayed_thirty_working_days_across_qingming(
        cal: ChineseWorkCalendar) -> None:
    facts = DisclosureFacts(PERIODIC, date(2026, 1, 5), Cadence.HALF_YEARLY,
                            published=(date(2026, 3, 2),))
    shown = obligation_at(facts, date(2026, 4, 14), cal)  # Apr 4-6 off
    assert (shown.state, shown.display_until) == (DisclosureState.DISPLAYED, date(2026, 4, 14))
    assert state(facts, date(2026, 4, 15), cal) is DisclosureState.MAY_WITHDRAW


@pytest.mark.parametrize(("day", "cadence", "expected"), [
    (date(2026, 2, 28), Cadence.QUARTERLY, (date(2026, 1, 1), date(2026, 3, 31))),
    (date(2026, 12, 31), Cadence.QUARTERLY, (date(2026, 10, 1), date(2026, 12, 31))),
    (date(2026, 7, 1), Cadence.HALF_YEARLY, (date(2026, 7, 1), date(2026, 12, 31))),
    (date(2026, 6, 30), Cadence.HALF_YEARLY, (date(2026, 1, 1), date(2026, 6, 30))),
])
def test_periods_are_calendar_quarters_and_halves(day: date, cadence: Cadence,
                                                  expected: tuple[date, date]) -> None:
    assert period_of(day, cadence) == expected


def test_the_tracker_lists_what_is_owed_overdue_first_and_audits(
        session: Session, cal: ChineseWorkCalendar) -> None:
    overdue = add_item(session, title="行政许可事项目录", kind="long_term",
                       decided_on=date(2026, 9, 29), actor="alice", now=NOW)
    due = add_item(session, title="法律援助案件季度统计", kind="periodic", cadence="quarterly",
                   decided_on=date(2026, 10, 9), actor="alice", now=NOW, section="法律援助处")
    shown = add_item(session, title="公证收费标准调整", kind="immediate",
                     decided_on=date(2026, 10, 8), actor="alice", now=NOW)
    record_publication(session, shown.id, date(2026, 10, 9), "https://sfj.example.gov.cn/a/1",
                       actor="alice", now=NOW)
    owed = list_items(session, date(2026, 10, 13), cal)
    assert [(line.id, line.obligation.state) for line in owed] == [
        (overdue.id, DisclosureState.OVERDUE), (due.id, DisclosureState.DUE)]
    everything = {line.id: line for line in list_items(session, date(2026, 10, 13), cal,
                                                       only_owed=False)}
    assert everything[shown.id].obligation.state is DisclosureState.DISPLAYED
    assert everything[shown.id].url == "https://sfj.example.gov.cn/a/1"
    actions = session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "disclosure")).all()
    assert actions == ["disclosure.add"] * 3 + ["disclosure.publish"]


def test_a_change_makes_a_published_long_term_item_owed_again(
        session: Session, cal: ChineseWorkCalendar) -> None:
    item = add_item(session, title="权责清单", kind="long_term", decided_on=date(2026, 9, 1),
                    actor="alice", now=NOW)
    record_publication(session, item.id, date(2026, 9, 2), "https://sfj.example.gov.cn/q",
                       actor="alice", now=NOW)
    assert list_items(session, date(2026, 11, 2), cal) == []
    record_change(session, item.id, date(2026, 11, 2), actor="alice", now=NOW)
    [line] = list_items(session, date(2026, 11, 10), cal)
    assert (line.id, line.obligation.state) == (item.id, DisclosureState.OVERDUE)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kind": "periodic"}, "needs a cadence"),
    ({"kind": "immediate", "cadence": "quarterly"}, "only periodic items take a cadence"),
    ({"kind": "weekly"}, "unknown kind"),
    ({"kind": "long_term", "title": " "}, "a title is required"),
])
def test_bad_items_are_refused_and_nothing_is_stored(
        session: Session, kwargs: dict[str, str], message: str) -> None:
    args = {"title": "事项", **kwargs}
    with pytest.raises(DisclosureError, match=message):
        add_item(session, decided_on=date(2026, 10, 9), actor="alice", now=NOW, **args)
    assert list_items(session, date(2026, 10, 9), make_calendar(), only_owed=False) == []


def test_only_a_long_term_item_records_a_change(session: Session) -> None:
    item = add_item(session, title="事项", kind="immediate", decided_on=date(2026, 10, 9),
                    actor="alice", now=NOW)
    with pytest.raises(DisclosureError, match="only long-term items change"):
        record_change(session, item.id, date(2026, 10, 12), actor="alice", now=NOW)
    with pytest.raises(DisclosureError, match="no disclosure item #999"):
        record_publication(session, 999, date(2026, 10, 12), "https://x.test/", actor="a",
                           now=NOW)
