"""Who is acting: the one place that turns a name into an :class:`Actor` (roles, section).

Today it reads the ``users`` table (one role per user, no section); when the person record
lands, this function reads it instead and nothing else changes.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from responses.procedure import Actor, ProcedureError
from yuqing.core.users import find_user


def actor(session: Session, name: str) -> Actor:
    """The person called ``name``; ``ProcedureError`` when there is none or it is disabled."""
    user = find_user(session, name.strip())
    if user is None:
        raise ProcedureError(f"未知用户 / unknown person {name!r}: add it with "
                             "`yuqing user add NAME --role ROLE`")
    if not user.active:
        raise ProcedureError(f"用户已停用 / person {name!r} is disabled")
    return Actor(user.name, frozenset({user.role}))
