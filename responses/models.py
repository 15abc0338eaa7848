"""Tables owned by responses."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from yuqing.core.db import Base, UTCDateTime


class Response(Base):
    """The bureau's answer to an incident and the one record of what was published: a statement,
    press conference, follow-up, clarification, interview, correction or revocation moves
    draft → submitted → reviewed → approved → published; a decision not to publish ends
    ``filed`` with its reason and 备案. ``responses.procedure`` holds the rules.

    The clocks read the publication step from here (``clock_kind``, ``published_at``, only in
    state ``published`` and only with evidence: ``snapshot_sha256``)."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # The clock kind a publication of this response meets (None: it meets no clock).
    clock_kind: Mapped[str | None] = mapped_column(String(32), default=None)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    section: Mapped[str | None] = mapped_column(String(64), default=None)
    drafted_by: Mapped[str | None] = mapped_column(String(64), default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reviewed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    confidential_ok: Mapped[bool] = mapped_column(Boolean, default=False,
                                                  server_default=false())
    approved_by: Mapped[str | None] = mapped_column(String(64), default=None)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    published_by: Mapped[str | None] = mapped_column(String(64), default=None)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    published_url: Mapped[str | None] = mapped_column(Text, default=None)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    snapshot: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # gzip
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    evidence_source: Mapped[str | None] = mapped_column(String(16), default=None)
    evidence_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"),
                                                             default=None)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id"), default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)  # 不予公开的理由
    filing: Mapped[str | None] = mapped_column(Text, default=None)  # 备案
    comment: Mapped[str | None] = mapped_column(Text, default=None)  # the last rejection's
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ResponseStep(Base):
    """One step of a response's procedure (who, when, with what comment), for its timeline."""

    __tablename__ = "response_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16), default=None)
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text, default=None)


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
