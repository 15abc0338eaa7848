"""When the scheduled timeliness reports fall due, for which period, and where their files are.

The ``reports:`` section of the config (validated here, used by ``yuqing run``)::

    reports:
      weekly: "mon 08:30"      # every Monday 08:30 Beijing time: the previous Monday–Sunday
      monthly: "1 08:30"       # the 1st of each month 08:30: the previous calendar month
      formats: [docx, html]    # docx is always written: it is what the leaders receive
      out_dir: var/reports     # relative to the working directory of yuqing run

Each schedule's *latest* sending time at or before ``now`` names one period; a period is sent
once (the outbox key holds schedule, period and recipient), so after downtime only the latest
missed period is caught up, once. No renderer is imported here: the config check uses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, field_validator

from alerts.transports import NotificationError
from responses.report import Period

FORMATS = ("docx", "xlsx", "html", "csv")  # responses.render.FORMATS (kept equal by a test)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KIND = "report"  # Notification.kind of a scheduled report
_WEEKLY = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+(\d{1,2}):(\d{2})$")
_MONTHLY = re.compile(r"^(\d{1,2})\s+(\d{1,2}):(\d{2})$")


def _clock(hour: str, minute: str) -> time:
    h, m = int(hour), int(minute)
    if h > 23 or m > 59:
        raise ValueError(f"no such time of day {h:02d}:{m:02d}")
    return time(h, m)


@dataclass(frozen=True)
class Schedule:
    """``weekly`` on ``day`` (0 = Monday) or ``monthly`` on ``day`` (1–28), at ``at`` local."""

    name: str
    day: int
    at: time

    def latest(self, now: datetime, tz: ZoneInfo) -> tuple[datetime, Period]:
        """The latest sending time at or before ``now`` (aware UTC) and the period it reports."""
        local = now.astimezone(tz)
        if self.name == "weekly":
            day = local.date() - timedelta(days=(local.weekday() - self.day) % 7)
            if datetime.combine(day, self.at, tzinfo=tz) > local:
                day -= timedelta(days=7)
            end = day - timedelta(days=(day.weekday() + 1) % 7 or 7)  # the Sunday before
            period = Period(end - timedelta(days=6), end, tz)
        else:
            day = local.date().replace(day=self.day)
            if datetime.combine(day, self.at, tzinfo=tz) > local:
                day = (day.replace(day=1) - timedelta(days=1)).replace(day=self.day)
            end = day.replace(day=1) - timedelta(days=1)
            period = Period(end.replace(day=1), end, tz)
        sent = datetime.combine(day, self.at, tzinfo=tz).astimezone(ZoneInfo("UTC"))
        return sent, period

    @property
    def label(self) -> str:
        return "周报" if self.name == "weekly" else "月报"


class ReportsSection(BaseModel):
    """The ``reports:`` config section; no ``weekly`` and no ``monthly``: nothing is sent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weekly: str | None = None
    monthly: str | None = None
    formats: tuple[str, ...] = ("docx",)
    out_dir: Path = Path("var/reports")

    @field_validator("weekly")
    @classmethod
    def _weekly(cls, value: str | None) -> str | None:
        if value is not None:
            parse_weekly(value)
        return value

    @field_validator("monthly")
    @classmethod
    def _monthly(cls, value: str | None) -> str | None:
        if value is not None:
            parse_monthly(value)
        return value

    @field_validator("formats", mode="before")
    @classmethod
    def _formats(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, (list, tuple)):
            unknown = [str(v) for v in value if v not in FORMATS]
            if unknown:
                raise ValueError(f"unknown format {', '.join(unknown)}: expected some of "
                                 f"{', '.join(FORMATS)}")
            # docx first and always: it is the file the leaders receive.
            return tuple(dict.fromkeys(["docx", *value]))
        return value

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        found = []
        if self.weekly is not None:
            found.append(parse_weekly(self.weekly))
        if self.monthly is not None:
            found.append(parse_monthly(self.monthly))
        return tuple(found)


def parse_weekly(text: str) -> Schedule:
    match = _WEEKLY.match(text.strip().lower())
    if match is None:
        raise ValueError(f"expected a weekday and a time like \"mon 08:30\" "
                         f"({'/'.join(WEEKDAYS)})")
    return Schedule("weekly", WEEKDAYS.index(match[1]), _clock(match[2], match[3]))


def parse_monthly(text: str) -> Schedule:
    match = _MONTHLY.match(text.strip())
    if match is None:
        raise ValueError("expected a day of the month and a time like \"1 08:30\"")
    day = int(match[1])
    if not 1 <= day <= 28:
        raise ValueError(f"day {day} is not in 1–28 (every month has it)")
    return Schedule("monthly", day, _clock(match[2], match[3]))


# --- keys and files -----------------------------------------------------------------------------


def marker(schedule: Schedule, period: Period) -> str:
    """One scheduled run: ``weekly:2026-11-23:2026-11-29``."""
    return f"{schedule.name}:{period.start.isoformat()}:{period.end.isoformat()}"


def outbox_key(schedule: Schedule, period: Period, recipient: str | None) -> str:
    """The idempotency key of one recipient's copy: sent once, whatever restarts."""
    return f"{KIND}:{marker(schedule, period)}:{recipient or '-'}"


def file_name(name: str, start: date, end: date, fmt: str) -> str:
    return f"timeliness-{name}-{start.isoformat()}-{end.isoformat()}.{fmt}"


def report_file(out_dir: Path, schedule: Schedule, period: Period, fmt: str) -> Path:
    return out_dir / file_name(schedule.name, period.start, period.end, fmt)


def export_link(dashboard_url: str | None, period: Period, fmt: str = "docx") -> str | None:
    """The dashboard's download of the period's report (the web's ``/reports/export``)."""
    if not dashboard_url:
        return None
    return (f"{dashboard_url.rstrip('/')}/reports/export?from={period.start.isoformat()}"
            f"&to={period.end.isoformat()}&format={fmt}")


MAIL_SCHEMES = ("mailto", "mailtos")


@dataclass(frozen=True)
class ReportAttachments:
    """The outbox's attachment rule (``alerts.sweep.AlertSetup.attachments``): a scheduled
    report going out by e-mail carries its .docx; every other channel has the link only."""

    out_dir: Path

    def __call__(self, kind: str, key: str, channel: str) -> tuple[Path, ...]:
        if kind != KIND or channel.partition("://")[0].lower() not in MAIL_SCHEMES:
            return ()
        parts = key.split(":")
        if len(parts) < 5:
            return ()
        name, start, end = parts[1], date.fromisoformat(parts[2]), date.fromisoformat(parts[3])
        path = self.out_dir / file_name(name, start, end, "docx")
        if not path.is_file():  # transient: retried, then the next channel (the link)
            raise NotificationError(f"报告文件缺失 / report file missing: {path}")
        return (path,)
