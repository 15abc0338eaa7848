"""One identity: who a person is, what each role may do, and the check every acting step makes.

A person record (:class:`yuqing.core.models.Person`) is created by ``yuqing user add`` or by a
roster import (``alerts.roster.sync_people``); every service that changes something on behalf
of someone calls :func:`require` first, so an unknown name or a role without the right is
refused with one line before anything is written, and the audit log names the person's key.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.core.models import ROLE_LABELS, Person, Role

# apprise schemes we deliver to: e-mail, DingTalk, WeCom group bot (``wecom://`` is Pushplus,
# not WeCom), Feishu, JSON/form webhooks (an SMS gateway is a webhook) and Lark.
CHANNEL_SCHEMES = frozenset({"mailto", "mailtos", "json", "jsons", "form", "forms", "xml",
                             "xmls", "dingtalk", "wecombot", "feishu", "lark"})


class Action(StrEnum):
    """A step someone takes; :data:`PERMISSIONS` says which roles may take it."""

    ACKNOWLEDGE = "acknowledge"
    GRADE = "grade"
    CORRECT_T0 = "correct_t0"
    PUBLISH = "publish"
    CLOSE = "close"
    REOPEN = "reopen"
    DRAFT = "draft"
    REVIEW = "review"
    CONFIDENTIALITY_REVIEW = "confidentiality_review"
    APPROVE = "approve"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: dict[Action, str] = {
    Action.ACKNOWLEDGE: "确认预警",
    Action.GRADE: "定级",
    Action.CORRECT_T0: "更正T0",
    Action.PUBLISH: "登记发布",
    Action.CLOSE: "关闭事件",
    Action.REOPEN: "重新打开事件",
    Action.DRAFT: "起草回应",
    Action.REVIEW: "审核",
    Action.CONFIDENTIALITY_REVIEW: "保密审查",
    Action.APPROVE: "审批",
    Action.ADMIN: "系统管理",
}

# 值班员 watches and records; the owning section (谁主管谁负责) drafts and answers; the openness
# office reviews (领导小组办公室审核, 保密审查); a leader approves; the admin keeps the system.
PERMISSIONS: dict[Role, frozenset[Action]] = {
    # Publishing is a step of a response (responses.procedure): the office or the section.
    Role.DUTY_OFFICER: frozenset({Action.ACKNOWLEDGE, Action.GRADE, Action.CORRECT_T0,
                                  Action.CLOSE, Action.REOPEN}),
    Role.SECTION: frozenset({Action.ACKNOWLEDGE, Action.GRADE, Action.CORRECT_T0, Action.PUBLISH,
                             Action.DRAFT, Action.CLOSE}),
    Role.OFFICE: frozenset({Action.ACKNOWLEDGE, Action.PUBLISH, Action.REVIEW,
                            Action.CONFIDENTIALITY_REVIEW}),
    Role.LEADER: frozenset({Action.ACKNOWLEDGE, Action.GRADE, Action.APPROVE, Action.CLOSE,
                            Action.REOPEN}),
    Role.ADMIN: frozenset({Action.ADMIN, Action.REOPEN}),
}


class PeopleError(Exception):
    """Someone may not act; the message is one line (Chinese / English) for the operator."""


class UnknownPerson(PeopleError):
    pass


class PermissionDenied(PeopleError):
    pass


def parse_role(text: str) -> Role:
    """The :class:`Role` named ``text``; raises ``PeopleError`` naming the choices."""
    try:
        return Role(text)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise PeopleError(f"未知角色 / unknown role {text!r}; expected one of {choices}") from None


def check_channels(urls: Iterable[str]) -> tuple[str, ...]:
    """The apprise URLs unchanged; raises ``ValueError`` on a scheme we do not deliver to."""
    checked = tuple(urls)
    for url in checked:
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in CHANNEL_SCHEMES:
            raise ValueError(f"unsupported channel {url[:40]!r}: expected one of "
                             f"{', '.join(sorted(CHANNEL_SCHEMES))} (apprise URLs)")
    return checked


def find(session: Session, name: str) -> Person | None:
    """The active person whose key is ``name``, else the only one displayed as ``name`` (张三).
    None: nobody, or two people share that display name (give the key)."""
    person = session.scalar(select(Person).where(Person.name == name))
    if person is not None:
        return person if person.active else None
    named = list(session.scalars(select(Person).where(Person.display_name == name,
                                                      Person.active.is_(True)).limit(2)))
    return named[0] if len(named) == 1 else None


def allows(person: Person, action: Action) -> bool:
    return any(action in PERMISSIONS.get(Role(role), frozenset()) for role in person.roles
               if role in Role._value2member_map_)


def require(session: Session, name: str, action: Action) -> Person:
    """The person ``name`` names, if they may take ``action``.

    Raises ``UnknownPerson`` when no active person has that key or display name, and
    ``PermissionDenied`` when none of their roles allows the step; both say it in one line.
    """
    person = find(session, name)
    if person is None:
        raise UnknownPerson(f"人员未知 / unknown person {name!r}: add them with `yuqing user add` "
                            f"or a roster import, then give their key (e.g. zhangsan) or name")
    if not allows(person, action):
        raise denied(person, action)
    return person


def denied(person: Person, action: Action) -> PermissionDenied:
    """The one-line refusal of ``action`` to ``person``, naming the roles that may take it."""
    held = "、".join(ROLE_LABELS[Role(r)] for r in person.roles if r in Role._value2member_map_)
    may = ", ".join(r.value for r, acts in PERMISSIONS.items() if action in acts)
    return PermissionDenied(f"无权{action.label} / {person.name} ({held or '无角色'}) may not "
                            f"{action.value}: needs role {may}")


def upsert(session: Session, name: str, *, now: datetime, display_name: str | None = None,
           roles: Iterable[Role] = (), section: str | None = None,
           heads_section: bool | None = None, channels: Iterable[str] | None = None,
           password_hash: str | None = None) -> tuple[Person, bool]:
    """Create ``name`` or update the given fields (roles are added, never dropped).
    Returns (person, created). Channels must be checked by the caller (``check_channels``)."""
    person = session.scalar(select(Person).where(Person.name == name))
    created = person is None
    if person is None:
        person = Person(name=name, display_name=display_name or name, roles=[], channels=[],
                        active=True, heads_section=False, created_at=now, updated_at=now)
        session.add(person)
    if display_name:
        person.display_name = display_name
    person.roles = sorted(set(person.roles) | {r.value for r in roles})
    if section is not None:
        person.section = section
    if heads_section is not None:
        person.heads_section = heads_section
    if channels is not None:
        person.channels = list(dict.fromkeys(channels))
    if password_hash is not None:
        person.password_hash = password_hash
    person.updated_at = now
    session.flush()
    return person, created
