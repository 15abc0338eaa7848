"""When `yuqing run` crawls a source, and for how long a crawl may run.

A source is crawled every ``every_minutes`` or on a ``cron`` line (five fields, Beijing time),
each run started up to ``jitter_seconds`` late so that sources of one site do not all start on
the same second. A crawl is stopped at its time limit: ``time_limit_minutes`` when given, else the
source's interval (a crawl still running when the next one is due has failed at its job), then
never less than one minute; never more than 30 minutes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from yuqing.core.clock import SHANGHAI

if TYPE_CHECKING:
    from crawler.sources import SourceConfig

MAX_TIME_LIMIT = timedelta(minutes=30)
MIN_TIME_LIMIT = timedelta(minutes=1)


# crontab counts weekdays from Sunday (0 or 7); APScheduler 3 from Monday (0), also in its
# ``from_crontab``, so "1-5" would mean Tuesday to Saturday: weekdays are passed by name.
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekday(token: str, line: str) -> int:
    token = token.strip().lower()
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    if token[:3] in _DAY_NAMES:
        return _DAY_NAMES.index(token[:3])
    raise ValueError(f"cron {line!r}: 星期字段无效 / bad weekday {token!r} (0-7 or sun-sat)")


def _weekdays(field: str, line: str) -> str:
    """A crontab weekday field as APScheduler weekday names."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"cron {line!r}: 步长无效 / bad step {step_text!r}")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            lo, hi = span.split("-", 1)
            first, last = _weekday(lo, line), _weekday(hi, line)
            if hi.strip() == "7":
                last = 7
        else:
            first = last = _weekday(span, line)
            if step is not None:
                last = 6
        if first > last:
            raise ValueError(f"cron {line!r}: 星期范围颠倒 / weekday range {span!r} runs backwards")
        days.update(d % 7 for d in range(first, last + 1, step or 1))
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def cron_trigger(line: str, *, jitter: int | None = None) -> CronTrigger:
    """A crontab line (minute hour day month weekday, Beijing time) as a trigger; ``ValueError``
    with the reason when it is none."""
    fields = line.split()
    if len(fields) != 5:
        raise ValueError(f"cron {line!r}: 需要 5 个字段（分 时 日 月 周）/ expected 5 fields "
                         f"(minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    weekdays = _weekdays(weekday, line)
    try:
        return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                           day_of_week=weekdays, timezone=SHANGHAI,
                           jitter=jitter)
    except ValueError as exc:
        raise ValueError(f"cron {line!r}: {exc}") from None


def check_cron(line: str) -> None:
    """Raise ``ValueError`` with the reason when ``line`` is no five-field crontab line."""
    cron_trigger(line)


def trigger(source: SourceConfig) -> BaseTrigger:
    """The APScheduler trigger of a source's crawls."""
    jitter = int(source.jitter_seconds) or None
    if source.cron is not None:
        return cron_trigger(source.cron, jitter=jitter)
    return IntervalTrigger(seconds=source.every_minutes * 60, timezone=SHANGHAI, jitter=jitter)


def time_limit(source: SourceConfig) -> timedelta:
    """How long one crawl of ``source`` may run before it is killed."""
    if source.time_limit_minutes is not None:  # as written, up to the maximum
        return min(timedelta(minutes=source.time_limit_minutes), MAX_TIME_LIMIT)
    if source.cron is not None:
        wanted = MAX_TIME_LIMIT
    else:
        wanted = timedelta(minutes=source.every_minutes)
    return max(MIN_TIME_LIMIT, min(wanted, MAX_TIME_LIMIT))
