"""The duty roster (值班表): people, their channels, shifts, section heads and leaders.

The roster is admin data, written as the ``roster:`` config section or imported from a YAML or
CSV file (``yuqing roster import FILE``); the newest import is in force::

    roster:
      admin: wang
      people:
        zhang: {name: 张三, section: 办公室, channels: ["mailto://...", "json://..."]}
        li:    {name: 李四, section: 办公室, channels: ["dingtalk://token/"]}
        sun:   {name: 孙七, section: 办公室, roles: [office]}   # extra roles (optional)
      sections: {办公室: li}              # section -> its head (科室负责人)
      deputy_leader: zhao                 # 分管局领导
      principal_leader: qian              # 主要负责同志
      shifts:
        - {person: zhang, start: "2026-11-29 08:00", end: "2026-11-30 08:00"}

The CSV form has one row per role a person holds: ``person,name,role,section,channels,start,end``
with role one of duty_officer (a shift: start/end), section_head, deputy_leader,
principal_leader, admin, section, office, leader, and channels separated by spaces.

Each roster key is a person record (``yuqing.core.models.Person``, the same one ``yuqing user
add`` writes): importing a roster creates or updates them (:func:`sync_people`) with the roles
the roster gives — a shift makes a ``duty_officer``, heading a section a ``section`` person with
``heads_section``, deputy or principal leader a ``leader``, ``admin`` an ``admin``, plus any
``roles:`` listed. Escalation's section rung is the head of the incident's owning section
(谁主管谁负责, ``analysis.ownership``), else the head of the duty officer's section.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.models import RosterVersion
from alerts.policy import EscalationRung
from yuqing.core import audit, people
from yuqing.core.clock import SHANGHAI, parse_local
from yuqing.core.models import Person, Role
from yuqing.core.people import Action, check_channels


class RosterError(Exception):
    """The roster file is unusable; the message is one line for the operator."""


class RosterPerson(BaseModel):
    """A roster entry; its key in ``people`` is the person record's name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    section: str | None = None
    channels: tuple[str, ...] = ()
    roles: tuple[Role, ...] = ()  # roles beyond those the roster implies (e.g. office)

    @field_validator("channels")
    @classmethod
    def _known_schemes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_channels(value)


class Shift(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    person: str
    start: datetime
    end: datetime

    @field_validator("start", "end", mode="before")
    @classmethod
    def _local_time(cls, value: Any) -> Any:
        # A time without a zone is Beijing time, like every time an officer types.
        if isinstance(value, str):
            return parse_local(value, SHANGHAI)
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=SHANGHAI)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Shift:
        if self.end <= self.start:
            raise ValueError(f"shift of {self.person} ends before it starts")
        return self


class Roster(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    people: dict[str, RosterPerson] = Field(default_factory=dict)
    shifts: tuple[Shift, ...] = ()
    sections: dict[str, str] = Field(default_factory=dict)
    deputy_leader: str | None = None
    principal_leader: str | None = None
    admin: str | None = None

    @model_validator(mode="after")
    def _people_exist(self) -> Roster:
        named = [s.person for s in self.shifts] + list(self.sections.values()) + [
            p for p in (self.deputy_leader, self.principal_leader, self.admin) if p]
        unknown = sorted({p for p in named if p not in self.people})
        if unknown:
            raise ValueError(f"unknown person in roster: {', '.join(unknown)} (add to people)")
        return self


@dataclass(frozen=True)
class Rung:
    """One step of the escalation chain at a moment: the role and who fills it (None: empty)."""

    role: EscalationRung
    person: str | None


def on_duty(roster: Roster, now: datetime) -> str | None:
    """The duty officer whose shift covers ``now`` (the latest-starting one); None: a gap."""
    covering = [s for s in roster.shifts if s.start <= now < s.end]
    return max(covering, key=lambda s: s.start).person if covering else None


def gap_around(roster: Roster, now: datetime) -> tuple[datetime | None, datetime | None]:
    """The empty slot containing ``now``: (end of the previous shift, start of the next)."""
    before = [s.end for s in roster.shifts if s.end <= now]
    after = [s.start for s in roster.shifts if s.start > now]
    return (max(before) if before else None, min(after) if after else None)


def chain(roster: Roster, now: datetime, roles: tuple[EscalationRung, ...],
          owning_section: str | None = None) -> list[Rung]:
    """The escalation chain at ``now`` in policy order. The section head is the head of
    ``owning_section`` (谁主管谁负责) when the roster names one, else the duty officer's."""
    officer = on_duty(roster, now)
    head = roster.sections.get(owning_section) if owning_section else None
    if head is None:
        section = roster.people[officer].section if officer else None
        head = roster.sections.get(section) if section else None
    if head is None and roster.sections:
        head = next(iter(roster.sections.values()))  # no section known: the first listed head
    filled = {EscalationRung.DUTY_OFFICER: officer, EscalationRung.SECTION_HEAD: head,
              EscalationRung.DEPUTY_LEADER: roster.deputy_leader,
              EscalationRung.PRINCIPAL_LEADER: roster.principal_leader}
    return [Rung(role, filled[role]) for role in roles]


def leader_for_gap(roster: Roster, now: datetime,
                   roles: tuple[EscalationRung, ...]) -> str | None:
    """Who is told that the duty slot is empty: the first filled rung above the duty officer."""
    return next((r.person for r in chain(roster, now, roles)[1:] if r.person), None)


# --- loading ----------------------------------------------------------------------------------

CSV_COLUMNS = ("person", "name", "role", "section", "channels", "start", "end")


def parse_roster(data: Any) -> Roster:
    """Validate a roster mapping; raises ``pydantic.ValidationError`` naming the key."""
    return Roster.model_validate(data or {})


def roster_from_csv(text: str) -> dict[str, Any]:
    """Turn CSV rows (one per role held) into the YAML shape; raises ``RosterError``."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RosterError(f"CSV 缺少列 / missing columns: {', '.join(missing)}")
    data: dict[str, Any] = {"people": {}, "shifts": [], "sections": {}}
    for line, row in enumerate(reader, start=2):
        person = (row["person"] or "").strip()
        if not person:
            raise RosterError(f"CSV 第 {line} 行缺少 person / line {line}: empty person")
        entry = data["people"].setdefault(person, {"name": row["name"] or person,
                                                   "section": row["section"] or None,
                                                   "channels": []})
        entry["channels"] += [c for c in (row["channels"] or "").split() if
                              c not in entry["channels"]]
        _csv_role(data, person, row, line)
    return data


def _csv_role(data: dict[str, Any], person: str, row: dict[str, str], line: int) -> None:
    role = (row["role"] or "").strip()
    if role == "duty_officer":
        data["shifts"].append({"person": person, "start": row["start"], "end": row["end"]})
    elif role == "section_head":
        data["sections"][row["section"]] = person
    elif role in ("deputy_leader", "principal_leader", "admin"):
        data[role] = person
    elif role in ("section", "office", "leader"):
        held = data["people"][person].setdefault("roles", [])
        held += [role] if role not in held else []
    else:
        raise RosterError(f"CSV 第 {line} 行角色无效 / line {line}: unknown role {role!r}")


def read_roster_file(path: Path) -> Roster:
    """Load a YAML or CSV roster file; raises ``RosterError`` with a one-line reason."""
    from pydantic import ValidationError

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"无法读取值班表 / cannot read {path}: {exc}") from None
    try:
        raw = roster_from_csv(text) if path.suffix.lower() == ".csv" else yaml.safe_load(text)
        if isinstance(raw, dict) and "roster" in raw and len(raw) == 1:
            raw = raw["roster"]
        return parse_roster(raw)
    except yaml.YAMLError:
        raise RosterError(f"值班表格式错误 / invalid YAML in {path}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise RosterError(f"值班表错误 / invalid roster {path}: {key}: "
                          f"{str(err['msg']).removeprefix('Value error, ')}") from None


def import_roster(session: Session, roster: Roster, *, source: str, actor: str,
                  now: datetime) -> RosterVersion:
    """Store ``roster`` as the one in force and its people as person records (audited)."""
    row = RosterVersion(data=roster.model_dump(mode="json"), source=source, imported_by=actor,
                        imported_at=now)
    session.add(row)
    session.flush()
    added = sync_people(session, roster, now)
    audit.record(session, actor=actor, action="roster.import", object_type="roster",
                 object_id=row.id, now=now,
                 details={"source": source, "people": len(roster.people),
                          "new_people": added, "shifts": len(roster.shifts)})
    return row


def implied_roles(roster: Roster, key: str) -> set[Role]:
    """The roles ``key`` holds by this roster: shifts, heading a section, leading, admin."""
    roles = set(roster.people[key].roles)
    if any(s.person == key for s in roster.shifts):
        roles.add(Role.DUTY_OFFICER)
    if key in roster.sections.values():
        roles.add(Role.SECTION)
    if key in (roster.deputy_leader, roster.principal_leader):
        roles.add(Role.LEADER)
    if key == roster.admin:
        roles.add(Role.ADMIN)
    return roles


def sync_person(session: Session, roster: Roster, key: str, now: datetime) -> tuple[Person, bool]:
    """Create or update the person record of roster key ``key``; (person, created)."""
    entry = roster.people[key]
    heads = [section for section, head in roster.sections.items() if head == key]
    return people.upsert(session, key, now=now, display_name=entry.name,
                         roles=implied_roles(roster, key),
                         section=entry.section or (heads[0] if heads else None),
                         heads_section=bool(heads), channels=entry.channels)


def sync_people(session: Session, roster: Roster, now: datetime) -> int:
    """Every roster person as a person record (roles are added, never dropped); returns how
    many records were new."""
    return sum(sync_person(session, roster, key, now)[1] for key in roster.people)


def display_name(roster: Roster, key: str | None) -> str:
    """The person's name for messages (张三), the key itself if the roster lacks them."""
    person = roster.people.get(key) if key else None
    return person.name if person is not None else (key or "")


def acting_person(session: Session, given: str, action: Action,
                  configured: Roster | None, now: datetime) -> Person:
    """The person ``given`` names (key or display name) if they may take ``action``.

    A person of the config's roster who has no record yet (the config is read, not imported)
    gets it first, so the config's roster people are person records too. Raises
    ``people.UnknownPerson`` or ``people.PermissionDenied`` (one line); on refusal nothing is
    written.
    """
    if people.find(session, given) is None:
        roster = configured or Roster()
        keys = [k for k, p in roster.people.items() if given in (k, p.name)]
        if len(keys) == 1:
            probe = Person(name=keys[0], roles=sorted(r.value for r in
                                                      implied_roles(roster, keys[0])))
            if not people.allows(probe, action):  # refused: write nothing
                raise people.denied(probe, action)
            sync_person(session, roster, keys[0], now)
    return people.require(session, given, action)


def current_roster(session: Session, configured: Roster | None) -> Roster:
    """The newest imported roster, else the config section (validated at start-up), else an
    empty one. An import is validated once per process (cached by its id), not per sweep."""
    latest = session.scalars(select(RosterVersion).order_by(RosterVersion.id.desc())
                             .limit(1)).first()
    if latest is not None:
        return _imported(latest.data)
    return configured or Roster()


_LAST_IMPORT: list[tuple[Any, Roster]] = []  # the last imported roster validated, with its data


def _imported(data: Any) -> Roster:
    # Validating a roster costs far more than comparing its data: an unchanged import (every
    # sweep reads the same one) is validated once.
    if _LAST_IMPORT and _LAST_IMPORT[0][0] == data:
        return _LAST_IMPORT[0][1]
    roster = parse_roster(data)
    _LAST_IMPORT[:] = [(data, roster)]
    return roster
