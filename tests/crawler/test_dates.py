"""Chinese publish-time parsing: a table of real-world forms, properties, and the shared pages."""

from __future__ import annotations

import json
import re
import unicodedata
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
    is_future,
    parse_cn_datetime,
    read_cn_datetime,
)
from tests.shared_data import require_shared, shared_data_dir

# Friday 15 March 2024, 10:00 in Beijing.
NOW = datetime(2024, 3, 15, 10, 0, tzinfo=SHANGHAI).astimezone(timezone.utc)
# 1 January 2024, 00:05 in Beijing (still 31 December in UTC).
NEW_YEAR = datetime(2024, 1, 1, 0, 5, tzinfo=SHANGHAI).astimezone(timezone.utc)
# 15 March 2024, 00:30 in Beijing (still 14 March in UTC).
AFTER_MIDNIGHT = datetime(2024, 3, 15, 0, 30, tzinfo=SHANGHAI).astimezone(timezone.utc)
# 2 December 2026, 12:43 in Beijing: the afternoon a page dated 14:00 was read as last year's.
DEC_2 = datetime(2026, 12, 2, 12, 43, tzinfo=SHANGHAI).astimezone(timezone.utc)
# 31 December 2026, 23:58 in Beijing: a page stamped a few minutes ahead is already in 2027.
NEW_YEARS_EVE = datetime(2026, 12, 31, 23, 58, tzinfo=SHANGHAI).astimezone(timezone.utc)


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
    ("01-01 00:01", NEW_YEARS_EVE, "2027-01-01 00:01"),  # minutes ahead, across New Year
    ("01-01 00:30", NEW_YEARS_EVE, "2026-01-01 00:30"),  # beyond the skew: this year's
    ("12-02 14:00", DEC_2, "2025-12-02 14:00"),  # no year: the year-less rule applies
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
    ("昨天", NOW, "2024-03-14 00:00"),  # a day (see test_a_bare_day_word_is_a_day)
    ("前天", NOW, "2024-03-13 00:00"),
    ("今天", NOW, "2024-03-15 00:00"),
    ("昨日", AFTER_MIDNIGHT, "2024-03-14 00:00"),
    ("昨天", NEW_YEAR, "2023-12-31 00:00"),
    # surrounded by other words: the first date-time wins
    ("发布日期:2017-08-09 11:53 浏览次数:", NOW, "2017-08-09 11:53"),
    ("来源：新华网 2017-08-09 11:53", NOW, "2017-08-09 11:53"),
    ("时间：2017年08月09日 11:53  来源：", NOW, "2017-08-09 11:53"),
    ("时间：08-09 11:53 来源：新浪", NOW, "2023-08-09 11:53"),
    ("发布时间：2017-08-09 11:53 更新时间：2017-08-10 09:00", NOW, "2017-08-09 11:53"),
    ("新华社北京8月9日电 2017-08-10 09:00", NOW, "2023-08-09 00:00"),
    ("刚刚过去的 2017-08-09 11:53", NOW, "2017-08-09 11:53"),  # 刚刚 yields to a real date
    ("今天是个好日子 2017-08-09 11:53", NOW, "2017-08-09 11:53"),  # so does a bare 今天
    # a date with a year is read as written, even ahead of now (is_future flags it)
    ("发布时间：2026-12-02 14:00", DEC_2, "2026-12-02 14:00"),
    ("2026年12月3日 09:00", DEC_2, "2026-12-03 09:00"),
    ("2024-03-16", NOW, "2024-03-16 00:00"),  # tomorrow
    ("2030-01-01 08:00", NOW, "2030-01-01 08:00"),
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
    ("今天 23:00", NOW, None),  # later today is the future, and not "today" either
    ("目前天气晴好", NOW, None),  # 目前 + 天气, not 前天
    ("前天津市长", NOW, None),
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


@pytest.mark.parametrize(
    ("text", "printed"),
    [("发布时间：2026-12-02 14:00", "2026-12-02 14:00"), ("2026年12月3日 09:00", "2026-12-03 09:00")],
)
def test_a_dated_page_ahead_of_now_keeps_its_year_and_is_flagged(text: str, printed: str) -> None:
    result = parse_cn_datetime(text, DEC_2)
    assert result == beijing(printed)  # not moved to 2025
    assert is_future(result, DEC_2)


# 2 December 2026, 00:03 in Beijing: still 1 December in UTC.
AFTER_DEC_2_MIDNIGHT = datetime(2026, 12, 2, 0, 3, tzinfo=SHANGHAI).astimezone(timezone.utc)


@pytest.mark.parametrize(
    ("text", "printed", "future"),
    [
        ("2026-12-02 00:05", "2026-12-02 00:05", False),  # two minutes ahead: within the skew
        ("2026-12-02 08:00", "2026-12-02 08:00", True),  # later today in Beijing: flagged
        ("2026-12-01 23:59", "2026-12-01 23:59", False),  # yesterday in Beijing, today in UTC
        ("12-02 08:00", "2025-12-02 08:00", False),  # no year: the latest one not ahead of now
        ("12-02 00:01", "2026-12-02 00:01", False),
        ("今天 00:01", "2026-12-02 00:01", False),  # Beijing's today, not UTC's
        ("昨天", "2026-12-01 00:00", False),
    ],
)
def test_the_beijing_midnight_boundary_decides_the_day_and_the_flag(
    text: str, printed: str, future: bool
) -> None:
    result = parse_cn_datetime(text, AFTER_DEC_2_MIDNIGHT)
    assert result == beijing(printed)
    assert is_future(result, AFTER_DEC_2_MIDNIGHT) is future


def test_is_future_allows_the_skew_and_no_more() -> None:
    assert not is_future(DEC_2 + FUTURE_TOLERANCE, DEC_2)
    assert is_future(DEC_2 + FUTURE_TOLERANCE + timedelta(seconds=1), DEC_2)
    assert not is_future(DEC_2 + timedelta(hours=1), DEC_2, skew=timedelta(hours=2))


@pytest.mark.parametrize(
    ("text", "day_only"),
    [
        ("昨天", True), ("前天", True), ("今天", True), ("2017年8月9日", True), ("8月9日", True),
        ("2017-08-09", True), ("昨天 08:15", False), ("5分钟前", False), ("刚刚", False),
        ("2017-08-09 11:53", False), ("8月9日 11:53", False),
    ],
)
def test_it_tells_a_day_from_an_instant(text: str, day_only: bool) -> None:
    parsed = read_cn_datetime(text, NOW)
    assert parsed is not None and parsed.day_only is day_only


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


# Anything that could be a four-digit year once full-width digits are folded.
MAYBE_YEAR = re.compile(r"[12][0-9]{3}")


@given(text=st.one_of(st.text(), date_ish), now=realistic_now)
def test_any_text_gives_none_or_an_aware_time_only_a_year_puts_ahead(
    text: str, now: datetime
) -> None:
    result = parse_cn_datetime(text, now)
    if result is not None:
        assert result.utcoffset() == timedelta(0)
        assert result.year >= 1990
        if not MAYBE_YEAR.search(unicodedata.normalize("NFKC", text)):
            assert result <= now + FUTURE_TOLERANCE


@given(
    now=realistic_now,
    month=st.integers(1, 12),
    day=st.integers(1, 31),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
)
def test_partial_dates_are_the_latest_not_in_the_future_and_keep_their_fields(
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
    assert local.year in (this_year - 1, this_year, this_year + 1)
    for later in range(local.year + 1, this_year + 2):
        # An earlier year only when every later one would be in the future (or does not exist).
        try:
            same_day_later = local.replace(year=later)
        except ValueError:
            continue
        assert same_day_later > now + FUTURE_TOLERANCE


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
