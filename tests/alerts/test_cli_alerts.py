"""The alert commands through the real `yuqing` CLI in a subprocess."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text

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


def test_a_report_with_a_topic_gets_its_owning_section(run_cli: Run) -> None:
    result = run_cli("incidents", "report", "--title", "网传某公证处违规出具公证书", "--severity",
                     "serious", "--topic", "notary", "--now", "2026-11-29 09:30", "--json")
    assert result.code == 0, result.stderr
    [row] = json.loads(run_cli("incidents", "list", "--json").stdout)
    assert (row["topic"], row["owning_section"]) == ("notary", "律师公证工作管理科")


@pytest.mark.parametrize(("args", "message"), [
    (("--severity", "huge", "--t-event", "2026-11-29 08:00"), "等级无效"),
    (("--severity", "major", "--t-event", "yesterday"), "时间格式错误"),
    (("--severity", "major", "--topic", "weather"), "未知主题"),
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


def roster_config(tmp_path: Path) -> dict[str, str]:
    """A config whose roster has 张三 (zhangsan) on duty; the env that selects it."""
    config = tmp_path / "yuqing.yaml"
    config.write_text(yaml.safe_dump({"roster": {
        "people": {"zhangsan": {"name": "张三", "section": "办公室",
                                "channels": ["json://127.0.0.1:9/zhangsan"]}},
        "shifts": [{"person": "zhangsan", "start": "2026-11-29 08:00", "end": "2026-11-30 08:00"}],
    }}, allow_unicode=True), encoding="utf-8")
    return {"YUQING_CONFIG": str(config)}


def acks(tmp_path: Path) -> list[tuple[str, ...]]:
    """(user,) per acknowledgement row, and ("audit",) per alert.ack audit event."""
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("select user from acknowledgements"))]
        rows += [("audit",) for _ in conn.execute(
            text("select id from audit_events where action = 'alert.ack'"))]
    engine.dispose()
    return rows


def test_ack_is_audited_and_listed(run_cli: Run, tmp_path: Path) -> None:
    env = roster_config(tmp_path)
    incident_id = report(run_cli)
    result = run_cli("ack", str(incident_id), "--by", "zhangsan", "--json", env=env)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["by"] == "zhangsan"
    assert acks(tmp_path) == [("zhangsan",), ("audit",)]
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.connect() as conn:
        audited = conn.execute(text("select actor, object_id from audit_events "
                                    "where action = 'alert.ack'")).one()
    engine.dispose()
    assert tuple(audited) == ("zhangsan", str(incident_id))  # the log names who acknowledged
    assert run_cli("audit", "verify").code == 0
    missing = run_cli("ack", "999", "--by", "zhangsan", env=env)
    assert missing.code == 2 and "事件不存在" in missing.stderr


@pytest.mark.parametrize("by", ["路人甲", "lisi", "ZHANGSAN"])
def test_ack_by_someone_neither_on_the_roster_nor_a_user_is_refused_and_changes_nothing(
        run_cli: Run, tmp_path: Path, by: str) -> None:
    env = roster_config(tmp_path)
    incident_id = report(run_cli)
    refused = run_cli("ack", str(incident_id), "--by", by, env=env)
    assert refused.code == 2 and "人员未知" in refused.stderr and by in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert acks(tmp_path) == []


def test_ack_accepts_a_roster_key_or_name_an_imported_person_and_a_user(
        run_cli: Run, tmp_path: Path) -> None:
    env = roster_config(tmp_path)
    incident_id = report(run_cli)
    by_name = run_cli("ack", str(incident_id), "--by", "张三", "--json", env=env)
    assert by_name.code == 0 and json.loads(by_name.stdout)["by"] == "zhangsan"
    csv_file = tmp_path / "roster.csv"
    csv_file.write_text("person,name,role,section,channels,start,end\n"
                        "lisi,李四,duty_officer,办公室,json://127.0.0.1:9/lisi,"
                        "2026-11-29 20:00,2026-11-30 08:00\n", encoding="utf-8")
    assert run_cli("roster", "import", str(csv_file), env=env).code == 0
    assert run_cli("ack", str(incident_id), "--by", "lisi", env=env).code == 0
    assert run_cli("ack", str(incident_id), "--by", "zhangsan", env=env).code == 0  # config
    added = run_cli("user", "add", "wangwu", "--role", "duty_officer", stdin="s3cret-pass\n",
                    env=env)
    assert added.code == 0, added.stderr
    assert run_cli("ack", str(incident_id), "--by", "wangwu", env=env).code == 0
    assert acks(tmp_path) == [("zhangsan",), ("lisi",), ("zhangsan",), ("wangwu",)] + [
        ("audit",)] * 4


def drill_config(tmp_path: Path, webhook: Webhook) -> Path:
    config = tmp_path / "drill.yaml"
    config.write_text(yaml.safe_dump({"roster": {
        "people": {"zhang": {"name": "张三", "section": "办公室",
                             "channels": [webhook.url("/zhang")]},
                   "wang": {"name": "王五", "channels": [webhook.url("/wang")]}},
        "sections": {"办公室": "wang"},
        "shifts": [{"person": "zhang", "start": "2020-01-01 00:00", "end": "2099-01-01 00:00"}],
    }}, allow_unicode=True), encoding="utf-8")
    return config


def test_a_drill_runs_the_chain_through_real_channels_and_is_marked(
        run_cli: Run, tmp_path: Path, webhook: Webhook, inbox: Inbox) -> None:
    config = drill_config(tmp_path, webhook)
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
    assert not any("工作台" in a.body for a in inbox.arrivals)  # no dashboard configured
    assert steps[("graded-major", "wang")]["kind"] == "escalation"
    escalated = [a for a in inbox.arrivals if a.channel == "/wang"]
    assert escalated and all(a.title.startswith("【升级·值班员张三未确认】") for a in escalated)
    clocks = json.loads(run_cli("clocks", "--json", env={"YUQING_CONFIG": str(config)}).stdout)
    assert clocks == []  # the drill incident is closed afterwards


def test_alerts_link_to_the_dashboard_only_when_its_url_is_configured(
        run_cli: Run, tmp_path: Path, webhook: Webhook, inbox: Inbox) -> None:
    env = {"YUQING_CONFIG": str(drill_config(tmp_path, webhook)),
           "YUQING_DASHBOARD_URL": "https://yuqing.sfj.example.gov.cn/"}
    result = run_cli("drill", "--json", env=env)
    assert result.code == 0, result.stderr
    incident_id = json.loads(result.stdout)["incident_id"]
    assert inbox.arrivals and all(
        f"工作台：https://yuqing.sfj.example.gov.cn/incidents/{incident_id}\n" in a.body
        for a in inbox.arrivals)
