"""People: add a person (``yuqing user add``) and import a roster (``yuqing roster import``);
both write the same person records (``yuqing.core.models.Person``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from alerts.roster import import_roster, read_roster_file
from yuqing.core.users import add_user


@dataclass(frozen=True)
class Added:
    id: int
    name: str
    roles: tuple[str, ...]
    section: str | None
    channels: int
    login: bool


def add_person(session: Session, name: str, role: str, password: str | None, *,
               section: str | None, channels: Sequence[str], actor: str, now: datetime,
               display_name: str | None = None) -> Added:
    """A person with ``role`` (and a login when ``password`` is given); raises
    ``yuqing.core.users.UserError`` with one line and writes nothing on bad input."""
    person = add_user(session, name, role, password, actor=actor, now=now, section=section,
                      channels=channels, display_name=display_name)
    return Added(person.id, person.name, tuple(person.roles), person.section,
                 len(person.channels), person.password_hash is not None)


@dataclass(frozen=True)
class Imported:
    roster_id: int
    people: int
    shifts: int


def import_roster_file(session: Session, path: Path, *, actor: str, now: datetime) -> Imported:
    """Read, validate and put in force the roster in ``path`` (YAML or CSV); its people become
    person records. Raises ``alerts.roster.RosterError`` (one line) before writing anything."""
    roster = read_roster_file(path)
    row = import_roster(session, roster, source=str(path), actor=actor, now=now)
    return Imported(row.id, len(roster.people), len(roster.shifts))
