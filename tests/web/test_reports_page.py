"""/reports: a period chosen by name or by dates, its KPIs from the timeliness report, the
charts as images and the downloads of the same period."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from alerts.models import ClockKind
from analysis.models import Severity
from tests.web.conftest import START, World
from yuqing.services import respond

Client = Callable[[str | None], TestClient]
PNG = b"\x89PNG\r\n\x1a\n"


def _row(page: str, css_class: str, key: str) -> str:
    found = re.search(rf'<tr class="{css_class}" data-kind="{key}">(.*?)</tr>', page, re.S)
    assert found, f"no {key} row"
    return found.group(1)


def _published(world: World, site: str, t_event_ago: timedelta) -> int:
    """An incident whose statement the section records as published an hour after START."""
    incident = world.incident(t_event=START - t_event_ago)
    respond.record_publication(world.sessions, incident, ClockKind.STATEMENT, "xuanchuan",
                               at=START + timedelta(hours=1), url=site, now=world.clock(),
                               channels=["website"])
    return incident


def test_a_leader_sees_the_weeks_on_time_rate_of_one_on_time_and_one_late_statement(
        world: World, client_for: Client, statement_site: str) -> None:
    world.clock.advance(timedelta(hours=2))
    _published(world, statement_site, timedelta(hours=1))  # due START+4h: on time
    late = _published(world, statement_site, timedelta(hours=10))  # due START-5h: late
    answer = client_for("leader").get("/reports", params={"preset": "this_week"})
    assert answer.status_code == 200
    page = answer.text
    assert "2026-11-23 至 2026-11-29" in page  # Monday to Sunday in Beijing time
    assert 'data-preset="this_week"' in page and 'class="preset chosen" data-preset="this_week"' in page
    statement = _row(page, "kind", "statement")
    assert '<td class="on-time">1</td>' in statement and '<td class="late">1</td>' in statement
    assert '<td class="rate">50.0%</td>' in statement
    assert re.search(r'<b class="incident-count">2</b>', page)
    assert f'<a href="/incidents/{late}">#{late}</a>' in page  # the late list
    section = re.search(r'<tr class="section-row">(.*?)</tr>', page, re.S)
    assert section and section.group(1).startswith("<td>未指定</td><td>2</td>")  # no topic
    assert 'href="/reports/export?from=2026-11-23&amp;to=2026-11-29&amp;format=docx"' in page
    assert 'href="/reports/export?from=2026-11-23&amp;to=2026-11-29&amp;format=xlsx"' in page
    charts = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(charts) == 2 and all(base64.b64decode(c).startswith(PNG) for c in charts)


@pytest.mark.parametrize(("preset", "label"), [("last_week", "2026-11-16 至 2026-11-22"),
                                               ("this_month", "2026-11-01 至 2026-11-30"),
                                               ("last_month", "2026-10-01 至 2026-10-31")])
def test_each_preset_names_a_whole_beijing_week_or_month(
        client_for: Client, preset: str, label: str) -> None:
    page = client_for("office").get("/reports", params={"preset": preset}).text
    assert f'<b class="period-label">{label}</b>' in page


def test_dates_pick_any_period_and_the_default_is_this_week(client_for: Client) -> None:
    admin = client_for("admin")
    page = admin.get("/reports", params={"from": "2026-11-01", "to": "2026-11-15"}).text
    assert '<b class="period-label">2026-11-01 至 2026-11-15</b>' in page
    presets = re.search(r'<nav class="presets".*?</nav>', page, re.S)
    assert presets and "chosen" not in presets.group(0)
    assert '<b class="period-label">2026-11-23 至 2026-11-29</b>' in admin.get("/reports").text


@pytest.mark.parametrize("query", [{"from": "2026-11-29", "to": "2026-11-23"},
                                   {"from": "yesterday", "to": "2026-11-29"},
                                   {"from": "2026-11-01"},
                                   {"from": "2020-01-01", "to": "2026-11-29"},
                                   {"preset": "next_year"}])
def test_a_bad_period_is_a_clear_400_page_not_a_crash(client_for: Client,
                                                       query: dict[str, str]) -> None:
    answer = client_for("leader").get("/reports", params=query)
    assert answer.status_code == 400
    assert re.search(r'<p class="error" role="alert">[^<]*(无效|过长|未知)', answer.text)
    assert "时效报告" in answer.text  # the page with its period form, not a bare error


def test_the_nav_links_the_reports_for_the_roles_that_may_read_them(client_for: Client) -> None:
    for role in ("duty_officer", "section", "office", "leader", "admin"):
        board = client_for(role).get("/").text
        assert ('href="/reports"' in board) == (role in ("office", "leader", "admin")), role
