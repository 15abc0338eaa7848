"""When a source is crawled: intervals, crontab lines read as crontab means them (weekdays from
Sunday, Beijing time), jitter, and a time limit that fits the interval."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from crawler.schedule import time_limit, trigger
from crawler.sources import SourceConfig
from yuqing.core.clock import SHANGHAI

WEDNESDAY_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=SHANGHAI)


def source(**fields: object) -> SourceConfig:
    return SourceConfig.model_validate({"name": "bureau_site", "kind": "feed",
                                        "url": "http://127.0.0.1:8080/rss.xml", **fields})


def fires(config: SourceConfig, start: datetime, count: int) -> list[datetime]:
    trig, out, previous, now = trigger(config), [], None, start
    for _ in range(count):
        nxt = trig.get_next_fire_time(previous, now)
        assert nxt is not None
        out.append(nxt.astimezone(SHANGHAI))
        previous, now = nxt, nxt + timedelta(microseconds=1)
    return out


@pytest.mark.parametrize(("line", "expected"), [
    ("0 9 * * 1-5", ["12-03 09:00", "12-04 09:00", "12-07 09:00"]),   # Mon-Fri, not Tue-Sat
    ("0 9 * * 0", ["12-06 09:00", "12-13 09:00"]),                    # 0 is Sunday
    ("0 9 * * 7", ["12-06 09:00", "12-13 09:00"]),                    # so is 7
    ("30 8 * * sat,sun", ["12-05 08:30", "12-06 08:30"]),
    ("0 0 * * */3", ["12-02 00:00", "12-05 00:00", "12-06 00:00"]),   # Sun, Wed, Sat
    ("*/20 8-9 * * *", ["12-03 08:00", "12-03 08:20", "12-03 08:40", "12-03 09:00"]),
])
def test_crontab_lines_fire_when_crontab_says_in_beijing_time(line: str,
                                                             expected: list[str]) -> None:
    start = WEDNESDAY_NOON if line != "0 0 * * */3" else WEDNESDAY_NOON.replace(hour=0) - \
        timedelta(seconds=1)
    got = [f"{t:%m-%d %H:%M}" for t in fires(source(cron=line), start, len(expected))]
    assert got == expected


def test_an_interval_of_thirty_seconds_fires_every_thirty_seconds() -> None:
    times = fires(source(every_minutes=0.5), WEDNESDAY_NOON, 3)
    assert [b - a for a, b in zip(times, times[1:])] == [timedelta(seconds=30)] * 2


def test_jitter_delays_each_run_within_its_bound() -> None:
    plain = fires(source(every_minutes=10), WEDNESDAY_NOON, 30)
    jittered = fires(source(every_minutes=10, jitter_seconds=90), WEDNESDAY_NOON, 30)
    offsets = {(j - p).total_seconds() for p, j in zip(plain, jittered)}
    assert all(-90 <= o <= 90 * 30 for o in offsets)
    assert len(offsets) > 1, "runs do not all start on the same second"


@pytest.mark.parametrize(("fields", "limit"), [
    ({"every_minutes": 10}, timedelta(minutes=10)),      # a 30-minute limit would be no limit
    ({"every_minutes": 0.5}, timedelta(minutes=1)),
    ({"every_minutes": 120}, timedelta(minutes=30)),
    ({"every_minutes": 10, "time_limit_minutes": 4}, timedelta(minutes=4)),
    ({"every_minutes": 10, "time_limit_minutes": 0.1}, timedelta(seconds=6)),
    ({"cron": "0 * * * *"}, timedelta(minutes=30)),
])
def test_the_time_limit_fits_the_interval(fields: dict[str, object], limit: timedelta) -> None:
    assert time_limit(source(**fields)) == limit


@pytest.mark.parametrize(("fields", "message"), [
    ({"cron": "0 9 * *"}, "expected 5 fields"),
    ({"cron": "0 25 * * *"}, "cron '0 25 * * *'"),
    ({"cron": "0 9 * * fri-mon"}, "runs backwards"),
    ({"cron": "0 9 * * 8"}, "bad weekday"),
    ({"every_minutes": 1, "jitter_seconds": 60}, "shorter than the interval"),
    ({"every_minutes": 0.1}, "greater than or equal to 0.5"),
])
def test_a_bad_schedule_is_refused_with_its_reason(fields: dict[str, object],
                                                   message: str) -> None:
    with pytest.raises(ValidationError, match="every_minutes|cron|jitter") as caught:
        source(**fields)
    assert message in str(caught.value)
