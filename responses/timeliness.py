"""Pure rules of the timeliness report: a clock's outcome, why it was late, and the statistics.

Nothing here reads the database or the clock: the report builder passes ``as_of``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum


class Outcome(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"  # met after its due
    OVERDUE = "overdue"  # unmet past its due
    PENDING = "pending"  # unmet, not yet due
    WAIVED = "waived"  # removed with a recorded reason (不予公开备案)

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]


OUTCOME_LABELS = {Outcome.ON_TIME: "按时完成", Outcome.LATE: "逾期完成",
                  Outcome.OVERDUE: "逾期未完成", Outcome.PENDING: "未到期",
                  Outcome.WAIVED: "已备案豁免"}


class Cause(StrEnum):
    DETECTED_LATE = "detected_late"
    GRADED_LATE = "graded_late"
    APPROVAL_LATE = "approval_late"
    PUBLISHED_LATE = "published_late"
    NOT_PUBLISHED = "not_published"

    @property
    def label(self) -> str:
        return CAUSE_LABELS[self]


CAUSE_LABELS = {Cause.DETECTED_LATE: "发现滞后", Cause.GRADED_LATE: "定级滞后",
                Cause.APPROVAL_LATE: "审批滞后", Cause.PUBLISHED_LATE: "发布滞后",
                Cause.NOT_PUBLISHED: "尚未发布"}


def outcome_at(due_at: datetime, met_at: datetime | None, waived: bool,
               as_of: datetime) -> Outcome:
    """A clock's outcome as known at ``as_of`` (a meeting after ``as_of`` is not yet known).
    Met exactly at the due instant is on time, as in ``alerts.clocks.status_at``."""
    if waived:
        return Outcome.WAIVED
    if met_at is not None and met_at <= as_of:
        return Outcome.ON_TIME if met_at <= due_at else Outcome.LATE
    return Outcome.OVERDUE if as_of > due_at else Outcome.PENDING


@dataclass(frozen=True)
class LateFacts:
    """What is known about one late or overdue clock and the incident behind it."""

    due_at: datetime
    outcome: Outcome
    detected_at: datetime
    started_at: datetime | None  # when the clock's level was reached (graded)
    approved_at: datetime | None = None  # the approval of the response that met or meets it


def causes_of(facts: LateFacts) -> tuple[Cause, ...]:
    """Why a clock was missed, the earliest link of the chain first; () if it was not missed.

    Detection or grading after the due made the clock impossible to meet; an approval after it
    made publication impossible in time; otherwise the publication itself came late (or not
    yet)."""
    if facts.outcome not in (Outcome.LATE, Outcome.OVERDUE):
        return ()
    found: list[Cause] = []
    if facts.detected_at > facts.due_at:
        found.append(Cause.DETECTED_LATE)
    elif facts.started_at is not None and facts.started_at > facts.due_at:
        found.append(Cause.GRADED_LATE)
    if facts.approved_at is not None and facts.approved_at > facts.due_at:
        found.append(Cause.APPROVAL_LATE)
    if not found:
        found.append(Cause.PUBLISHED_LATE if facts.outcome is Outcome.LATE
                     else Cause.NOT_PUBLISHED)
    return tuple(found)


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: Sequence[float]) -> float | None:
    """The nearest-rank 90th percentile: 90 % of the values are at most this one."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def bucket_of(day: date, monthly: bool) -> date:
    """The week (Monday) or month (first day) ``day`` falls in, for the trend chart."""
    if monthly:
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())
