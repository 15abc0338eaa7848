"""Chinese publish-time parsing: a table of real-world forms, properties, and the shared pages."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.dates import (
    ABSOLUTE_CN,
    ABSOLUTE_NUMERIC,
    AGO,
    DAY_WORD,
    FUTURE_TOLERANCE,
    JUST_NOW,
    PARTIAL_CN,
    PARTIAL_NUMERIC,
    SHANGHAI,
    parse_cn_datetime,
)
from tests.shared_data import require_shared, shared_data_dir

# Friday 15 March 2024, 10:00 in Beijing.
NOW = datetime(2024, 3, 15, 10, 0, tzinfo=SHANGHAI).astimezone(timezone.utc)
# 1 January 2024, 00:05 in Beijing (still 31 December in UTC).
NEW_YEAR = datetime(2024, 1, 1, 0, 5, tzinfo=SHANGHAI).astimezone(timezone.utc)
# 15 March 2024, 00:30 in Beijing (still 14 March in UTC).
AFTER_MIDNIGHT = datetime(2024, 3, 15, 0, 30, tzinfo=SHANGHAI).astimezone(timezone.utc)


def beijing(text: str) -> datetime:
    """``2017-08-09 11:53[:20]`` read as Beijing time, in UTC (the expected side of the table)."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(timezone.utc)


TABLE: list[tuple[str, datetime, str | None]] = [
    # absolute
    ("2017-08-09 11:53", NOW, "2017-08-09 11:53"),
    ("2017-08-09 11:53:20", NOW, "2017-08-09 11:53:20"),
    ("2017年8月9日 11:53", NOW, "2017-08-09 11:53"),
    ("2017年08月09日11:53", NOW, "2017-08-09 11:53"),
    ("2017年8月9日", NOW, "2017-08-09 00:00"),
    ("2017 年 8 月 9 日 11:53", NOW, "2017-08-09 11:53"),
    ("2017/8/9", NOW, "2017-08-09 00:00"),
    ("2017/08/09 11:53", NOW, "2017-08-09 11:53"),
    ("2017.08.09", NOW, "2017-08-09 00:00"),
    ("2017-8-9", NOW, "2017-08-09 00:00"),
    ("2005-3-11 12:12", NOW, "2005-03-11 12:12"),
    ("2017-08-09T11:53:00", NOW, "2017-08-09 11:53"),
    ("2017年8月9日 下午 3:05", NOW, "2017-08-09 15:05"),
    ("2017年8月9日 上午 3:05", NOW, "2017-08-09 03:05"),
    ("2017年8月9日下午3:05", NOW, "2017-08-09 15:05"),
    ("2017年8月9日 中午12:30", NOW, "2017-08-09 12:30"),
    ("2017年8月9日 凌晨12:30", NOW, "2017-08-09 00:30"),
    ("2017-08-09 3:05 PM", NOW, "2017-08-09 15:05"),
    ("2017年8月9日 下午12:30", NOW, "2017-08-09 12:30"),
    ("2017年8月9日 晚上8:30", NOW, "2017-08-09 20:30"),
    ("2017年8月9日 11时53分", NOW, "2017-08-09 11:53"),
    ("2017年8月9日 11时53分20秒", NOW, "2017-08-09 11:53:20"),
    ("2017年8月9日 星期三 11:53", NOW, "2017-08-09 11:53"),
    ("2017-08-09（周三）11:53", NOW, "2017-08-09 11:53"),
    ("２０１７－０８－０９　１１：５３", NOW, "2017-08-09 11:53"),
    # explicit offsets win over the Beijing default
    ("2017-08-09T11:53:00+08:00", NOW, "2017-08-09 11:53"),
    ("2017-08-09T03:53:00Z", NOW, "2017-08-09 11:53"),
    ("2017-08-09T03:53:00.250Z", NOW, "2017-08-09 11:53"),
    ("2017-08-09 11:53:00+0900", NOW, "2017-08-09 10:53"),
    ("2017-08-09T00:53:00-03:00", NOW, "2017-08-09 11:53"),
    # partial: the year comes from now, never in the future
    ("08-09 11:53", NOW, "2023-08-09 11:53"),
    ("03-15 09:59", NOW, "2024-03-15 09:59"),
    ("03-15 10:03", NOW, "2024-03-15 10:03"),  # within the clock-skew tolerance
    ("03-15 10:30", NOW, "2023-03-15 10:30"),  # half an hour ahead: last year's
    ("8月9日", NOW, "2023-08-09 00:00"),
    ("8月9日 11:53", NOW, "2023-08-09 11:53"),
    ("3月1日", NOW, "2024-03-01 00:00"),
    ("12-31 23:50", NEW_YEAR, "2023-12-31 23:50"),
    ("1月1日 00:01", NEW_YEAR, "2024-01-01 00:01"),
    ("02-29 08:00", datetime(2025, 3, 1, tzinfo=timezone.utc), "2024-02-29 08:00"),
    # relative
    ("刚刚", NOW, "2024-03-15 10:00"),
    ("5分钟前", NOW, "2024-03-15 09:55"),
    ("1小时前", NOW, "2024-03-15 09:00"),
    ("半小时前", NOW, "2024-03-15 09:30"),
    ("十五分钟前", NOW, "2024-03-15 09:45"),
    ("两天前", NOW, "2024-03-13 10:00"),
    ("今天 08:30", NOW, "2024-03-15 08:30"),
    ("昨天 08:15", NOW, "2024-03-14 08:15"),
    ("前天 10:00", NOW, "2024-03-13 10:00"),
    ("3天前", NOW, "2024-03-12 10:00"),
    ("30秒前", NOW, "2024-03-15 09:59:30"),
    ("昨天 08:15", AFTER_MIDNIGHT, "2024-03-14 08:15"),
    ("今天 00:10", AFTER_MIDNIGHT, "2024-03-15 00:10"),
    ("昨天 23:59", NEW_YEAR, "2023-12-31 23:59"),
    # surrounded by other words: the first date-time wins
    ("发布日期:2017-08-09 11:53 浏览次数:", NOW, "2017-08-09 11:53"),
    ("来源：新华网 2017-08-09 11:53", NOW, "2017-08-09 11:53"),
    ("时间：2017年08月09日 11:53  来源：", NOW, "2017-08-09 11:53"),
    ("时间：08-09 11:53 来源：新浪", NOW, "2023-08-09 11:53"),
    ("发布时间：2017-08-09 11:53 更新时间：2017-08-10 09:00", NOW, "2017-08-09 11:53"),
    ("新华社北京8月9日电 2017-08-10 09:00", NOW, "2023-08-09 00:00"),
    ("刚刚过去的 2017-08-09 11:53", NOW, "2017-08-09 11:53"),  # 刚刚 yields to a real date
    ("2017-02-30 发布 2017-03-01", NOW, "2017-03-01 00:00"),  # impossible first one skipped
    # unreadable → None
    ("", NOW, None),
    ("garbage", NOW, None),
    ("2017-02-30", NOW, None),
    ("2017-13-01", NOW, None),
    ("2017-08-09 25:00", NOW, None),
    ("2017-08-09 11:61", NOW, None),
    ("2017年8月9日 上午 15:05", NOW, None),
    ("2017年8月9日 晚上12:00", NOW, None),  # midnight of which day? not guessed
    ("17-08-09 11:53", NOW, None),  # two-digit year: not guessed
    ("17年8月9日", NOW, None),
    ("17年 8月9日", NOW, None),
    ("1989-06-01", NOW, None),
    ("2024-03-16", NOW, None),  # tomorrow
    ("2030-01-01 08:00", NOW, None),
    ("今天 23:00", NOW, None),  # later today is the future
    ("今天", NOW, None),  # a bare 今天 is prose, not a time
    ("3个月前", NOW, None),
    ("请于9日前提交材料", NOW, None),  # "before the 9th", not "9 days ago"
    ("8-9", NOW, None),  # month-day needs a time when written with a dash
    ("2017-08-09T11:53:00+25:00", NOW, None),
    ("版本 1.2.3 共 12 条", NOW, None),
]


@pytest.mark.parametrize(
    ("text", "now", "expected"), TABLE, ids=[row[0] or "empty" for row in TABLE]
)
def test_it_reads_what_chinese_sites_print(text: str, now: datetime, expected: str | None) -> None:
    result = parse_cn_datetime(text, now)
    if expected is None:
        assert result is None
    else:
        assert result == beijing(expected)
        assert result is not None and result.tzinfo == timezone.utc


PATTERN_EXAMPLES = [
    (ABSOLUTE_NUMERIC, "发布：2017/08/09 11:53:20", "2017/08/09 11:53:20"),
    (ABSOLUTE_NUMERIC, "2017-08-09T11:53:00+08:00", "2017-08-09T11:53:00+08:00"),
    (ABSOLUTE_CN, "2017年8月9日 下午3:05 来源", "2017年8月9日 下午3:05"),
    (PARTIAL_NUMERIC, "时间:08-09 11:53", "08-09 11:53"),
    (PARTIAL_CN, "北京8月9日电", "8月9日"),
    (DAY_WORD, "昨天 08:15 发布", "昨天 08:15"),
    (AGO, "约 5 分钟前", "5 分钟前"),
    (AGO, "半小时前", "半小时前"),
    (JUST_NOW, "刚刚发布", "刚刚"),
]


@pytest.mark.parametrize(("pattern", "text", "matched"), PATTERN_EXAMPLES)
def test_each_pattern_matches_its_documented_form(
    pattern: re.Pattern[str], text: str, matched: str
) -> None:
    found = pattern.search(text)
    assert found is not None and found.group(0).strip() == matched


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (ABSOLUTE_NUMERIC, "12017-08-09"),  # part of a longer number
        (ABSOLUTE_NUMERIC, "2017-08/09"),  # mixed separators
        (PARTIAL_NUMERIC, "2017-08-09 11:53"),
        (PARTIAL_NUMERIC, "17-08-09 11:53"),
        (PARTIAL_CN, "17年8月9日"),
    ],
)
def test_patterns_refuse_pieces_of_other_dates(pattern: re.Pattern[str], text: str) -> None:
    assert pattern.search(text) is None


@pytest.mark.parametrize("text", ["2017-08-09 11:53", "08-09 11:53", "5分钟前", "昨天 08:15"])
def test_a_far_future_reference_time_does_not_overflow(text: str) -> None:
    result = parse_cn_datetime(text, datetime.max.replace(tzinfo=timezone.utc))
    assert result is not None and result.tzinfo == timezone.utc


def test_it_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_cn_datetime("2017-08-09", datetime(2024, 3, 15))


# --- properties -----------------------------------------------------------------------------

# Each absolute format with the precision it keeps (what to truncate the original to).
ABSOLUTE_FORMATS: list[tuple[Callable[[datetime], str], str]] = [
    (lambda d: d.strftime("%Y-%m-%d %H:%M:%S"), "second"),
    (lambda d: d.strftime("%Y-%m-%d %H:%M"), "minute"),
    (lambda d: f"{d.year}年{d.month}月{d.day}日 {d.hour}:{d.minute:02d}", "minute"),
    (lambda d: d.strftime("%Y年%m月%d日%H:%M"), "minute"),
    (lambda d: f"{d.year}/{d.month}/{d.day}", "day"),
    (lambda d: d.strftime("%Y.%m.%d"), "day"),
    (lambda d: f"{d.year}-{d.month}-{d.day}", "day"),
    (lambda d: d.isoformat(timespec="seconds"), "second"),
    (
        lambda d: f"{d.year}年{d.month}月{d.day}日 {'下午' if d.hour >= 12 else '上午'} "
        f"{(d.hour % 12) or 12}:{d.minute:02d}",
        "minute",
    ),
]

# From 1992: China kept summer time until 1991, and a naive local time inside a fall-back hour
# cannot round-trip (the parser reads the first occurrence, as zoneinfo does).
in_range = st.datetimes(
    min_value=datetime(1992, 1, 1), max_value=datetime(2024, 3, 14), timezones=st.just(timezone.utc)
)


def truncate(local: datetime, precision: str) -> datetime:
    if precision == "day":
        return local.replace(hour=0, minute=0, second=0, microsecond=0)
    if precision == "minute":
        return local.replace(second=0, microsecond=0)
    return local.replace(microsecond=0)


@pytest.mark.parametrize(("render", "precision"), ABSOLUTE_FORMATS)
@given(moment=in_range)
def test_absolute_formats_round_trip_through_beijing_time(
    render: Callable[[datetime], str], precision: str, moment: datetime
) -> None:
    local = moment.astimezone(SHANGHAI)
    assert parse_cn_datetime(f"发布时间：{render(local)} 来源：本站", NOW) == truncate(
        local, precision
    )


@given(moment=in_range)
def test_an_explicit_offset_keeps_the_instant(moment: datetime) -> None:
    for offset_hours in (-5, 0, 9):
        shown = moment.astimezone(timezone(timedelta(hours=offset_hours)))
        assert parse_cn_datetime(shown.isoformat(timespec="seconds"), NOW) == moment.replace(
            microsecond=0
        )


realistic_now = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2035, 12, 31),
    timezones=st.just(timezone.utc),
)
date_ish = st.text(alphabet="0123456789-/.: T+Z年月日号时分秒前天今昨半上下午刚点周", max_size=40)


@given(text=st.one_of(st.text(), date_ish), now=realistic_now)
def test_any_text_gives_none_or_an_aware_non_future_time(text: str, now: datetime) -> None:
    result = parse_cn_datetime(text, now)
    if result is not None:
        assert result.utcoffset() == timedelta(0)
        assert result <= now + FUTURE_TOLERANCE
        assert result.year >= 1990


@given(
    now=realistic_now,
    month=st.integers(1, 12),
    day=st.integers(1, 31),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
)
def test_partial_dates_are_never_in_the_future_and_keep_their_fields(
    now: datetime, month: int, day: int, hour: int, minute: int
) -> None:
    result = parse_cn_datetime(f"{month:02d}-{day:02d} {hour:02d}:{minute:02d}", now)
    if result is None:
        # Only impossible dates (31 April, 29 February twice in a row…) are refused.
        assert day > 28
        return
    local = result.astimezone(SHANGHAI)
    assert (local.month, local.day, local.hour, local.minute) == (month, day, hour, minute)
    assert result <= now + FUTURE_TOLERANCE
    this_year = now.astimezone(SHANGHAI).year
    assert local.year in (this_year, this_year - 1)
    if local.year < this_year:
        # Last year's only when this year's would be in the future (or does not exist).
        try:
            same_day_this_year = local.replace(year=this_year)
        except ValueError:
            return
        assert same_day_this_year > now + FUTURE_TOLERANCE


# --- the shared pages -----------------------------------------------------------------------


def labelled_pages() -> list[tuple[str, str]]:
    """(file, publish_time as printed) for every shared page that has one; read at collection."""
    base = shared_data_dir()
    manifest = base / "pages" / "manifest.json" if base is not None else None
    if manifest is None or not manifest.exists():
        return [("shared-data-absent", "")]  # the test itself skips via require_shared
    pages = json.loads(manifest.read_text(encoding="utf-8"))["pages"]
    return [
        (page["file"], page["expected"]["publish_time"])
        for page in pages
        if page["expected"] and page["expected"].get("publish_time")
    ]


@pytest.mark.parametrize(("name", "printed"), labelled_pages(), ids=lambda value: str(value))
def test_it_reads_the_publish_time_labelled_on_each_shared_page(name: str, printed: str) -> None:
    require_shared("pages", "manifest.json")
    # The calendar date as printed (year, month, day: its first three numbers), read independently.
    year, month, day = (int(part) for part in re.findall(r"\d+", printed)[:3])
    result = parse_cn_datetime(printed, datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert result is not None, name
    local = result.astimezone(SHANGHAI)
    assert (local.year, local.month, local.day) == (year, month, day), name
