"""Working-day arithmetic on the Chinese public-holiday calendar (holidays and 调休 workdays).

``chinese_calendar`` knows the State Council's arrangement up to the last year it shipped (2026
for 1.11) and raises ``NotImplementedError`` beyond it. An override file (YAML) adds or corrects
holidays and adjusted working days; the package ships one (``responses/data/holidays.yaml``) and
an admin may give another. A year that neither knows falls back to Monday–Friday, with one
warning per year, so a deadline is never lost to a missing calendar.

The calendar is passed in, like ``now``: ``add_workdays(start, n, calendar)``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import chinese_calendar
import yaml

log = logging.getLogger(__name__)

PACKAGE_OVERRIDES = Path(__file__).parent / "data" / "holidays.yaml"


class WorkCalendar(Protocol):
    def is_workday(self, day: date) -> bool: ...


class CalendarError(ValueError):
    """The override file is unreadable or malformed; the message names the file and entry."""


@dataclass(frozen=True)
class Overrides:
    """Dates an override file declares: holidays and adjusted working days (调休). They win over
    the library; a year they name but the library does not know counts its other days
    Monday–Friday without a warning."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    @property
    def years(self) -> frozenset[int]:
        return frozenset(d.year for d in self.holidays | self.workdays)

    def merged(self, other: Overrides) -> Overrides:
        """``other`` wins where both name a date."""
        return Overrides(holidays=(self.holidays - other.workdays) | other.holidays,
                         workdays=(self.workdays - other.holidays) | other.workdays)


@dataclass
class ChineseWorkCalendar:
    """``chinese_calendar`` plus overrides; weekends-only (warned once per year) otherwise."""

    overrides: Overrides = field(default_factory=Overrides)
    _warned: set[int] = field(default_factory=set, repr=False)

    def is_workday(self, day: date) -> bool:
        if day in self.overrides.workdays:
            return True
        if day in self.overrides.holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            # A year the override file covers needs no warning: its other days are ordinary.
            if day.year not in self.overrides.years:
                self._warn_unknown(day.year)
            return day.weekday() < 5

    def _warn_unknown(self, year: int) -> None:
        if year not in self._warned:
            self._warned.add(year)
            log.warning("no holiday calendar for %d (chinese_calendar %s, no overrides): "
                        "counting Monday-Friday as working days", year,
                        getattr(chinese_calendar, "__version__", "?"))


def add_workdays(start: date, n: int, calendar: WorkCalendar | None = None) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself never counts); ``n=0`` gives
    ``start``. Raises ``ValueError`` for a negative ``n``."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    cal = calendar or default_calendar()
    day, left = start, n
    while left:
        day += timedelta(days=1)
        if cal.is_workday(day):
            left -= 1
    return day


def count_workdays(start: date, end: date, calendar: WorkCalendar | None = None) -> int:
    """Working days d with ``start < d <= end`` (0 when ``end <= start``)."""
    cal = calendar or default_calendar()
    return sum(1 for offset in range(1, (end - start).days + 1)
               if cal.is_workday(start + timedelta(days=offset)))


def last_workday_on_or_before(day: date, calendar: WorkCalendar | None = None) -> date:
    cal = calendar or default_calendar()
    while not cal.is_workday(day):
        day -= timedelta(days=1)
    return day


# --- the override file ------------------------------------------------------------------------


def load_overrides(path: Path) -> Overrides:
    """Read an override file; ``CalendarError`` names the file and the bad entry."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CalendarError(f"{path}: cannot read holiday overrides: {exc}") from exc
    except ValueError as exc:  # YAML itself reads 2027-13-01 as a date and fails
        raise CalendarError(f"{path}: not a date: {exc}") from exc
    if not isinstance(data, Mapping):
        raise CalendarError(f"{path}: expected a mapping of years, got {type(data).__name__}")
    holidays: set[date] = set()
    workdays: set[date] = set()
    for year, entry in data.items():
        where = f"{path}: {year}"
        if not isinstance(entry, Mapping) or set(entry) - {"holidays", "workdays"}:
            raise CalendarError(f"{where}: expected keys 'holidays' and/or 'workdays'")
        holidays |= _dates(entry.get("holidays") or [], f"{where}.holidays", year)
        workdays |= _dates(entry.get("workdays") or [], f"{where}.workdays", year)
    if both := holidays & workdays:
        raise CalendarError(f"{path}: both holiday and workday: {min(both).isoformat()}")
    return Overrides(frozenset(holidays), frozenset(workdays))


def _dates(items: Any, where: str, year: Any) -> set[date]:
    """Dates and ``FROM..TO`` ranges (both ends included), all within ``year``."""
    if not isinstance(items, list):
        raise CalendarError(f"{where}: expected a list of dates")
    found: set[date] = set()
    for item in items:
        first, _, last = str(item).partition("..")
        try:
            lo = date.fromisoformat(first.strip())
            hi = date.fromisoformat(last.strip()) if last else lo
        except ValueError:
            raise CalendarError(f"{where}: not a date or FROM..TO range: {item!r}") from None
        if hi < lo or {lo.year, hi.year} != {int(year)}:
            raise CalendarError(f"{where}: {item!r} is not a range within {year}")
        found |= {lo + timedelta(days=i) for i in range((hi - lo).days + 1)}
    return found


def make_calendar(paths: Iterable[Path] = ()) -> ChineseWorkCalendar:
    """The shipped overrides, then each admin file in order (later files win)."""
    overrides = load_overrides(PACKAGE_OVERRIDES)
    for path in paths:
        overrides = overrides.merged(load_overrides(path))
    return ChineseWorkCalendar(overrides)


@lru_cache(maxsize=1)
def default_calendar() -> ChineseWorkCalendar:
    """The shipped calendar, built on first use (never at import time)."""
    return make_calendar()
