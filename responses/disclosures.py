"""Disclosure items of the bureau's openness plan (政务公开): pure rules over dates.

- Long-term items (长期公开) are due within 5 working days of being decided, or of a change, and
  stay displayed until changed.
- Periodic items (定期公开) are published every quarter or half-year and displayed for at least 30
  working days. The plan gives no day within the period, so each period's publication is due by
  the period's last working day.
- Immediate items (即时公开) are due within 5 working days and displayed for at least 20.

"Displayed for at least N working days" is read on the safe side: the item must still be shown
on the N-th working day after the day it went up, and may come down the day after. Nothing here
reads the clock or the database; ``today`` is the bureau's (Asia/Shanghai) date.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from responses.workdays import WorkCalendar, add_workdays, last_workday_on_or_before


class DisclosureKind(StrEnum):
    LONG_TERM = "long_term"
    PERIODIC = "periodic"
    IMMEDIATE = "immediate"

    @property
    def label(self) -> str:
        return {"long_term": "长期公开", "periodic": "定期公开", "immediate": "即时公开"}[self.value]


class Cadence(StrEnum):
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"

    @property
    def label(self) -> str:
        return {"quarterly": "按季度", "half_yearly": "按半年"}[self.value]


class DisclosureState(StrEnum):
    DUE = "due"
    OVERDUE = "overdue"
    DISPLAYED = "displayed"
    MAY_WITHDRAW = "may_withdraw"

    @property
    def label(self) -> str:
        return {"due": "待公开", "overdue": "逾期未公开", "displayed": "公开中",
                "may_withdraw": "可撤下"}[self.value]


PUBLISH_WITHIN_WORKDAYS = 5
DISPLAY_WORKDAYS = {DisclosureKind.PERIODIC: 30, DisclosureKind.IMMEDIATE: 20}


@dataclass(frozen=True)
class DisclosureFacts:
    """One item as recorded: when it was decided (or last changed) and when it went up."""

    kind: DisclosureKind
    decided_on: date
    cadence: Cadence | None = None
    changed_on: date | None = None
    published: Sequence[date] = ()

    def __post_init__(self) -> None:
        if (self.kind is DisclosureKind.PERIODIC) != (self.cadence is not None):
            raise ValueError("a periodic item needs a cadence, and only a periodic item has one")


@dataclass(frozen=True)
class Obligation:
    """What the item owes on ``today``: the publication in question and its state."""

    basis: date  # decided or changed on, or the period's first day
    due_on: date
    state: DisclosureState
    published_on: date | None = None
    display_until: date | None = None  # None: displayed until changed (long-term)
    period: tuple[date, date] | None = None


def period_of(day: date, cadence: Cadence) -> tuple[date, date]:
    """The quarter or half-year containing ``day``: (first day, last day)."""
    months = 3 if cadence is Cadence.QUARTERLY else 6
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    end_month = first_month + months
    end = (date(day.year + 1, 1, 1) if end_month > 12 else date(day.year, end_month, 1))
    return start, end - timedelta(days=1)


def _periods(first: date, last: date, cadence: Cadence) -> Iterator[tuple[date, date]]:
    period = period_of(first, cadence)
    while period[0] <= last:
        yield period
        period = period_of(period[1] + timedelta(days=1), cadence)


def _first_between(published: Sequence[date], lo: date, hi: date) -> date | None:
    return min((d for d in published if lo <= d <= hi), default=None)


def _displayed(basis: date, due: date, published: date | None, display: int | None,
               today: date, calendar: WorkCalendar) -> Obligation:
    if published is None:
        state = DisclosureState.DUE if today <= due else DisclosureState.OVERDUE
        return Obligation(basis, due, state)
    until = None if display is None else add_workdays(published, display, calendar)
    state = (DisclosureState.MAY_WITHDRAW if until is not None and today > until
             else DisclosureState.DISPLAYED)
    return Obligation(basis, due, state, published, until)


def obligation_at(facts: DisclosureFacts, today: date, calendar: WorkCalendar) -> Obligation:
    """The item's current obligation on ``today`` (publications after ``today`` are unknown)."""
    if facts.kind is DisclosureKind.PERIODIC:
        assert facts.cadence is not None
        return _periodic(facts, facts.cadence, today, calendar)
    basis = max(facts.decided_on, facts.changed_on or facts.decided_on)
    due = add_workdays(basis, PUBLISH_WITHIN_WORKDAYS, calendar)
    published = _first_between(facts.published, basis, today)
    return _displayed(basis, due, published, DISPLAY_WORKDAYS.get(facts.kind), today, calendar)


def _periodic(facts: DisclosureFacts, cadence: Cadence, today: date,
              calendar: WorkCalendar) -> Obligation:
    # The earliest period without a publication is the one owed; else the latest one.
    periods = list(_periods(facts.decided_on, max(today, facts.decided_on), cadence))
    for start, end in periods:
        published = _first_between(facts.published, start, min(end, today))
        if published is None or (start, end) == periods[-1]:
            due = last_workday_on_or_before(end, calendar)
            found = _displayed(start, due, published, DISPLAY_WORKDAYS[facts.kind], today,
                               calendar)
            return Obligation(found.basis, found.due_on, found.state, found.published_on,
                              found.display_until, (start, end))
    raise AssertionError("unreachable: there is always a period")


def needs_action(obligation: Obligation) -> bool:
    return obligation.state in (DisclosureState.DUE, DisclosureState.OVERDUE)
