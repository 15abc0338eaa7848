"""Publish times as Chinese sites print them, parsed into aware UTC datetimes.

A small regex layer, no dateparser: dateparser misreads ``08-09 11:53`` and drops ``8月9日``, and
DESIGN.md §9 measured a regex layer ≈1000× faster. Every pattern below is documented and has
table-driven tests in ``tests/crawler/test_dates.py``.

Rules the parser keeps:

- A time without an offset is Beijing time (Asia/Shanghai); an explicit ``Z``/``+08:00`` wins.
- The first readable date-time in the text is taken (labels such as ``发布日期：`` around it are
  fine); a match that is impossible (2017-02-30) or too old is skipped.
- A date with a year is read as written, even when it lies ahead of ``now``: sites run clocks
  minutes or hours fast, and moving such a date to another year invents a time nobody printed.
  ``is_future`` tells a caller (T0, the extract command) that a kept time is ahead of its fetch.
- ``刚刚`` and a bare day word (``今天``, ``昨天``, ``前天``) are weak hints, used only when the text
  holds no other date-time: they are also ordinary words in prose. A bare day word is a day,
  not an instant (``ParsedTime.day_only``).
- Only text without a year uses the year-less rule: the most recent occurrence of that month and
  day (Beijing calendar) that is not beyond ``now`` plus ``FUTURE_TOLERANCE``, which may be next
  year's just after a Beijing New Year or last year's; two-digit years are never guessed.
- Relative and year-less forms never give a time beyond ``now`` plus ``FUTURE_TOLERANCE``; no
  form gives one before ``MIN_YEAR``; unreadable or impossible input gives None, never an
  exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Clock skew between a site and us: a page stamped a few minutes "ahead" is still believable.
# A year-less or relative reading beyond it is refused; a dated one beyond it is kept and
# flagged by ``is_future``.
FUTURE_TOLERANCE = timedelta(minutes=5)
MIN_YEAR = 1990

# Full-width digits and punctuation appear on older Chinese pages (２０１７－０８－０９ １１：５３);
# folding them first keeps the patterns ASCII-only, which also stops ``\d`` from matching
# exotic Unicode digits.
_FOLD = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "：": ":", "－": "-", "／": "/", "．": "."}
)

# Patterns that open with a lookbehind also open with a lookahead on their first character: it
# lets the regex engine skip to candidate characters instead of trying every position (about
# 2× faster over a 6,000-character text).

# Time of day, shared by every pattern that may carry one:
#   [上午|下午|…] 11:53[:20[.123]] | 11时53分[20秒] | 3点[05分]  [AM|PM]  [Z|+08:00|+0800]
# Seconds need a ``:`` before them or ``秒`` after them, so a stray number after ``11:53`` is never
# read as seconds. The offset must touch the time, so ``11:53 - 12:30`` stays a range, not a zone.
_TIME = r"""
    (?P<ampm>上午|早上|早晨|凌晨|中午|下午|傍晚|晚上)?\s*
    (?P<hour>[0-9]{1,2})
    (?:
        \s*:\s*(?P<minute>[0-9]{2})(?![0-9])
        (?:\s*:\s*(?P<second>[0-9]{2})(?:\.[0-9]{1,9})?(?![0-9]))?
      |
        \s*[时点]
        (?:\s*(?P<cn_minute>[0-9]{1,2})\s*分(?:\s*(?P<cn_second>[0-9]{1,2})\s*秒)?)?
    )
    (?:\s*(?P<ampm_en>[AaPp][Mm])(?![A-Za-z]))?
    (?P<tz>Z(?![A-Za-z])|[+-][0-9]{2}:?[0-9]{2}(?![0-9]))?
"""

# Between a date and its time: spaces, a ``T``, or a weekday (2017年8月9日 星期三 11:53).
_DATE_TIME_GAP = r"(?:\s*T|\s*(?:[(（]?\s*(?:星期|周|礼拜)[一二三四五六日天]\s*[)）]?)?\s*)"

# 2017-08-09 / 2017/8/9 / 2017.08.09 [time]: a four-digit year 19xx/20xx, the same separator
# twice (backreference), then an optional time. ``(?<![0-9])`` keeps it off longer numbers.
ABSOLUTE_NUMERIC = re.compile(
    r"(?=[12])(?<![0-9])(?P<year>(?:19|20)[0-9]{2})\s*(?P<sep>[-/.])\s*"
    r"(?P<month>[0-9]{1,2})\s*(?P=sep)\s*(?P<day>[0-9]{1,2})(?![0-9])(?!\.[0-9])"
    rf"(?:{_DATE_TIME_GAP}{_TIME})?",
    re.VERBOSE,
)

# 2017年8月9日 [上午] [11:53] (also 2017 年 08 月 09 日11:53 and 号 for 日).
ABSOLUTE_CN = re.compile(
    r"(?=[12])(?<![0-9])(?P<year>(?:19|20)[0-9]{2})\s*年\s*(?P<month>[0-9]{1,2})\s*月\s*"
    r"(?P<day>[0-9]{1,2})\s*[日号]?"
    rf"(?:{_DATE_TIME_GAP}{_TIME})?",
    re.VERBOSE,
)

# 08-09 11:53 / 8/9 11:53: month-day without a year; the time is REQUIRED, otherwise ``8-9`` is
# just as likely a score or a range. The lookarounds refuse pieces of a longer date, so
# ``17-08-09`` (a two-digit year) is not read as 8 September.
PARTIAL_NUMERIC = re.compile(
    r"(?=[0-9])(?<![0-9./-])(?P<month>[0-9]{1,2})(?P<sep>[-/])(?P<day>[0-9]{1,2})(?![0-9./-])"
    rf"{_DATE_TIME_GAP}{_TIME}",
    re.VERBOSE,
)

# 8月9日 / 8月9日 11:53: month-day in Chinese, time optional. Not after ``年`` (with or without
# a space), so ``17年8月9日`` with its two-digit year is not silently given this year.
PARTIAL_CN = re.compile(
    r"(?=[0-9])(?<![0-9年])(?<!年\s)(?P<month>[0-9]{1,2})\s*月\s*(?P<day>[0-9]{1,2})\s*[日号]"
    rf"(?:{_DATE_TIME_GAP}{_TIME})?",
    re.VERBOSE,
)

# 今天 12:30 / 昨天 08:15 / 前天 10:00: a Beijing calendar day plus a time (strong).
# ``前天`` is not read inside 目前天…/当前天…/提前天…, nor as the 前天 of 前天津市….
_DAY_WORDS = r"(?P<word>今天|今日|昨天|昨日|(?<![目当提之此日])前天(?!津))"
DAY_WORD = re.compile(rf"{_DAY_WORDS}{_DATE_TIME_GAP}{_TIME}", re.VERBOSE)

# 今天 / 昨天 / 前天 alone: that Beijing day, as a day (weak, like 刚刚: ``今天`` is also prose).
# Not when a time follows: ``今天 23:00`` refused as the future must not become "today".
BARE_DAY_WORD = re.compile(rf"{_DAY_WORDS}(?!{_DATE_TIME_GAP}{_TIME})", re.VERBOSE)

# 5分钟前 / 半小时前 / 3天前 / 30秒前 / 两周前: an amount back from ``now``. Months and years are not
# read: ``3个月前`` is too vague to become a timestamp.
# ``日`` is deliberately not a unit: ``9日前`` means "before the 9th" (请于9日前提交).
AGO = re.compile(
    r"(?=[0-9半一二两三四五六七八九十])(?<![0-9])"
    r"(?P<amount>[0-9]{1,4}|半|[一二两三四五六七八九十]{1,3})\s*"
    r"(?P<unit>秒钟?|分钟|分|个?小时|个?钟头|天|周|星期)\s*(?:之|以)?前"
)

# 刚刚 / 刚才: "just now" (weak, see module docstring).
JUST_NOW = re.compile(r"刚刚|刚才")

_UNIT_SECONDS = {
    "秒": 1, "秒钟": 1, "分": 60, "分钟": 60, "小时": 3600, "个小时": 3600, "钟头": 3600,
    "个钟头": 3600, "天": 86400, "周": 604800, "星期": 604800,
}  # fmt: skip
_DAY_WORD_OFFSET = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# 两 counts things (两天) but is not written inside a compound numeral (二十, not 两十).
_CN_TENS = {k: v for k, v in _CN_DIGITS.items() if k != "两" and v > 1}
_CN_UNITS = {k: v for k, v in _CN_DIGITS.items() if k != "两"}
_AM = {"上午", "早上", "早晨", "凌晨"}
_PM = {"下午", "傍晚", "晚上"}

_LAST_USABLE_NOW = datetime(9999, 12, 30, tzinfo=timezone.utc)

Builder = Callable[[re.Match[str], datetime], datetime | None]


@dataclass(frozen=True)
class ParsedTime:
    """A publish time as read: aware UTC ``value``; ``day_only`` when the text gave a calendar
    day without a time of day (``value`` is then that day's Beijing midnight)."""

    value: datetime
    day_only: bool = False


def parse_cn_datetime(text: str, now: datetime) -> datetime | None:
    """Parse the first date-time in ``text`` into an aware UTC datetime.

    ``now`` (aware) anchors relative and year-less forms. None means no readable, possible
    date-time was found; the function does not raise on any ``text``.
    """
    parsed = read_cn_datetime(text, now)
    return parsed.value if parsed is not None else None


def read_cn_datetime(text: str, now: datetime) -> ParsedTime | None:
    """Like ``parse_cn_datetime``, keeping whether the text gave only a day."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not text:
        return None
    # A sentinel "far future" reference near datetime.max would overflow zone arithmetic.
    now = min(now, _LAST_USABLE_NOW)
    folded = text.translate(_FOLD)
    best = _leftmost(_STRONG, folded, now)
    if best is None:
        best = _leftmost(_WEAK, folded, now)
    return best[1] if best is not None else None


def is_future(published: datetime, fetched: datetime, skew: timedelta = FUTURE_TOLERANCE) -> bool:
    """True when ``published`` lies more than ``skew`` after ``fetched`` (both aware): a time
    the page could not have had when we read it, kept as printed but not to be trusted."""
    return published > fetched + skew


_Rule = tuple[re.Pattern[str], Builder, bool]  # pattern, builder, "may lie in the future"


def _leftmost(rules: tuple[_Rule, ...], text: str, now: datetime) -> tuple[int, ParsedTime] | None:
    best: tuple[int, ParsedTime] | None = None
    for pattern, builder, dated in rules:
        found = _first_valid(pattern, builder, dated, text, now)
        if found is not None and (best is None or found[0] < best[0]):
            best = found
    return best


def _first_valid(pattern: re.Pattern[str], builder: Builder, dated: bool, text: str,
                 now: datetime) -> tuple[int, ParsedTime] | None:
    """The leftmost match of ``pattern`` that builds a believable datetime, with its position.

    ``dated`` forms carry their year and are kept however far ahead of ``now`` they lie."""
    for match in pattern.finditer(text):
        value = builder(match, now)
        if value is not None and value.year >= MIN_YEAR and (dated or value <= _latest(now)):
            return match.start(), ParsedTime(value.astimezone(timezone.utc), _day_only(match))
    return None


def _day_only(match: re.Match[str]) -> bool:
    """A calendar day without a time of day (2017年8月9日, 8月9日, a bare 昨天)."""
    if match.re is BARE_DAY_WORD:
        return True
    return "hour" in match.re.groupindex and match["hour"] is None  # 刚刚, 5分钟前: instants


def _latest(now: datetime) -> datetime:
    """``now`` plus the clock-skew tolerance (``now`` is at most ``_LAST_USABLE_NOW``)."""
    return now + FUTURE_TOLERANCE


def _build_absolute(match: re.Match[str], now: datetime) -> datetime | None:
    day = _make_date(int(match["year"]), int(match["month"]), int(match["day"]))
    return _combine(day, match) if day is not None else None


def _build_partial(match: re.Match[str], now: datetime) -> datetime | None:
    """Month-day in the latest year that does not put it beyond ``now`` plus the tolerance:
    ``now``'s Beijing year, the next one (a page minutes ahead across New Year) or the last."""
    year = now.astimezone(SHANGHAI).year
    for candidate_year in (year + 1, year, year - 1):
        day = _make_date(candidate_year, int(match["month"]), int(match["day"]))
        value = _combine(day, match) if day is not None else None
        if value is not None and value <= _latest(now):
            return value
    return None


def _build_day_word(match: re.Match[str], now: datetime) -> datetime | None:
    # Calendar days are Beijing days: 昨天 read at 00:30 Beijing is the Beijing day before.
    today = now.astimezone(SHANGHAI).date()
    return _combine(today - timedelta(days=_DAY_WORD_OFFSET[match["word"]]), match)


def _build_bare_day_word(match: re.Match[str], now: datetime) -> datetime | None:
    today = now.astimezone(SHANGHAI).date()
    day = today - timedelta(days=_DAY_WORD_OFFSET[match["word"]])
    return datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)


def _build_ago(match: re.Match[str], now: datetime) -> datetime | None:
    unit = _UNIT_SECONDS[match["unit"]]
    amount = match["amount"]
    if amount == "半":
        seconds = unit // 2
    else:
        count = int(amount) if amount.isdigit() else _cn_number(amount)
        if count is None:
            return None
        seconds = count * unit
    if seconds > 3650 * 86400:  # "9999天前" is not a publish time; also keeps timedelta in range
        return None
    return now - timedelta(seconds=seconds)


def _build_just_now(match: re.Match[str], now: datetime) -> datetime | None:
    return now


def _cn_number(word: str) -> int | None:
    """一..九十九 in simple Chinese numerals (十五, 二十, 两); None for anything else (十十)."""
    if "十" not in word:
        return _CN_DIGITS.get(word) if len(word) == 1 else None
    tens_word, _, units_word = word.partition("十")
    tens = _CN_TENS.get(tens_word) if tens_word else 1
    units = _CN_UNITS.get(units_word) if units_word else 0
    if tens is None or units is None:
        return None
    return tens * 10 + units


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:  # 2017-02-30, month 13: impossible, not a date
        return None


def _combine(day: date, match: re.Match[str]) -> datetime | None:
    """Attach the matched time (or midnight) and the zone (explicit offset, else Beijing)."""
    clock = _time_of_day(match)
    if clock is None:
        return None
    zone = _zone(match["tz"]) if match["tz"] else SHANGHAI
    if zone is None:
        return None
    return datetime.combine(day, clock, tzinfo=zone)


def _time_of_day(match: re.Match[str]) -> time | None:
    if match["hour"] is None:
        return time(0, 0)
    hour = _apply_meridiem(int(match["hour"]), match["ampm"] or match["ampm_en"])
    minute = match["minute"] or match["cn_minute"] or "0"
    second = match["second"] or match["cn_second"] or "0"
    if hour is None or hour > 23 or int(minute) > 59 or int(second) > 59:
        return None
    return time(hour, int(minute), int(second))


def _apply_meridiem(hour: int, marker: str | None) -> int | None:
    """24-hour clock from 下午 3 / 3 PM; None when the marker contradicts the hour (上午 15)."""
    if marker is None:
        return hour
    marker = marker.upper()
    if marker in _AM or marker == "AM":
        # 凌晨12点 and 12 AM are midnight.
        return None if hour > 12 else hour % 12
    if marker in ("晚上", "傍晚") and hour == 12:
        return None  # 晚上12点 is midnight of an unclear day: refuse rather than guess
    if marker in _PM or marker == "PM":
        return hour + 12 if hour < 12 else hour  # 下午12:30 and 12 PM are just after noon
    # 中午: 12:30 stays, 1:15 means 13:15, 11:50 stays.
    return hour + 12 if hour < 6 else hour


def _zone(tz: str) -> timezone | None:
    """``Z``, ``+08:00`` or ``-0500`` as a fixed offset; None when out of range."""
    if tz == "Z":
        return timezone.utc
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


_STRONG: tuple[_Rule, ...] = (
    (ABSOLUTE_NUMERIC, _build_absolute, True),
    (ABSOLUTE_CN, _build_absolute, True),
    (PARTIAL_NUMERIC, _build_partial, False),
    (PARTIAL_CN, _build_partial, False),
    (DAY_WORD, _build_day_word, False),
    (AGO, _build_ago, False),
)
_WEAK: tuple[_Rule, ...] = (
    (JUST_NOW, _build_just_now, False),
    (BARE_DAY_WORD, _build_bare_day_word, False),
)
