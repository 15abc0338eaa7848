"""An officer's incident commands: publish closes a clock, T0 corrections move due times with
the old ones kept, regrading starts the new level's clocks from the same T0."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import CliResult
from tests.crawler import loopback

Run = Callable[..., CliResult]
STATEMENT_PAGE = ("<html><head><meta charset='utf-8'><title>情况通报</title></head><body><h1>关于网传"
                  "某监狱服刑人员非正常死亡的情况通报</h1><p>市司法局已成立调查组。</p></body></html>")


@pytest.fixture
def site() -> Iterator[str]:
    """The bureau's page the publication points at: the evidence is fetched from it."""
    server = loopback.start({"/xwfb/1.html": loopback.static(STATEMENT_PAGE.encode())})
    yield f"{server.base}/xwfb/1.html"
    server.shutdown()
    server.server_close()


def _clocks(run_cli: Run, now: str) -> dict[str, dict[str, Any]]:
    result = run_cli("clocks", "--now", now, "--json")
    assert result.code == 0, result.stderr
    return {c["kind"]: c for c in json.loads(result.stdout)}


def _report(run_cli: Run, severity: str) -> int:
    assert run_cli("init").code == 0
    for name, role in (("alice", "section"), ("leader", "leader")):  # who acts below
        added = run_cli("user", "add", name, "--role", role, "--no-login")
        assert added.code == 0, added.stderr
    result = run_cli("incidents", "report", "--title", "网传某监狱服刑人员非正常死亡", "--severity",
                     severity, "--t-event", "2026-11-29 08:00", "--now", "2026-11-29 09:00",
                     "--json")
    assert result.code == 0, result.stderr
    return int(json.loads(result.stdout)["id"])


def test_publishing_the_statement_in_time_meets_its_clock(run_cli: Run, site: str) -> None:
    incident = _report(run_cli, "major")
    published = run_cli("incidents", "publish", str(incident), "--kind", "statement",
                        "--url", site, "--by", "alice",
                        "--at", "2026-11-29 12:30", "--now", "2026-11-29 12:31")
    assert published.code == 0, published.stderr
    clocks = _clocks(run_cli, "2026-11-29 14:00")
    assert clocks["statement"]["state"] == "met_on_time"
    assert clocks["press_conference"]["state"] == "pending"


def test_a_t0_correction_moves_the_due_times_and_needs_a_reason(run_cli: Run) -> None:
    incident = _report(run_cli, "major")
    refused = run_cli("incidents", "correct-t0", str(incident), "--t-event", "2026-11-29 06:00",
                      "--reason", " ", "--by", "alice", "--now", "2026-11-29 09:30")
    assert refused.code == 2 and "理由" in refused.stderr
    fixed = run_cli("incidents", "correct-t0", str(incident), "--t-event", "2026-11-29 06:00",
                    "--reason", "当事人家属称事发于清晨六点", "--by", "alice",
                    "--now", "2026-11-29 09:30")
    assert fixed.code == 0, fixed.stderr
    clocks = _clocks(run_cli, "2026-11-29 10:00")
    assert clocks["statement"]["due_at"] == "2026-11-29T11:00:00+08:00"
    assert clocks["statement"]["state"] == "due_soon"
    assert run_cli("audit", "verify").code == 0


def test_regrading_to_major_adds_clocks_from_the_same_t0(run_cli: Run) -> None:
    incident = _report(run_cli, "serious")
    assert set(_clocks(run_cli, "2026-11-29 09:30")) == {"response"}
    graded = run_cli("incidents", "grade", str(incident), "--severity", "major", "--reason",
                     "央视已报道", "--by", "leader", "--now", "2026-11-29 13:30")
    assert graded.code == 0, graded.stderr
    clocks = _clocks(run_cli, "2026-11-29 14:00")
    assert clocks["statement"]["due_at"] == "2026-11-29T13:00:00+08:00"
    assert clocks["statement"]["state"] == "overdue"
    listed = json.loads(run_cli("incidents", "list", "--json").stdout)
    assert [(i["id"], i["severity"]) for i in listed] == [(incident, "major")]


def _refused(result: CliResult, message: str) -> None:
    assert result.code == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(("at", "url", "message"), [
    ("2027-01-01 00:00", "https://sfj.example.gov.cn/xwfb/1.html", "晚于当前时间"),
    ("2026-11-29 12:42", "https://sfj.example.gov.cn/xwfb/1.html", "晚于当前时间"),  # 11 min
    ("2020-01-01 00:00", "https://sfj.example.gov.cn/xwfb/1.html", "早于事件起算时间"),
    ("2026-11-29 07:59", "https://sfj.example.gov.cn/xwfb/1.html", "早于事件起算时间"),
    ("2026-11-29 12:30", "not a url", "发布地址无效"),
    ("2026-11-29 12:30", "ftp://sfj.example.gov.cn/1.html", "发布地址无效"),
    ("2026-11-29 12:30", "https://", "发布地址无效"),
])
def test_an_impossible_publication_is_refused_in_one_line_and_changes_nothing(
        run_cli: Run, at: str, url: str, message: str) -> None:
    incident = _report(run_cli, "major")
    before = _clocks(run_cli, "2026-12-01 12:00")
    refused = run_cli("incidents", "publish", str(incident), "--kind", "statement", "--url", url,
                      "--by", "alice", "--at", at, "--now", "2026-11-29 12:31")
    _refused(refused, message)
    assert _clocks(run_cli, "2026-12-01 12:00") == before
    assert before["statement"]["state"] == "overdue" and before["statement"]["met_at"] is None


def test_a_publication_within_the_clock_skew_is_accepted(run_cli: Run, site: str) -> None:
    incident = _report(run_cli, "major")
    published = run_cli("incidents", "publish", str(incident), "--kind", "statement",
                        "--url", site, "--by", "alice",
                        "--at", "2026-11-29 12:41", "--now", "2026-11-29 12:31")  # 10 min ahead
    assert published.code == 0, published.stderr
    statement = _clocks(run_cli, "2026-11-29 14:00")["statement"]
    assert statement["state"] == "met_on_time"
    assert statement["met_at"] == "2026-11-29T12:41:00+08:00"
    assert statement["seconds_left"] is None  # nothing left to count once met


def test_the_clock_table_speaks_chinese_and_shows_when_a_clock_was_met(run_cli: Run,
                                                                       site: str) -> None:
    incident = _report(run_cli, "major")
    run_cli("incidents", "publish", str(incident), "--kind", "statement", "--url",
            site, "--by", "alice", "--at", "2026-11-29 12:30",
            "--now", "2026-11-29 12:31")
    table = run_cli("clocks", "--now", "2026-11-29 14:00", env={"COLUMNS": "240"})
    assert table.code == 0, table.stderr
    rows = {line.split("│")[2].strip(): line for line in table.stdout.splitlines()
            if line.count("│") > 3 and "#" in line}
    statement, press = rows["首次权威信息发布"], rows["新闻发布会"]
    assert "按时完成" in statement and "已于 2026-11-29 12:30 完成" in statement
    assert "剩余" not in statement
    assert "计时中" in press and "剩余 18小时0分" in press
    for code in ("pending", "met_on_time", "due_soon", "overdue"):
        assert code not in table.stdout


def test_publish_is_refused_for_a_duty_officer_and_when_the_page_cannot_be_fetched(
        run_cli: Run, site: str) -> None:
    incident = _report(run_cli, "major")
    assert run_cli("user", "add", "liu", "--role", "duty_officer", stdin="correct horse\n").code == 0
    before = _clocks(run_cli, "2026-11-29 14:00")
    _refused(run_cli("incidents", "publish", str(incident), "--kind", "statement", "--url", site,
                     "--by", "liu", "--at", "2026-11-29 12:30", "--now", "2026-11-29 12:31"),
             "无权")
    _refused(run_cli("incidents", "publish", str(incident), "--kind", "statement", "--url",
                     site.replace("1.html", "missing.html"), "--by", "alice", "--at",
                     "2026-11-29 12:30", "--now", "2026-11-29 12:31"), "HTTP 404")
    assert _clocks(run_cli, "2026-11-29 14:00") == before
