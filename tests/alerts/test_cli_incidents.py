"""An officer's incident commands: publish closes a clock, T0 corrections move due times with
the old ones kept, regrading starts the new level's clocks from the same T0."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.conftest import CliResult

Run = Callable[..., CliResult]


def _clocks(run_cli: Run, now: str) -> dict[str, dict[str, Any]]:
    result = run_cli("clocks", "--now", now, "--json")
    assert result.code == 0, result.stderr
    return {c["kind"]: c for c in json.loads(result.stdout)}


def _report(run_cli: Run, severity: str) -> int:
    assert run_cli("init").code == 0
    result = run_cli("incidents", "report", "--title", "网传某监狱服刑人员非正常死亡", "--severity",
                     severity, "--t-event", "2026-11-29 08:00", "--now", "2026-11-29 09:00",
                     "--json")
    assert result.code == 0, result.stderr
    return int(json.loads(result.stdout)["id"])


def test_publishing_the_statement_in_time_meets_its_clock(run_cli: Run) -> None:
    incident = _report(run_cli, "major")
    published = run_cli("incidents", "publish", str(incident), "--kind", "statement",
                        "--url", "https://sfj.example.gov.cn/xwfb/1.html", "--by", "alice",
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
