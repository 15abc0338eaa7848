"""The bureau's response procedure as pure rules: kinds, states, who may take which step.

draft (the business section that owns the topic) → submitted → reviewed (领导小组办公室审核, with
the confidentiality review 保密审查 recorded as passed) → approved (组长/副组长) → published
(time, channels, URL and evidence). A rejection returns the response to draft with a comment.
A decision not to publish (不予公开) carries its reason and 备案 from the draft and ends ``filed``
at approval. Nothing here touches the database: ``responses.workflow`` applies the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from alerts.models import ClockKind


class ProcedureError(ValueError):
    """A step the procedure does not allow; the message is one line for the operator."""


class Kind(StrEnum):
    STATEMENT = "statement"
    PRESS_CONFERENCE = "press_conference"
    FOLLOW_UP = "follow_up"
    CLARIFICATION = "clarification"
    INTERVIEW = "interview"
    NOT_PUBLISHED = "not_published"
    CORRECTION = "correction"
    REVOCATION = "revocation"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS: Mapping[Kind, str] = MappingProxyType({
    Kind.STATEMENT: "权威信息发布", Kind.PRESS_CONFERENCE: "新闻发布会（吹风会）",
    Kind.FOLLOW_UP: "持续发布", Kind.CLARIFICATION: "辟谣/澄清", Kind.INTERVIEW: "接受媒体采访",
    Kind.NOT_PUBLISHED: "不予公开", Kind.CORRECTION: "变更说明", Kind.REVOCATION: "撤销说明",
})

# The clock a publication of each kind meets (``alerts.clocks.MEETS`` widens it: a press
# conference also releases the authoritative information). A clarification or an interview is
# a 回应 (国办发〔2016〕61号); changes and revocations of something published meet no clock.
CLOCK_OF: Mapping[Kind, ClockKind | None] = MappingProxyType({
    Kind.STATEMENT: ClockKind.STATEMENT, Kind.PRESS_CONFERENCE: ClockKind.PRESS_CONFERENCE,
    Kind.FOLLOW_UP: ClockKind.FOLLOW_UP, Kind.CLARIFICATION: ClockKind.RESPONSE,
    Kind.INTERVIEW: ClockKind.RESPONSE, Kind.NOT_PUBLISHED: None, Kind.CORRECTION: None,
    Kind.REVOCATION: None,
})

# What ``yuqing incidents publish --kind`` (a clock kind) records as a response.
KIND_OF_CLOCK: Mapping[ClockKind, Kind] = MappingProxyType({
    ClockKind.STATEMENT: Kind.STATEMENT, ClockKind.PRESS_CONFERENCE: Kind.PRESS_CONFERENCE,
    ClockKind.FOLLOW_UP: Kind.FOLLOW_UP, ClockKind.RESPONSE: Kind.CLARIFICATION,
})


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    PUBLISHED = "published"
    FILED = "filed"  # not published, with reason and 备案

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: Mapping[State, str] = MappingProxyType({
    State.DRAFT: "草稿", State.SUBMITTED: "待审核", State.REVIEWED: "已审核待审批",
    State.APPROVED: "已审批待发布", State.PUBLISHED: "已发布", State.FILED: "不予公开已备案",
})


class Action(StrEnum):
    DRAFT = "draft"
    SUBMIT = "submit"
    REVIEW = "review"
    REJECT = "reject"
    APPROVE = "approve"
    PUBLISH = "publish"
    RECORD = "record"  # a publication made outside the system, recorded after the fact (补录)

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: Mapping[Action, str] = MappingProxyType({
    Action.DRAFT: "起草", Action.SUBMIT: "提交审核", Action.REVIEW: "办公室审核（保密审查通过）",
    Action.REJECT: "退回修改", Action.APPROVE: "领导审批", Action.PUBLISH: "发布",
    Action.RECORD: "补录发布",
})

CHANNELS: Mapping[str, str] = MappingProxyType({
    "website": "门户网站", "wechat": "微信公众号", "weibo": "政务微博",
    "press_conference": "新闻发布会", "media": "媒体",
})

ROLE_LABELS: Mapping[str, str] = MappingProxyType({
    "duty_officer": "值班员", "section": "业务科室", "office": "政务公开办公室", "leader": "领导",
    "admin": "管理员"})


@dataclass(frozen=True)
class Rule:
    sources: frozenset[State]
    roles: frozenset[str]


RULES: Mapping[Action, Rule] = MappingProxyType({
    Action.DRAFT: Rule(frozenset(), frozenset({"section"})),
    Action.SUBMIT: Rule(frozenset({State.DRAFT}), frozenset({"section"})),
    Action.REVIEW: Rule(frozenset({State.SUBMITTED}), frozenset({"office"})),
    Action.REJECT: Rule(frozenset({State.SUBMITTED, State.REVIEWED}),
                        frozenset({"office", "leader"})),
    Action.APPROVE: Rule(frozenset({State.REVIEWED}), frozenset({"leader"})),
    Action.PUBLISH: Rule(frozenset({State.APPROVED}), frozenset({"office", "section"})),
    Action.RECORD: Rule(frozenset(), frozenset({"office", "section"})),
})


@dataclass(frozen=True)
class Actor:
    """Who takes a step: a name, the roles held and the section (None: not in one)."""

    name: str
    roles: frozenset[str]
    section: str | None = None


@dataclass(frozen=True)
class Current:
    """What the rules need of a response."""

    id: int | None
    kind: Kind
    state: State | None  # None: not created yet
    section: str | None = None
    confidential_ok: bool = False


def parse_kind(text: str) -> Kind:
    try:
        return Kind(text)
    except ValueError:
        raise ProcedureError(f"回应类型无效 / unknown kind {text!r}: expected "
                             f"{', '.join(k.value for k in Kind)}") from None


def parse_channels(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in CHANNELS]
    if unknown:
        raise ProcedureError(f"发布渠道无效 / unknown channel {unknown[0]!r}: expected "
                             f"{', '.join(CHANNELS)}")
    return list(dict.fromkeys(names))


def _roles_text(roles: frozenset[str]) -> str:
    return "、".join(ROLE_LABELS.get(r, r) for r in sorted(roles))


def step(current: Current, action: Action, actor: Actor, *, confidential_ok: bool = False,
         comment: str | None = None) -> State:
    """The state after ``actor`` takes ``action``; ``ProcedureError`` when it is not allowed."""
    rule = RULES[action]
    name = f"回应 #{current.id}" if current.id is not None else "回应"
    if not rule.roles & actor.roles:
        raise ProcedureError(
            f"{actor.name}（{_roles_text(actor.roles) or '无角色'}）无权{action.label} / "
            f"{actor.name} may not {action.value}: needs role {', '.join(sorted(rule.roles))}")
    if action in (Action.DRAFT, Action.SUBMIT) and current.section and actor.section \
            and actor.section != current.section:
        raise ProcedureError(f"{name}由{current.section}起草，{actor.name}属{actor.section} / "
                             f"{actor.name} is not in the owning section {current.section}")
    if rule.sources and current.state not in rule.sources:
        shown = current.state.label if current.state else "不存在"
        raise ProcedureError(f"{name}当前为“{shown}”，不能{action.label} / cannot {action.value} "
                             f"a response in state {current.state}: {_needs(action)}")
    return _target(current, action, confidential_ok, comment, name)


def _target(current: Current, action: Action, confidential_ok: bool, comment: str | None,
            name: str) -> State:
    if action is Action.REVIEW and not confidential_ok:
        raise ProcedureError(f"{name}须记录保密审查通过（--confidential-ok） / the "
                             "confidentiality review must be recorded as passed")
    if action is Action.REJECT and not (comment or "").strip():
        raise ProcedureError(f"退回须写明意见（--comment） / a rejection needs a comment")
    if action is Action.APPROVE and not current.confidential_ok:
        raise ProcedureError(f"{name}未记录保密审查 / not approved: no confidentiality review")
    if action in (Action.PUBLISH, Action.RECORD) and current.kind is Kind.NOT_PUBLISHED:
        raise ProcedureError(f"{name}为不予公开，审批后即备案，不能发布 / a decision not to "
                             "publish is filed at approval, never published")
    return {Action.DRAFT: State.DRAFT, Action.SUBMIT: State.SUBMITTED,
            Action.REVIEW: State.REVIEWED, Action.REJECT: State.DRAFT,
            Action.APPROVE: State.FILED if current.kind is Kind.NOT_PUBLISHED
            else State.APPROVED,
            Action.PUBLISH: State.PUBLISHED, Action.RECORD: State.PUBLISHED}[action]


def _needs(action: Action) -> str:
    return {Action.SUBMIT: "only a draft is submitted",
            Action.REVIEW: "only a submitted draft is reviewed",
            Action.REJECT: "only a submitted or reviewed response is sent back",
            Action.APPROVE: "it must pass office review and the confidentiality review first",
            Action.PUBLISH: "it must be approved by a leader first"}.get(action, "")


def check_not_published(reason: str | None, filing: str | None) -> None:
    """不予公开 needs its reason and its 备案 from the start."""
    if not (reason or "").strip() or not (filing or "").strip():
        raise ProcedureError("不予公开须写明理由和备案情况（--reason、--filing） / not_published "
                             "needs a reason and a filing record")
