"""Who is acting: the one place that turns a name into an :class:`Actor` (roles, section), read
from the person record (``yuqing.core.people``: key or display name)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from responses.procedure import Actor, ProcedureError
from yuqing.core import people


def actor(session: Session, name: str) -> Actor:
    """The person ``name`` names; ``ProcedureError`` when there is none or it is disabled."""
    person = people.find(session, name.strip())
    if person is None:
        raise ProcedureError(f"人员未知 / unknown person {name!r}: add them with "
                             "`yuqing user add NAME --role ROLE` or the roster")
    if not person.active:
        raise ProcedureError(f"人员已停用 / person {name!r} is disabled")
    return Actor(person.name, frozenset(person.roles), person.section)
