"""The incident page's heat chart: documents per hour over the incident's life, with T0 marked.

Pure geometry for an inline SVG (no dependency, no script): the view passes the documents'
times and T0 and gets bars in viewBox units. A life longer than ``MAX_BARS`` hours gets wider
buckets (2 h, 3 h, ...) so the chart stays readable on a phone.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from yuqing.core.clock import ensure_aware

WIDTH, HEIGHT = 720.0, 120.0  # the SVG viewBox; bars grow up from the baseline
MAX_BARS = 168  # one week of hourly bars
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Bar:
    start: datetime  # the bucket's first instant (aware UTC)
    count: int
    x: float
    width: float
    height: float

    @property
    def y(self) -> float:
        return HEIGHT - self.height


@dataclass(frozen=True)
class Heat:
    bars: tuple[Bar, ...]
    hours_per_bar: int
    peak: int
    t0_x: float
    start: datetime
    end: datetime  # the last bucket's end

    @property
    def total(self) -> int:
        return sum(bar.count for bar in self.bars)


def _floor_hour(value: datetime) -> datetime:
    # Whole hours in UTC are whole hours in Beijing (+08:00), so buckets read as local hours.
    return value.replace(minute=0, second=0, microsecond=0)


def heat(times: Sequence[datetime], t0: datetime) -> Heat | None:
    """Bars from T0's hour (or the first document's, if earlier) to the last document's;
    None when there are no documents."""
    if not times:
        return None
    moments = [ensure_aware(t, "time") for t in times]
    start = _floor_hour(min(min(moments), ensure_aware(t0, "t0")))
    hours = int((_floor_hour(max(max(moments), t0)) - start) / HOUR) + 1
    step = max(1, math.ceil(hours / MAX_BARS))
    count = math.ceil(hours / step)
    buckets = Counter(int((t - start) / (HOUR * step)) for t in moments)
    peak = max(buckets.values())
    width = WIDTH / count
    bars = tuple(Bar(start + i * step * HOUR, buckets[i], i * width, width,
                     round(buckets[i] / peak * (HEIGHT - 10), 2)) for i in range(count))
    t0_x = round((t0 - start) / (count * step * HOUR) * WIDTH, 2)
    return Heat(bars, step, peak, t0_x, start, start + count * step * HOUR)
