"""The report periods a person picks by name (本周, 上周, 本月, 上月): whole calendar weeks
(Monday to Sunday) and months in the report's time zone, around the day ``now`` falls on."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from responses.report import Period
from yuqing.core.clock import SHANGHAI, ensure_aware

PRESETS: dict[str, str] = {"this_week": "本周", "last_week": "上周", "this_month": "本月",
                           "last_month": "上月"}
LONGEST = timedelta(days=3 * 366)  # a longer period is refused (the report reads every row)


class PeriodError(ValueError):
    """The period asked for is not one; the message (Chinese / English) says why."""


def preset(name: str, now: datetime, tz: ZoneInfo = SHANGHAI) -> Period:
    """The named period around the local day of ``now``; ``PeriodError`` for another name."""
    today = ensure_aware(now, "now").astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    if name == "this_week":
        return Period(monday, monday + timedelta(days=6), tz)
    if name == "last_week":
        return Period(monday - timedelta(days=7), monday - timedelta(days=1), tz)
    if name == "this_month":
        return Period(first, _next_month(first) - timedelta(days=1), tz)
    if name == "last_month":
        end = first - timedelta(days=1)
        return Period(end.replace(day=1), end, tz)
    raise PeriodError(f"未知的报告期间 {name!r}：可选 {'、'.join(PRESETS.values())} / "
                      f"unknown preset, expected one of {', '.join(PRESETS)}")


def between(start: str, end: str, tz: ZoneInfo = SHANGHAI) -> Period:
    """The period of two ``YYYY-MM-DD`` dates, both included; ``PeriodError`` when a date does
    not parse, the end comes before the start or the period is longer than three years."""
    try:
        period = Period(date.fromisoformat(start), date.fromisoformat(end), tz)
    except ValueError:
        raise PeriodError("报告期间无效：起止日期须为 YYYY-MM-DD，且结束不早于开始 / invalid "
                          "period: from and to must be YYYY-MM-DD, to not before from") from None
    if period.end - period.start > LONGEST:
        raise PeriodError("报告期间过长（最长三年） / period longer than three years")
    return period


def name_of(period: Period, now: datetime) -> str | None:
    """The preset that is exactly ``period`` at ``now``, if any (to mark the chosen button)."""
    return next((name for name in PRESETS if preset(name, now, period.tz) == period), None)


def _next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)
