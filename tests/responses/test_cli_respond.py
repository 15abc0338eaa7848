"""`yuqing respond …`, `yuqing responses` and `yuqing report` as an officer runs them (real
subprocess, SQLite, the bureau's pages on 127.0.0.1)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.crawler import loopback
from tests.responses.test_procedure import PRESS_PAGE, PRESS_TEXT, STATEMENT_PAGE, STATEMENT_TEXT

Run = Callable[..., CliResult]


@pytest.fixture
def site() -> Iterator[str]:
    server = loopback.start({"/xwfb/statement.html": loopback.static(STATEMENT_PAGE),
                             "/xwfb/fabuhui.html": loopback.static(PRESS_PAGE)})
    yield server.base
    server.shutdown()
    server.server_close()


def _ok(result: CliResult) -> CliResult:
    assert result.code == 0, result.stderr
    return result


def _walk(run_cli: Run, incident: int, kind: str, text: Path, times: tuple[str, ...]) -> int:
    drafted, reviewed, approved = times
    rid = int(json.loads(_ok(run_cli("respond", "draft", str(incident), "--kind", kind,
                                     "--text-file", str(text), "--by", "zhou", "--now", drafted,
                                     "--json")).stdout)["id"])
    _ok(run_cli("respond", "submit", str(rid), "--by", "zhou", "--now", drafted))
    _ok(run_cli("respond", "review", str(rid), "--by", "wu", "--confidential-ok",
                "--now", reviewed))
    assert "已审批待发布" in _ok(run_cli("respond", "approve", str(rid), "--by", "qian",
                                       "--now", approved)).stdout
    return rid


def test_an_officer_walks_a_major_incident_to_a_report_with_half_its_clocks_on_time(
        run_cli: Run, site: str, tmp_path: Path) -> None:
    _ok(run_cli("init"))
    for name, role in (("zhou", "section"), ("wu", "office"), ("qian", "leader"),
                       ("liu", "duty_officer")):
        _ok(run_cli("user", "add", name, "--role", role, stdin="correct horse\n"))
    incident = int(json.loads(_ok(run_cli(
        "incidents", "report", "--title", "网传我市法考考场泄题", "--severity", "major",
        "--t-event", "2026-11-02 09:00", "--now", "2026-11-02 10:00", "--json")).stdout)["id"])
    (tmp_path / "statement.txt").write_text(STATEMENT_TEXT, encoding="utf-8")
    (tmp_path / "press.txt").write_text(PRESS_TEXT, encoding="utf-8")
    statement = _walk(run_cli, incident, "statement", tmp_path / "statement.txt",
                      ("2026-11-02 10:30", "2026-11-02 11:30", "2026-11-02 12:00"))
    refused = run_cli("respond", "approve", str(statement), "--by", "liu")
    assert refused.code == 2 and "无权" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    _ok(run_cli("respond", "publish", str(statement), "--by", "wu", "--at", "2026-11-02 13:00",
                "--url", f"{site}/xwfb/statement.html", "--channel", "website",
                "--channel", "wechat", "--now", "2026-11-02 13:05"))
    press = _walk(run_cli, incident, "press_conference", tmp_path / "press.txt",
                  ("2026-11-02 18:00", "2026-11-03 03:00", "2026-11-03 05:00"))
    _ok(run_cli("respond", "publish", str(press), "--by", "zhou", "--at", "2026-11-03 15:00",
                "--url", f"{site}/xwfb/fabuhui.html", "--now", "2026-11-03 15:10"))
    listed = json.loads(_ok(run_cli("responses", str(incident), "--json",
                                    "--now", "2026-11-04 09:00")).stdout)["responses"]
    assert [(r["kind"], r["state"], r["channels"]) for r in listed] == [
        ("statement", "published", ["website", "wechat"]),
        ("press_conference", "published", [])]
    table = _ok(run_cli("responses", str(incident), "--now", "2026-11-04 09:00",
                        env={"COLUMNS": "300"})).stdout
    assert "已发布" in table and "领导审批 qian 2026-11-02 12:00" in table
    for args, message in ((("--kind", "speech", "--text-file", "statement.txt"), "回应类型无效"),
                          (("--kind", "statement", "--text-file", "missing.txt"), "无法读取")):
        refused = run_cli("respond", "draft", str(incident), *args, "--by", "zhou")
        assert refused.code == 2 and message in refused.stderr, refused.stderr
    report = _ok(run_cli("report", "--from", "2026-11-01", "--to", "2026-11-30", "--format",
                         "csv", "--out", "nov.csv", "--now", "2026-11-04 09:00"))
    assert "事件 1 起，按时率 50.0%" in report.stdout
    csv_text = (tmp_path / "nov.csv").read_text(encoding="utf-8-sig")
    late = [line for line in csv_text.splitlines() if "新闻发布会" in line and "发布滞后" in line]
    assert late, csv_text
    assert _ok(run_cli("audit", "verify")).code == 0
