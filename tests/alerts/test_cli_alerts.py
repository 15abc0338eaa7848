"""The alert commands through the real `yuqing` CLI in a subprocess."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.alerts.receivers import Inbox, Webhook

Run = Callable[..., Any]


@pytest.fixture
def run_cli(run_cli: Run) -> Run:
    """The CLI on a database that `yuqing init` has created."""
    result = run_cli("init")
    assert result.code == 0, result.stderr
    return run_cli


def report(run_cli: Run, *extra: str) -> int:
    result = run_cli("incidents", "report", "--title", "某律师事务所违规收费被曝光",
                     "--severity", "major", "--t-event", "2026-11-29 08:00", "--json", *extra)
    assert result.code == 0, result.stderr
    return int(json.loads(result.stdout)["id"])


def clocks_at(run_cli: Run, now: str) -> dict[str, dict[str, Any]]:
    result = run_cli("clocks", "--json", "--now", now)
    assert result.code == 0, result.stderr
    return {c["kind"]: c for c in json.loads(result.stdout)}


@pytest.mark.parametrize(("now", "state"), [
    ("2026-11-29 12:00", {"due_soon", "pending"}),   # T+4h
    ("2026-11-29T14:00:00+08:00", {"overdue"}),      # T+6h
    ("2026-11-29T06:00:00Z", {"overdue"}),           # T+6h written in UTC
])
def test_a_reported_major_incident_shows_its_statement_clock(run_cli: Run, now: str,
                                                             state: set[str]) -> None:
    incident_id = report(run_cli, "--url", "https://example.org/post/1")
    clocks = clocks_at(run_cli, now)
    statement, press = clocks["statement"], clocks["press_conference"]
    assert statement["incident_id"] == incident_id
    assert statement["due_at"] == "2026-11-29T13:00:00+08:00"
    assert statement["state"] in state
    assert statement["t0"] == "2026-11-29T08:00:00+08:00"
    assert statement["t0_source"] == "t_event"
    assert press["due_at"] == "2026-11-30T08:00:00+08:00"


def test_time_left_is_counted_to_the_due_time(run_cli: Run) -> None:
    report(run_cli)
    statement = clocks_at(run_cli, "2026-11-29 12:00")["statement"]
    assert statement["state"] == "due_soon" and statement["seconds_left"] == 3600


def test_a_report_without_event_time_runs_from_detection(run_cli: Run) -> None:
    result = run_cli("incidents", "report", "--title", "网传某公证处乱收费", "--severity",
                     "serious", "--now", "2026-11-29 09:30", "--json")
    assert result.code == 0, result.stderr
    [clock] = clocks_at(run_cli, "2026-11-29 10:00").values()
    assert clock["kind"] == "response" and clock["t0_source"] == "t_detected"
    assert clock["due_at"] == "2026-12-01T09:30:00+08:00"


@pytest.mark.parametrize(("args", "message"), [
    (("--severity", "huge", "--t-event", "2026-11-29 08:00"), "等级无效"),
    (("--severity", "major", "--t-event", "yesterday"), "时间格式错误"),
])
def test_bad_report_input_is_refused_in_one_line(run_cli: Run, args: tuple[str, ...],
                                                 message: str) -> None:
    result = run_cli("incidents", "report", "--title", "x", *args)
    assert result.code == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_roster_import_from_csv_and_who_gets_the_next_alert(run_cli: Run,
                                                            tmp_path: Path) -> None:
    csv_file = tmp_path / "roster.csv"
    csv_file.write_text(
        "person,name,role,section,channels,start,end\n"
        "zhang,张三,duty_officer,办公室,json://127.0.0.1:9/zhang,2026-11-29 08:00,2026-11-29 20:00\n"
        "li,李四,duty_officer,办公室,mailto://127.0.0.1:25?to=li@bureau.test,"
        "2026-11-29 20:00,2026-11-30 08:00\n"
        "wang,王五,section_head,办公室,json://127.0.0.1:9/wang,,\n"
        "zhao,赵六,deputy_leader,,dingtalk://abcdefghijklmn1234/,,\n", encoding="utf-8")
    assert run_cli("roster", "import", str(csv_file)).code == 0
    day = json.loads(run_cli("roster", "now", "--now", "2026-11-29 19:59", "--json").stdout)
    night = json.loads(run_cli("roster", "now", "--now", "2026-11-29 20:00", "--json").stdout)
    assert day["next_alert_to"] == "zhang" and night["next_alert_to"] == "li"
    assert [r["person"] for r in night["chain"]] == ["li", "wang", "zhao", None]
    gap = json.loads(run_cli("roster", "now", "--now", "2026-11-30 09:00", "--json").stdout)
    assert gap["next_alert_to"] == "wang" and gap["gap"]["from"] == "2026-11-30T08:00:00+08:00"


def test_a_roster_with_an_unknown_person_is_refused(run_cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text(yaml.safe_dump({"people": {}, "shifts": [
        {"person": "ghost", "start": "2026-11-29 08:00", "end": "2026-11-29 20:00"}]}),
        encoding="utf-8")
    result = run_cli("roster", "import", str(path))
    assert result.code == 2 and "ghost" in result.stderr


def test_ack_is_audited_and_listed(run_cli: Run) -> None:
    incident_id = report(run_cli)
    result = run_cli("ack", str(incident_id), "--by", "zhang", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["by"] == "zhang"
    assert run_cli("audit", "verify").code == 0
    missing = run_cli("ack", "999", "--by", "zhang")
    assert missing.code == 2 and "事件不存在" in missing.stderr


def test_a_drill_runs_the_chain_through_real_channels_and_is_marked(
        run_cli: Run, tmp_path: Path, webhook: Webhook, inbox: Inbox) -> None:
    config = tmp_path / "yuqing.yaml"
    config.write_text(yaml.safe_dump({"roster": {
        "people": {"zhang": {"name": "张三", "section": "办公室",
                             "channels": [webhook.url("/zhang")]},
                   "wang": {"name": "王五", "channels": [webhook.url("/wang")]}},
        "sections": {"办公室": "wang"},
        "shifts": [{"person": "zhang", "start": "2020-01-01 00:00", "end": "2099-01-01 00:00"}],
    }}, allow_unicode=True), encoding="utf-8")
    result = run_cli("drill", "--json", env={"YUQING_CONFIG": str(config)})
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    steps = {(s["step"], s["recipient"]): s for s in data["steps"]}
    assert steps[("graded-major", "zhang")]["status"] == "sent"
    assert steps[("statement:0:remind-60", "zhang")]["status"] == "sent"
    assert steps[("graded-major", "wang")]["kind"] == "escalation"  # nobody acknowledged
    assert steps[("statement:0:remind-30", "zhang")]["status"] == "sent"
    assert {a.channel for a in inbox.arrivals} == {"/zhang", "/wang"}
    assert all("（演练）" in a.body for a in inbox.arrivals)
    clocks = json.loads(run_cli("clocks", "--json", env={"YUQING_CONFIG": str(config)}).stdout)
    assert clocks == []  # the drill incident is closed afterwards
