"""User accounts with argon2 password hashes."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.core import audit
from yuqing.core.models import Role, User

_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


class UserError(Exception):
    """A user cannot be created or found; the message is shown to the operator."""


def add_user(session: Session, name: str, role: str, password: str, *, actor: str,
             now: datetime) -> User:
    """Create a user; raise ``UserError`` on an unknown role, weak password or taken name."""
    try:
        parsed = Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise UserError(f"未知角色 / unknown role {role!r}; expected one of {choices}") from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少 {MIN_PASSWORD_LENGTH} 位 / password shorter than "
                        f"{MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserError(f"用户已存在 / user {name!r} already exists")
    user = User(name=name, role=parsed.value, password_hash=_HASHER.hash(password),
                active=True, created_at=now)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.add", object_type="user",
                 object_id=user.id, details={"name": name, "role": parsed.value}, now=now)
    return user


def check_password(user: User, password: str) -> bool:
    try:
        return _HASHER.verify(user.password_hash, password)
    except VerificationError:
        return False


def find_user(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))
