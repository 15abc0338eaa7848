"""``yuqing user add``: a person record with a role and, optionally, an argon2 login."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.core import audit, people
from yuqing.core.models import Person

_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


class UserError(Exception):
    """A person cannot be added; the message is one line for the operator."""


def add_user(session: Session, name: str, role: str, password: str | None, *, actor: str,
             now: datetime, section: str | None = None, channels: Sequence[str] = (),
             display_name: str | None = None) -> Person:
    """Add ``name`` with ``role`` (and a login when ``password`` is given).

    A person the roster import created without a login gets the role and the login; a name
    that already has a login, or exists when no login is asked for, raises ``UserError``, as do
    an unknown role, a weak password and an unsupported channel. Nothing is written then.
    """
    try:
        parsed = people.parse_role(role)
        checked = people.check_channels(channels)
    except (people.PeopleError, ValueError) as exc:
        raise UserError(f"参数无效 / {exc}" if isinstance(exc, ValueError) else str(exc)) from None
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少 {MIN_PASSWORD_LENGTH} 位 / password shorter than "
                        f"{MIN_PASSWORD_LENGTH} characters")
    existing = session.scalar(select(Person).where(Person.name == name))
    if existing is not None and (existing.password_hash is not None or password is None):
        raise UserError(f"用户已存在 / user {name!r} already exists")
    person, created = people.upsert(
        session, name, now=now, display_name=display_name, roles=[parsed], section=section,
        channels=checked or None, password_hash=_HASHER.hash(password) if password else None)
    audit.record(session, actor=actor, action="person.add" if created else "person.update",
                 object_type="person", object_id=person.id, now=now,
                 details={"name": name, "role": parsed.value, "section": section,
                          "channels": len(checked), "login": password is not None})
    return person
