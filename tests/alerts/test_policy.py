"""The deadline policy: defaults from 国办发〔2016〕80号/61号, and validation that names the key."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from alerts.clocks import rules_for
from alerts.models import ClockKind
from alerts.policy import DEFAULT_POLICY, EscalationRung, Policy, load_policy
from analysis.models import Severity
from yuqing.core.settings import Settings, SettingsError, load_config, section

QUIET = {"start": "22:00", "end": "07:00"}


def _kinds_and_hours(policy: Policy, severity: Severity) -> list[tuple[ClockKind, float | None]]:
    return [(spec.kind, spec.due_after_hours or spec.every_hours)
            for spec in policy.level(severity).clocks]


@pytest.mark.parametrize("severity", [Severity.MAJOR, Severity.CRITICAL])
def test_it_gives_major_and_critical_the_5_and_24_hour_clocks_then_daily_follow_ups(
        severity: Severity) -> None:
    assert _kinds_and_hours(DEFAULT_POLICY, severity) == [
        (ClockKind.STATEMENT, 5), (ClockKind.PRESS_CONFERENCE, 24), (ClockKind.FOLLOW_UP, 24)]
    follow_up = DEFAULT_POLICY.level(severity).clocks[2]
    assert follow_up.after is ClockKind.STATEMENT


def test_it_gives_serious_a_48_hour_response_and_general_no_legal_clock() -> None:
    assert _kinds_and_hours(DEFAULT_POLICY, Severity.SERIOUS) == [(ClockKind.RESPONSE, 48)]
    assert DEFAULT_POLICY.level(Severity.GENERAL).clocks == ()
    assert DEFAULT_POLICY.level(Severity.NONE).clocks == ()


def test_it_defaults_reminders_repeats_ack_timeout_and_the_bureau_escalation_chain() -> None:
    assert DEFAULT_POLICY.reminders_before_minutes == (60, 30, 10)
    assert DEFAULT_POLICY.overdue_repeat_minutes == 30
    assert DEFAULT_POLICY.overdue_repeat_max is None
    assert DEFAULT_POLICY.ack_timeout_minutes == 15
    assert [role.label for role in DEFAULT_POLICY.escalation] == [
        "值班员", "科室负责人", "分管局领导", "主要负责同志"]


@pytest.mark.parametrize("data", [{}, None])
def test_it_treats_an_empty_policy_section_as_the_defaults(data: dict[str, Any] | None) -> None:
    assert load_policy(data) == DEFAULT_POLICY


def test_it_round_trips_a_policy_through_the_json_snapshot_stored_on_an_incident() -> None:
    policy = load_policy({"levels": {"serious": {"quiet_hours": QUIET}},
                          "reminders_before_minutes": [15, 120], "overdue_repeat_max": 4})
    snapshot = policy.model_dump(mode="json")
    assert load_policy(snapshot) == policy
    assert policy.reminders_before_minutes == (120, 15)


def test_it_keeps_the_default_clocks_of_levels_a_file_does_not_mention() -> None:
    policy = load_policy({"levels": {"general": {"clocks": [
        {"kind": "response", "due_after_hours": 72, "internal": True}]}}})
    assert policy.level(Severity.MAJOR) == DEFAULT_POLICY.level(Severity.MAJOR)
    assert policy.level(Severity.GENERAL).clocks[0].internal is True


@pytest.mark.parametrize("severity", [Severity.GENERAL, Severity.SERIOUS])
def test_it_allows_quiet_hours_below_major_and_passes_them_to_the_rules(
        severity: Severity) -> None:
    clocks = [{"kind": "response", "due_after_hours": 48}]
    policy = load_policy({"levels": {severity.value: {"clocks": clocks, "quiet_hours": QUIET}}})
    (rule,) = rules_for(policy, severity)
    assert rule.quiet is not None
    assert (rule.quiet.start, rule.quiet.end) == (time(22, 0), time(7, 0))
    assert rule.due_after == timedelta(hours=48)


@pytest.mark.parametrize(
    ("data", "where", "says"),
    [
        ({"levels": {"major": {"quiet_hours": QUIET}}}, "levels.major.quiet_hours", "not allowed"),
        ({"levels": {"critical": {"quiet_hours": QUIET}}}, "levels.critical.quiet_hours",
         "not allowed"),
        ({"levels": {"major": {"clocks": [{"kind": "follow_up"}]}}}, "levels.major.clocks.0",
         "every_hours is required"),
        ({"levels": {"major": {"clocks": [{"kind": "follow_up", "every_hours": 24,
                                           "due_after_hours": 5}]}}},
         "levels.major.clocks.0", "not due_after_hours"),
        ({"levels": {"serious": {"clocks": [{"kind": "response"}]}}}, "levels.serious.clocks.0",
         "due_after_hours is required"),
        ({"levels": {"serious": {"clocks": [{"kind": "response", "due_after_hours": 48,
                                             "every_hours": 4}]}}},
         "levels.serious.clocks.0", "apply only to follow_up"),
        ({"levels": {"serious": {"clocks": [{"kind": "response", "due_after_hours": 48},
                                            {"kind": "response", "due_after_hours": 24}]}}},
         "levels.serious.clocks", "listed twice"),
        ({"levels": {"serious": {"clocks": [{"kind": "follow_up", "every_hours": 12}]}}},
         "levels.serious.clocks", "which this level lacks"),
        ({"levels": {"major": {"clocks": [{"kind": "follow_up", "every_hours": 12,
                                           "after": "follow_up"}]}}},
         "levels.major.clocks.0", "must start after another clock"),
        ({"levels": {"major": {"clocks": [{"kind": "statement", "due_after_hours": 0}]}}},
         "levels.major.clocks.0.due_after_hours", "greater than 0"),
        ({"levels": {"major": {"clocks": [{"kind": "tweet", "due_after_hours": 1}]}}},
         "levels.major.clocks.0.kind", "statement"),
        ({"levels": {"urgent": {}}}, "levels.urgent", "Extra inputs"),
        ({"levels": {"serious": {"quiet_hours": {"start": "22:00", "end": "22:00"}}}},
         "levels.serious.quiet_hours", "equal"),
        ({"levels": {"serious": {"quiet_hours": {"start": "25:00", "end": "07:00"}}}},
         "levels.serious.quiet_hours.start", "time"),
        ({"reminders_before_minutes": [60, 0]}, "reminders_before_minutes", "positive"),
        ({"reminders_before_minutes": [30, 30]}, "reminders_before_minutes", "distinct"),
        ({"overdue_repeat_minutes": 0}, "overdue_repeat_minutes", "greater than 0"),
        ({"ack_timeout_minutes": -5}, "ack_timeout_minutes", "greater than 0"),
        ({"escalation": []}, "escalation", "at least one role"),
        ({"escalation": ["duty_officer", "duty_officer"]}, "escalation", "twice"),
        ({"escalation": ["duty_officer", "mayor"]}, "escalation.1", "section_head"),
        ({"quiet_hours": QUIET}, "quiet_hours", "Extra inputs"),
    ],
)
def test_it_refuses_a_bad_policy_naming_the_key(data: dict[str, Any], where: str,
                                                 says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        load_policy(data)
    error = caught.value.errors()[0]
    assert ".".join(str(part) for part in error["loc"]) == where
    assert says in error["msg"]


def test_it_reports_quiet_hours_for_major_with_file_and_key_through_the_config_loader(
        tmp_path: Path) -> None:
    path = tmp_path / "yuqing.yaml"
    path.write_text(
        "policy:\n  levels:\n    major:\n      quiet_hours: {start: '22:00', end: '07:00'}\n",
        encoding="utf-8")
    config = load_config(Settings(config=path))
    with pytest.raises(SettingsError) as caught:
        section(config, "policy", Policy, config.policy)
    message = str(caught.value)
    assert str(path) in message
    assert "policy.levels.major.quiet_hours" in message
    assert "特别重大/重大" in message


def test_it_orders_the_escalation_chain_as_written() -> None:
    policy = load_policy({"escalation": ["section_head", "duty_officer"]})
    assert policy.escalation == (EscalationRung.SECTION_HEAD, EscalationRung.DUTY_OFFICER)
