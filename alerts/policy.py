"""The deadline policy: which clocks each severity starts, and how people are told.

The admin edits it as the ``policy:`` section of the YAML config. Every field has a default, so
``policy: {}`` means :data:`DEFAULT_POLICY`, and a file only states what it changes::

    policy:
      levels:                      # keys: general, serious, major, critical (analysis.Severity)
        critical:
          clocks:
            - {kind: statement, due_after_hours: 5}          # 首次权威信息, 国办发〔2016〕80号
            - {kind: press_conference, due_after_hours: 24}  # 新闻发布会
            - {kind: follow_up, every_hours: 24, after: statement}   # 持续发布
        major: ...                 # same as critical by default
        serious:
          clocks: [{kind: response, due_after_hours: 48}]    # 回应, 国办发〔2016〕61号
          quiet_hours: {start: "22:00", end: "07:00"}        # refused for major/critical
        general:
          clocks: []               # no legal clock; an internal target may be added:
                                   # [{kind: response, due_after_hours: 72, internal: true}]
      reminders_before_minutes: [60, 30, 10]
      overdue_repeat_minutes: 30
      overdue_repeat_max: null     # null: repeat while the clock stays overdue
      ack_timeout_minutes: 15
      escalation: [duty_officer, section_head, deputy_leader, principal_leader]

A level that is not written keeps its default clocks; a level that is written replaces them.

Rules the policy enforces (``load_policy`` raises ``pydantic.ValidationError`` whose error location
is the offending key, e.g. ``levels.major.quiet_hours``; ``yuqing.core.settings.section`` turns it into a
one-line message naming file and key):

- quiet hours are refused for 特别重大/重大: those clocks run in calendar hours, day and night;
- a level names each clock kind at most once; ``follow_up`` needs ``every_hours`` and an
  ``after`` clock defined in the same level; the other kinds need ``due_after_hours`` and take
  no ``every_hours``;
- reminder offsets are positive and distinct; the escalation chain is non-empty without repeats.

T0 is deliberately *not* configurable: legal clocks run from t_event, else t_first_post, else
(marked as a fallback) t_detected — see :func:`alerts.clocks.choose_t0`. The texts do not name
the moment the clock starts, so the earliest defensible choice is fixed in code, not left to an
admin.

The policy is copied onto each incident when it opens (``Incident.policy_snapshot``, via
``policy.model_dump(mode="json")`` and ``load_policy`` back), so later edits never move running
clocks.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alerts.models import ClockKind
from analysis.models import Severity
from yuqing.core.models import Role


class EscalationRung(StrEnum):
    """A rung of the escalation chain (值班员 → 科室负责人 → 分管局领导 → 主要负责同志).

    Each rung is filled by a person holding one :class:`yuqing.core.models.Role` (``role``): the
    section head is a ``section`` person the roster's ``sections`` map names for the incident's
    owning section; both leaders are ``leader`` people the roster names as deputy or principal.
    """

    DUTY_OFFICER = "duty_officer"
    SECTION_HEAD = "section_head"
    DEPUTY_LEADER = "deputy_leader"
    PRINCIPAL_LEADER = "principal_leader"

    @property
    def label(self) -> str:
        return RUNG_LABELS[self]

    @property
    def role(self) -> Role:
        return RUNG_ROLES[self]


RUNG_LABELS: dict[EscalationRung, str] = {
    EscalationRung.DUTY_OFFICER: "值班员",
    EscalationRung.SECTION_HEAD: "科室负责人",
    EscalationRung.DEPUTY_LEADER: "分管局领导",
    EscalationRung.PRINCIPAL_LEADER: "主要负责同志",
}

RUNG_ROLES: dict[EscalationRung, Role] = {
    EscalationRung.DUTY_OFFICER: Role.DUTY_OFFICER,
    EscalationRung.SECTION_HEAD: Role.SECTION,
    EscalationRung.DEPUTY_LEADER: Role.LEADER,
    EscalationRung.PRINCIPAL_LEADER: Role.LEADER,
}

_STRICT = ConfigDict(extra="forbid", frozen=True)


class ClockRuleSpec(BaseModel):
    """One clock of a severity level, as written in YAML."""

    model_config = _STRICT

    kind: ClockKind
    due_after_hours: float | None = Field(default=None, gt=0, le=24 * 366)
    every_hours: float | None = Field(default=None, gt=0, le=24 * 366)
    after: ClockKind | None = None
    internal: bool = False  # an internal target, not a legal deadline (reported apart)

    @model_validator(mode="before")
    @classmethod
    def _follow_up_after_statement(cls, data: Any) -> Any:
        # The cadence of 持续发布 starts from the first authoritative statement unless told otherwise.
        if isinstance(data, dict) and data.get("kind") == ClockKind.FOLLOW_UP:
            return {"after": ClockKind.STATEMENT, **data}
        return data

    @model_validator(mode="after")
    def _shape_fits_kind(self) -> ClockRuleSpec:
        if self.kind is ClockKind.FOLLOW_UP:
            return self._check_follow_up()
        if self.due_after_hours is None:
            raise ValueError(f"due_after_hours is required for a {self.kind} clock")
        if self.every_hours is not None or self.after is not None:
            raise ValueError(f"every_hours/after apply only to follow_up, not to {self.kind}")
        return self

    def _check_follow_up(self) -> ClockRuleSpec:
        if self.every_hours is None:
            raise ValueError("every_hours is required for a follow_up clock (持续发布 cadence)")
        if self.due_after_hours is not None:
            raise ValueError("follow_up takes every_hours (counted from the last publication), "
                             "not due_after_hours")
        if self.after in (None, ClockKind.FOLLOW_UP):
            raise ValueError("after: follow_up must start after another clock, e.g. statement")
        return self


class QuietHours(BaseModel):
    """A nightly window (Asia/Shanghai) when reminders are held back; e.g. 22:00–07:00."""

    model_config = _STRICT

    start: time
    end: time

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet_hours start and end are equal (an empty or 24-hour window)")
        return self


class LevelPolicy(BaseModel):
    """The clocks one severity starts, and optional quiet hours for its notifications."""

    model_config = _STRICT

    clocks: tuple[ClockRuleSpec, ...] = ()
    quiet_hours: QuietHours | None = None

    @field_validator("clocks")
    @classmethod
    def _kinds_fit_together(cls, clocks: tuple[ClockRuleSpec, ...]) -> tuple[ClockRuleSpec, ...]:
        kinds = [spec.kind for spec in clocks]
        repeated = sorted({str(kind) for kind in kinds if kinds.count(kind) > 1})
        if repeated:
            raise ValueError(f"clock kind listed twice in one level: {', '.join(repeated)}")
        for spec in clocks:
            if spec.after is not None and spec.after not in kinds:
                raise ValueError(f"follow_up runs after {spec.after}, which this level lacks")
        return clocks


class UrgentLevelPolicy(LevelPolicy):
    """特别重大/重大: the same, but quiet hours are refused (calendar hours, day and night)."""

    @field_validator("quiet_hours")
    @classmethod
    def _refuse_quiet_hours(cls, value: QuietHours | None) -> None:
        if value is not None:
            raise ValueError("quiet hours are not allowed for 特别重大/重大: their clocks run "
                             "day and night (国办发〔2016〕80号); remove quiet_hours here")
        return None


def _urgent_default() -> UrgentLevelPolicy:
    return UrgentLevelPolicy(clocks=(
        ClockRuleSpec(kind=ClockKind.STATEMENT, due_after_hours=5),
        ClockRuleSpec(kind=ClockKind.PRESS_CONFERENCE, due_after_hours=24),
        ClockRuleSpec(kind=ClockKind.FOLLOW_UP, every_hours=24, after=ClockKind.STATEMENT),
    ))


def _serious_default() -> LevelPolicy:
    return LevelPolicy(clocks=(ClockRuleSpec(kind=ClockKind.RESPONSE, due_after_hours=48),))


class Levels(BaseModel):
    """Clocks per graded severity; ``Severity.NONE`` (single documents) never starts a clock."""

    model_config = _STRICT

    general: LevelPolicy = Field(default_factory=LevelPolicy)
    serious: LevelPolicy = Field(default_factory=_serious_default)
    major: UrgentLevelPolicy = Field(default_factory=_urgent_default)
    critical: UrgentLevelPolicy = Field(default_factory=_urgent_default)


_DEFAULT_CHAIN = (EscalationRung.DUTY_OFFICER, EscalationRung.SECTION_HEAD,
                  EscalationRung.DEPUTY_LEADER, EscalationRung.PRINCIPAL_LEADER)


class Policy(BaseModel):
    """The whole deadline and notification policy (see the module docstring for the YAML)."""

    model_config = _STRICT

    levels: Levels = Field(default_factory=Levels)
    reminders_before_minutes: tuple[int, ...] = (60, 30, 10)
    overdue_repeat_minutes: int = Field(default=30, gt=0)
    overdue_repeat_max: int | None = Field(default=None, ge=1)
    ack_timeout_minutes: int = Field(default=15, gt=0)
    escalation: tuple[EscalationRung, ...] = _DEFAULT_CHAIN

    @field_validator("reminders_before_minutes")
    @classmethod
    def _reminders_sorted(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(minutes <= 0 for minutes in value):
            raise ValueError("reminder offsets must be positive minutes before the due time")
        if len(set(value)) != len(value):
            raise ValueError("reminder offsets must be distinct")
        return tuple(sorted(value, reverse=True))

    @field_validator("escalation")
    @classmethod
    def _chain_usable(cls, value: tuple[EscalationRung, ...]) -> tuple[EscalationRung, ...]:
        if not value:
            raise ValueError("the escalation chain needs at least one role (e.g. duty_officer)")
        if len(set(value)) != len(value):
            raise ValueError("a role appears twice in the escalation chain")
        return value

    def level(self, severity: Severity) -> LevelPolicy:
        """The level policy of ``severity``; ``NONE`` gets an empty level (no clocks)."""
        if severity is Severity.NONE:
            return LevelPolicy()
        level: LevelPolicy = getattr(self.levels, severity.value)
        return level


DEFAULT_POLICY = Policy()


def load_policy(data: dict[str, Any] | None) -> Policy:
    """Validate the ``policy:`` config section; ``{}`` or None gives :data:`DEFAULT_POLICY`.

    Raises ``pydantic.ValidationError`` whose first error's location is the offending key.
    """
    if not data:
        return DEFAULT_POLICY
    return Policy.model_validate(data)
