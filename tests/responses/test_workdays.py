"""Working days across the 2026 adjustments (调休) and in 2027, which chinese_calendar 1.11 lacks."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from responses.workdays import (CalendarError, ChineseWorkCalendar, add_workdays, count_workdays,
                                load_overrides, make_calendar)

# An arrangement written for these tests only (not the State Council's 2027 notice).
TEST_2027 = """
2027:
  holidays:
    - 2027-01-01
    - 2027-02-08..2027-02-12
  workdays:
    - 2027-02-06
"""


@pytest.fixture
def calendar() -> ChineseWorkCalendar:
    return make_calendar()


@pytest.mark.parametrize(("start", "n", "expected"), [
    (date(2026, 9, 30), 1, date(2026, 10, 8)),    # Oct 1-7 off
    (date(2026, 9, 30), 3, date(2026, 10, 10)),   # Saturday Oct 10 is worked (调休)
    (date(2026, 9, 30), 4, date(2026, 10, 12)),   # Sunday Oct 11 is not
    (date(2026, 9, 30), 5, date(2026, 10, 13)),
    (date(2026, 9, 19), 1, date(2026, 9, 20)),    # Sunday Sep 20 is worked before National Day
    (date(2026, 2, 13), 1, date(2026, 2, 14)),    # Saturday Feb 14 is worked before 春节
    (date(2026, 2, 14), 1, date(2026, 2, 24)),    # Feb 15-23 off
    (date(2026, 2, 27), 1, date(2026, 2, 28)),    # Saturday Feb 28 is worked after it
    (date(2026, 2, 27), 2, date(2026, 3, 2)),
    (date(2026, 2, 27), 0, date(2026, 2, 27)),
])
def test_it_adds_working_days_across_the_2026_adjustments(
        calendar: ChineseWorkCalendar, start: date, n: int, expected: date) -> None:
    assert add_workdays(start, n, calendar) == expected


@pytest.mark.parametrize(("start", "end", "expected"), [
    (date(2026, 2, 13), date(2026, 2, 28), 6),    # Feb 14, 24, 25, 26, 27, 28
    (date(2026, 9, 30), date(2026, 10, 12), 4),   # Oct 8, 9, 10, 12
    (date(2026, 9, 30), date(2026, 10, 7), 0),    # the whole holiday
    (date(2026, 10, 8), date(2026, 10, 8), 0),    # start excluded, end included: empty
    (date(2026, 10, 7), date(2026, 10, 8), 1),
    (date(2026, 10, 9), date(2026, 10, 8), 0),    # end before start
])
def test_it_counts_working_days_after_start_up_to_end(
        calendar: ChineseWorkCalendar, start: date, end: date, expected: int) -> None:
    assert count_workdays(start, end, calendar) == expected


def test_2027_without_overrides_counts_weekdays_and_warns_once(
        calendar: ChineseWorkCalendar, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="responses.workdays"):
        assert add_workdays(date(2026, 12, 31), 1, calendar) == date(2027, 1, 1)  # a Friday
        assert add_workdays(date(2027, 2, 5), 1, calendar) == date(2027, 2, 8)
        assert count_workdays(date(2027, 1, 1), date(2027, 1, 31), calendar) == 20
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1


def test_2027_with_overrides_uses_them_without_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text(TEST_2027, encoding="utf-8")
    calendar = make_calendar([path])
    with caplog.at_level(logging.WARNING, logger="responses.workdays"):
        assert add_workdays(date(2026, 12, 31), 1, calendar) == date(2027, 1, 4)
        assert add_workdays(date(2027, 2, 5), 1, calendar) == date(2027, 2, 6)   # worked Saturday
        assert add_workdays(date(2027, 2, 6), 1, calendar) == date(2027, 2, 15)  # Feb 8-12 off
    assert not caplog.records


def test_an_admin_file_corrects_a_year_the_library_knows(tmp_path: Path) -> None:
    path = tmp_path / "fix.yaml"
    path.write_text("2026:\n  holidays: [2026-10-08]\n", encoding="utf-8")
    calendar = make_calendar([path])
    assert add_workdays(date(2026, 9, 30), 1, calendar) == date(2026, 10, 9)
    assert add_workdays(date(2026, 2, 13), 1, calendar) == date(2026, 2, 14)  # the rest stays


@pytest.mark.parametrize(("text", "message"), [
    ("2027:\n  holidays: [2027-13-01]\n", "not a date"),
    ("2027:\n  holidays: [2028-01-01]\n", "not a range within 2027"),
    ("2027:\n  holiday: [2027-01-01]\n", "expected keys"),
    ("2027:\n  holidays: [2027-01-01]\n  workdays: [2027-01-01]\n", "both holiday and workday"),
    ("- 2027-01-01\n", "expected a mapping"),
])
def test_a_malformed_override_file_is_refused_with_its_name(
        tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError, match=message) as info:
        load_overrides(path)
    assert str(path) in str(info.value)


def test_a_negative_count_is_refused(calendar: ChineseWorkCalendar) -> None:
    with pytest.raises(ValueError, match="n must be"):
        add_workdays(date(2026, 1, 5), -1, calendar)
