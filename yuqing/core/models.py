"""Tables of the base: the person record (one identity) and the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yuqing.core.db import Base, UTCDateTime


class Role(StrEnum):
    DUTY_OFFICER = "duty_officer"
    SECTION = "section"
    OFFICE = "office"
    LEADER = "leader"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {
    Role.DUTY_OFFICER: "值班员",
    Role.SECTION: "业务科室",
    Role.OFFICE: "政务公开办公室",
    Role.LEADER: "领导",
    Role.ADMIN: "管理员",
}


class Person(Base):
    """One person: a roster entry, an actor named in the audit log, optionally a login.

    ``name`` is the key every other table refers to (``zhangsan``); ``display_name`` is what a
    message shows (张三). ``roles`` holds :class:`Role` values; a section head has the role
    ``section`` and ``heads_section`` set (the roster's ``sections`` map says which section).
    ``password_hash`` (argon2) is None for someone who never logs in.
    """

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    section: Mapped[str | None] = mapped_column(String(64), default=None)
    heads_section: Mapped[bool] = mapped_column(Boolean, default=False)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles


class AuditEvent(Base):
    """Append-only; each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's tip (one row). Appending locks it first, which serialises writers on
    SQLite and PostgreSQL alike, and lets ``verify`` notice rows cut from the end."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text, default=None)
