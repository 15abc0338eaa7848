"""The incident page's heat chart: one bar per hour from T0 to the last document, heights in
proportion to the documents of that hour, T0 marked; wider buckets for a long life."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from tests.web.conftest import START, World
from yuqing.web.heat import HEIGHT, MAX_BARS, WIDTH, heat

Client = Callable[[str | None], TestClient]


def test_the_chart_has_an_hourly_bar_per_hour_of_the_incident_with_t0_marked(
        world: World, client_for: Client) -> None:
    incident = world.incident(t_event=START - timedelta(hours=1))  # T0 07:00 Beijing
    times = [START - timedelta(minutes=50), START - timedelta(minutes=40),  # 07:10, 07:20
             START + timedelta(minutes=10),  # 08:10
             START + timedelta(hours=2, minutes=30)]  # 10:30; nothing in the 09:00 hour
    for n, at in enumerate(times):
        world.document(incident, f"网帖{n}", "考生质疑考场泄题。", f"https://bbs.example.cn/{n}",
                       published_at=at)
    page = client_for("duty_officer").get(f"/incidents/{incident}").text
    svg = re.search(r'<svg class="heat-chart".*?</svg>', page, re.S)
    assert svg, "no heat chart on the page"
    bars = re.findall(r'<rect class="bar" x="[\d.]+" y="[\d.]+" width="[\d.]+" '
                      r'height="([\d.]+)"[^>]*data-start="([^"]+)" data-count="(\d+)"',
                      svg.group(0))
    assert [(start[11:16], int(count)) for _, start, count in bars] == [
        ("07:00", 2), ("08:00", 1), ("09:00", 0), ("10:00", 1)]
    assert [float(h) for h, _, _ in bars] == [110.0, 55.0, 0.0, 55.0]  # peak = full height
    assert 'data-bars="4" data-peak="2"' in svg.group(0)
    assert re.search(r'<line class="t0-mark" x1="0.0"', svg.group(0))  # T0 opens the chart
    assert "共 4 篇（含转载），峰值 2 篇" in page


def test_an_incident_without_documents_shows_no_chart(world: World, client_for: Client) -> None:
    incident = world.incident()
    page = client_for("leader").get(f"/incidents/{incident}").text
    assert "heat-chart" not in page and "暂无采集文档" in page


def test_t0_after_the_first_post_sits_inside_the_chart() -> None:
    t0 = START + timedelta(hours=1, minutes=30)
    chart = heat([START + timedelta(minutes=5), START + timedelta(hours=3)], t0)
    assert chart is not None
    assert [b.count for b in chart.bars] == [1, 0, 0, 1]
    assert chart.t0_x == 1.5 / 4 * WIDTH
    assert max(b.height for b in chart.bars) == HEIGHT - 10


def test_a_long_life_gets_wider_buckets_and_at_most_a_weeks_bars() -> None:
    times = [START + timedelta(hours=h) for h in range(0, 240, 5)]  # ten days
    chart = heat(times, START)
    assert chart is not None
    assert chart.hours_per_bar == 2 and len(chart.bars) <= MAX_BARS
    assert chart.total == len(times)
    assert heat([], START) is None
