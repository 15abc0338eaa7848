"""Tables owned by responses."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yuqing.core.db import Base, UTCDateTime


class Response(Base):
    """A statement, press conference, follow-up, clarification or a recorded decision not to
    publish; moves draft → review → approved → published (or filed with a reason)."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="draft")
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    drafted_by: Mapped[str | None] = mapped_column(String(64), default=None)
    reviewed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    approved_by: Mapped[str | None] = mapped_column(String(64), default=None)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    published_url: Mapped[str | None] = mapped_column(Text, default=None)
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DisclosureItem(Base):
    """An item of the openness plan (长期/定期/即时公开) with its decision date; the rules in
    ``responses.disclosures`` derive what it owes."""

    __tablename__ = "disclosure_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    cadence: Mapped[str | None] = mapped_column(String(16), default=None)
    section: Mapped[str | None] = mapped_column(String(64), default=None)
    decided_on: Mapped[date] = mapped_column(Date)
    # A long-term item whose content changed owes a new publication from this day.
    changed_on: Mapped[date | None] = mapped_column(Date, default=None)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DisclosurePublication(Base):
    """One day an item went up, with where it is shown."""

    __tablename__ = "disclosure_publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("disclosure_items.id"), index=True)
    published_on: Mapped[date] = mapped_column(Date)
    url: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
