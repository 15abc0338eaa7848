"""One identity over a real database: finding a person, the permission table, and the roster's
people as person records."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.roster import acting_person, import_roster, parse_roster
from yuqing.core.models import Person, Role
from yuqing.core.people import (Action, PermissionDenied, UnknownPerson, find, require,
                                upsert)
from yuqing.core.users import UserError, add_user

NOW = datetime(2026, 11, 29, 0, 0, tzinfo=timezone.utc)


def test_a_person_is_found_by_key_or_by_an_unshared_display_name(session: Session) -> None:
    upsert(session, "zhangsan", now=NOW, display_name="张三", roles=[Role.DUTY_OFFICER])
    upsert(session, "wangwu", now=NOW, display_name="王五", roles=[Role.LEADER])
    upsert(session, "wangwu2", now=NOW, display_name="王五", roles=[Role.LEADER])
    assert require(session, "张三", Action.ACKNOWLEDGE).name == "zhangsan"
    assert find(session, "王五") is None  # two people: the key must be given
    assert require(session, "wangwu2", Action.APPROVE).name == "wangwu2"
    session.scalars(select(Person).where(Person.name == "zhangsan")).one().active = False
    with pytest.raises(UnknownPerson, match="zhangsan"):
        require(session, "zhangsan", Action.ACKNOWLEDGE)


@pytest.mark.parametrize(("role", "action"), [
    (Role.OFFICE, Action.GRADE), (Role.ADMIN, Action.ACKNOWLEDGE),
    (Role.DUTY_OFFICER, Action.APPROVE), (Role.SECTION, Action.CONFIDENTIALITY_REVIEW),
    (Role.LEADER, Action.DRAFT)])
def test_a_role_without_the_right_is_refused_in_one_line(session: Session, role: Role,
                                                         action: Action) -> None:
    upsert(session, "sun", now=NOW, display_name="孙七", roles=[role])
    with pytest.raises(PermissionDenied) as raised:
        require(session, "sun", action)
    assert "\n" not in str(raised.value) and "无权" in str(raised.value)


def test_a_config_roster_person_without_a_role_is_refused_and_nothing_is_written(
        session: Session) -> None:
    configured = {"people": {"li": {"name": "李四", "section": "办公室"}}}
    with pytest.raises(PermissionDenied):
        acting_person(session, "李四", Action.ACKNOWLEDGE, parse_roster(configured), NOW)
    assert session.scalars(select(Person)).all() == []
    configured["people"]["li"]["roles"] = ["duty_officer"]
    assert acting_person(session, "李四", Action.ACKNOWLEDGE, parse_roster(configured), NOW).name == "li"


def test_a_roster_import_adds_roles_to_a_user_and_user_add_gives_a_rostered_person_a_login(
        session: Session) -> None:
    add_user(session, "zhou", "leader", "long enough pw", actor="cli", now=NOW)
    roster = parse_roster({
        "people": {"zhou": {"name": "周科长", "section": "律师公证工作管理科"},
                   "li": {"name": "李四", "section": "办公室"}},
        "sections": {"律师公证工作管理科": "zhou"},
        "shifts": [{"person": "li", "start": "2026-11-29 08:00", "end": "2026-11-30 08:00"}]})
    import_roster(session, roster, source="test", actor="cli", now=NOW)
    zhou = session.scalars(select(Person).where(Person.name == "zhou")).one()
    assert (zhou.roles, zhou.display_name, zhou.heads_section) == (
        ["leader", "section"], "周科长", True)
    assert zhou.password_hash is not None  # the login survives the import
    with pytest.raises(UserError, match="already exists"):
        add_user(session, "zhou", "office", "another pass", actor="cli", now=NOW)
    li = add_user(session, "li", "office", "long enough pw", actor="cli", now=NOW)
    assert li.roles == ["duty_officer", "office"] and li.password_hash is not None
