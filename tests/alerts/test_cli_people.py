"""The acting commands (ack, grade, correct-t0, publish, close) through the real CLI: an unknown
person or a role without the right is refused in one line, exit 2, and nothing changes; an
allowed person's step is audited under their key."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import CliResult

Run = Callable[..., CliResult]

INCIDENT = "网传某公证处工作人员违规出具公证书"


def _state(tmp_path: Path) -> tuple[object, ...]:
    """Everything an acting command could change: the incident, its side rows, the audit."""
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.connect() as conn:
        state = tuple(conn.execute(text(
            "select severity, t0, t_event, status, closed_at from incidents")).one()) + tuple(
            conn.execute(text(f"select count(*) from {table}")).scalar_one()
            for table in ("acknowledgements", "responses", "incident_t0_changes",
                          "incident_severity_changes", "audit_events"))
    engine.dispose()
    return state


def _audit_actor(tmp_path: Path, action: str) -> str:
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.connect() as conn:
        actor = conn.execute(text("select actor from audit_events where action = :a"),
                             {"a": action}).scalar_one()
    engine.dispose()
    return str(actor)


@pytest.fixture
def incident(run_cli: Run) -> int:
    """An incident, 张三 (zhangsan) a duty officer, 孙七 (sun) of the openness office."""
    assert run_cli("init").code == 0
    for args in (("zhangsan", "--role", "duty_officer", "--display-name", "张三"),
                 ("sun", "--role", "office", "--display-name", "孙七")):
        added = run_cli("user", "add", *args, "--no-login")
        assert added.code == 0, added.stderr
    reported = run_cli("incidents", "report", "--title", INCIDENT, "--severity", "serious",
                       "--t-event", "2026-11-29 08:00", "--now", "2026-11-29 09:00", "--json")
    assert reported.code == 0, reported.stderr
    return int(json.loads(reported.stdout)["id"])


def _refused(result: CliResult, *needles: str) -> None:
    assert result.code == 2, (result.code, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


COMMANDS: dict[str, tuple[str, ...]] = {
    "ack": ("ack", "{id}"),
    "grade": ("incidents", "grade", "{id}", "--severity", "major", "--reason", "转载量激增",
              "--now", "2026-11-29 10:00"),
    "correct-t0": ("incidents", "correct-t0", "{id}", "--t-event", "2026-11-29 06:00",
                   "--reason", "当事人家属称事发于清晨六点", "--now", "2026-11-29 10:00"),
    "publish": ("incidents", "publish", "{id}", "--kind", "response", "--url",
                "https://sfj.example.gov.cn/xwfb/3.html", "--at", "2026-11-29 10:00",
                "--now", "2026-11-29 10:01", "--file", "{evidence}"),
    "close": ("incidents", "close", "{id}", "--reason", "已回应，舆情平息", "--now",
              "2026-11-29 11:00"),
}
# (a role that may not take the step, who may, the audit action the allowed step writes)
WRONG_ROLE = {"ack": None, "grade": "sun", "correct-t0": "sun", "publish": "zhangsan",
              "close": "sun"}
ALLOWED = {"publish": ("孙七", "sun")}  # a publication is recorded by the office or a section
AUDITED = {"ack": "alert.ack", "grade": "incident.severity", "correct-t0": "incident.t0",
           "publish": "response.record", "close": "incident.close"}
EVIDENCE = "<html><body><h1>关于网传事件的情况通报</h1><p>市司法局已成立调查组。</p></body></html>"


def _args(command: str, incident: int, by: str, evidence: Path) -> list[str]:
    return [a.format(id=incident, evidence=evidence) for a in COMMANDS[command]] + ["--by", by]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_acting_command_refuses_an_unknown_person_or_a_wrong_role_and_changes_nothing(
        run_cli: Run, tmp_path: Path, incident: int, command: str) -> None:
    wrong = WRONG_ROLE[command] or _admin(run_cli)
    evidence = tmp_path / "evidence.html"
    evidence.write_text(EVIDENCE, "utf-8")
    before = _state(tmp_path)
    _refused(run_cli(*_args(command, incident, "路人甲", evidence)), "人员未知", "路人甲")
    assert _state(tmp_path) == before
    _refused(run_cli(*_args(command, incident, wrong, evidence)), "无权", wrong)
    assert _state(tmp_path) == before
    shown, key = ALLOWED.get(command, ("张三", "zhangsan"))
    allowed = run_cli(*_args(command, incident, shown, evidence))  # by display name
    assert allowed.code == 0, allowed.stderr
    assert _audit_actor(tmp_path, AUDITED[command]) == key  # recorded by key


def _admin(run_cli: Run) -> str:
    """An admin keeps the system: they may not acknowledge or record a publication."""
    assert run_cli("user", "add", "dan", "--role", "admin", "--no-login").code == 0
    return "dan"


def test_user_add_takes_a_section_and_channels_and_refuses_a_bad_channel(
        run_cli: Run, tmp_path: Path) -> None:
    assert run_cli("init").code == 0
    added = run_cli("user", "add", "zhou", "--role", "section", "--section", "律师公证工作管理科",
                    "--channel", "mailto://zhou@sfj.example.gov.cn", "--no-login", "--json")
    assert added.code == 0, added.stderr
    assert json.loads(added.stdout)["section"] == "律师公证工作管理科"
    _refused(run_cli("user", "add", "li", "--role", "section", "--channel", "wecom://key",
                     "--no-login"), "wecom")
    _refused(run_cli("user", "add", "li", "--role", "chief", "--no-login"), "未知角色")


def test_a_roster_import_fills_the_person_records_user_add_writes(
        run_cli: Run, tmp_path: Path) -> None:
    assert run_cli("init").code == 0
    roster = tmp_path / "roster.csv"
    roster.write_text("person,name,role,section,channels,start,end\n"
                      "lisi,李四,duty_officer,办公室,json://127.0.0.1:9/lisi,"
                      "2026-11-29 08:00,2026-11-30 08:00\n"
                      "zhou,周科长,section_head,律师公证工作管理科,json://127.0.0.1:9/zhou,,\n"
                      "wu,吴审核,office,办公室,,,\n", encoding="utf-8")
    assert run_cli("roster", "import", str(roster)).code == 0
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.connect() as conn:
        rows = {r[0]: (json.loads(r[1]), r[2], bool(r[3])) for r in conn.execute(text(
            "select name, roles, section, heads_section from people"))}
    engine.dispose()
    assert rows == {"lisi": (["duty_officer"], "办公室", False),
                    "zhou": (["section"], "律师公证工作管理科", True),
                    "wu": (["office"], "办公室", False)}
    # the imported person logs in later: user add gives them the login, keeps their record
    added = run_cli("user", "add", "wu", "--role", "office", "--json", stdin="s3cret-pass\n")
    assert added.code == 0 and json.loads(added.stdout)["login"] is True


def test_a_closed_incident_leaves_the_lists_and_a_reopened_one_comes_back(
        run_cli: Run, tmp_path: Path, incident: int) -> None:
    closed = run_cli("incidents", "close", str(incident), "--by", "zhangsan", "--reason",
                     "已答复网民，舆情平息", "--now", "2026-11-29 12:00", "--json")
    assert closed.code == 0, closed.stderr
    assert json.loads(closed.stdout) == {"id": incident, "status": "closed", "by": "zhangsan"}
    assert json.loads(run_cli("incidents", "list", "--json").stdout) == []
    assert json.loads(run_cli("clocks", "--json", "--now", "2026-11-29 13:00").stdout) == []
    _refused(run_cli("incidents", "reopen", str(incident), "--by", "sun", "--reason", "再次发酵"),
             "无权", "sun")
    reopened = run_cli("incidents", "reopen", str(incident), "--by", "张三", "--reason",
                       "家属再次发帖，舆情再起", "--now", "2026-11-29 14:00")
    assert reopened.code == 0 and "待确认" in reopened.stdout, reopened.stderr
    listed = json.loads(run_cli("incidents", "list", "--json").stdout)
    assert [(i["id"], i["status"]) for i in listed] == [(incident, "open")]
    assert run_cli("audit", "verify").code == 0
    assert _audit_actor(tmp_path, "incident.reopen") == "zhangsan"
