"""The duty roster: who is on duty, the chain, gaps, and the file formats."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from alerts.policy import DEFAULT_POLICY, EscalationRung
from alerts.roster import (RosterError, chain, gap_around, leader_for_gap, on_duty, parse_roster,
                           read_roster_file)
from tests.alerts.conftest import roster_data
from yuqing.core.clock import parse_local

ROSTER = parse_roster({**roster_data({p: [f"json://127.0.0.1:9/{p}"] for p in
                                      ("alice", "bob", "carol", "dan")}),
                       "principal_leader": "carol"})


@pytest.mark.parametrize(("at", "person"), [
    ("2026-11-28 19:59:59", None),
    ("2026-11-28 20:00", "alice"),      # a shift starts at its start
    ("2026-11-30 19:59:59", "alice"),
    ("2026-11-30 20:00", None),         # and ends before its end
])
def test_it_finds_who_is_on_duty_at_the_shift_boundaries(at: str, person: str | None) -> None:
    assert on_duty(ROSTER, parse_local(at)) == person


def test_the_chain_follows_the_policy_order() -> None:
    rungs = chain(ROSTER, parse_local("2026-11-29 12:00"), DEFAULT_POLICY.escalation)
    assert [(r.role, r.person) for r in rungs] == [
        (EscalationRung.DUTY_OFFICER, "alice"), (EscalationRung.SECTION_HEAD, "bob"),
        (EscalationRung.DEPUTY_LEADER, "carol"), (EscalationRung.PRINCIPAL_LEADER, "carol")]


def test_an_empty_slot_is_reported_with_its_bounds_to_the_first_leader() -> None:
    later = parse_local("2026-11-30 21:00")
    assert gap_around(ROSTER, later) == (parse_local("2026-11-30 20:00"), None)
    assert leader_for_gap(ROSTER, later, DEFAULT_POLICY.escalation) == "bob"


def test_a_shift_in_utc_and_one_in_beijing_time_mean_the_same_instant() -> None:
    utc = parse_roster({"people": {"a": {"name": "甲"}}, "shifts": [
        {"person": "a", "start": "2026-11-29T00:00:00Z", "end": "2026-11-29T12:00:00Z"}]})
    assert on_duty(utc, parse_local("2026-11-29 08:00")) == "a"
    assert on_duty(utc, parse_local("2026-11-29 07:59")) is None
    assert utc.shifts[0].end - utc.shifts[0].start == timedelta(hours=12)


@pytest.mark.parametrize(("data", "message"), [
    ({"people": {"a": {"name": "甲", "channels": ["wecom://x"]}}}, "unsupported channel"),
    ({"people": {}, "sections": {"办公室": "nobody"}}, "unknown person"),
    ({"people": {"a": {"name": "甲"}}, "shifts": [
        {"person": "a", "start": "2026-11-29 20:00", "end": "2026-11-29 08:00"}]}, "ends before"),
])
def test_a_bad_roster_is_refused_with_the_reason(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_roster(data)


def test_a_csv_without_the_role_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("person,name\nzhang,张三\n", encoding="utf-8")
    with pytest.raises(RosterError, match="missing columns: role"):
        read_roster_file(path)


def test_a_yaml_file_may_wrap_the_roster_in_its_section_name(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("roster:\n  people: {zhang: {name: 张三}}\n  admin: zhang\n",
                    encoding="utf-8")
    assert read_roster_file(path).admin == "zhang"
    assert isinstance(parse_local("2026-11-29 08:00"), datetime)
