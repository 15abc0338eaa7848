"""Tables owned by alerts: deadline clocks and notifications."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yuqing.core.db import Base, UTCDateTime


class ClockKind(StrEnum):
    STATEMENT = "statement"
    PRESS_CONFERENCE = "press_conference"
    RESPONSE = "response"
    FOLLOW_UP = "follow_up"


CLOCK_LABELS: dict[str, str] = {
    ClockKind.STATEMENT: "首次权威信息发布",
    ClockKind.PRESS_CONFERENCE: "新闻发布会",
    ClockKind.RESPONSE: "回应",
    ClockKind.FOLLOW_UP: "持续发布",
}


class ClockState(StrEnum):
    PENDING = "pending"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET_ON_TIME = "met_on_time"
    MET_LATE = "met_late"
    WAIVED = "waived"


# What a duty officer reads; JSON output keeps the codes.
CLOCK_STATE_LABELS: dict[str, str] = {
    ClockState.PENDING: "计时中",
    ClockState.DUE_SOON: "即将到期",
    ClockState.OVERDUE: "已超时",
    ClockState.MET_ON_TIME: "按时完成",
    ClockState.MET_LATE: "逾期完成",
    ClockState.WAIVED: "已豁免",
}


class EscalationCause(StrEnum):
    """Why a notification goes up the chain if nothing stops it first."""

    UNACKNOWLEDGED = "unacknowledged"  # stopped by an acknowledgement of the incident
    OVERDUE = "overdue"  # a legal clock passed its due: stopped only by meeting or waiving it
    UNDELIVERED = "undelivered"  # no channel of the recipient took it: goes up at once


class Deadline(Base):
    """A legal clock as a row: reports query it, the scheduler is derived from it."""

    __tablename__ = "deadlines"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    severity: Mapped[str] = mapped_column(String(16))
    t0: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    state: Mapped[str] = mapped_column(String(16), default=ClockState.PENDING)
    waived_reason: Mapped[str | None] = mapped_column(Text, default=None)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The sweep's "since": steps in (checked_at, now] fire; None until the first sweep.
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Notification(Base):
    """One planned or sent message; the idempotency key makes a step deliver at most once."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(255))
    step: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    body: Mapped[str] = mapped_column(Text, default="")
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # Delivery state: which channel of the recipient is in use and when to try next.
    kind: Mapped[str] = mapped_column(String(16), default="step", server_default="step")
    level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    channel_index: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    title: Mapped[str] = mapped_column(Text, default="", server_default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None,
                                                             index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    # Escalation: unacknowledged at escalate_at -> the next person of the chain.
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    escalate_cause: Mapped[str | None] = mapped_column(String(16), default=None)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    acked_by: Mapped[str | None] = mapped_column(String(64), default=None)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"), default=None)


# --- history, acknowledgements, roster and delivery (added with the delivery layer) ------------


class SeverityChange(Base):
    """Each grading of an incident, kept so that raising severity starts clocks from one T0."""

    __tablename__ = "incident_severity_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text, default=None)


class T0Change(Base):
    """A correction of T0 by an officer; the old start and the old due times stay here."""

    __tablename__ = "incident_t0_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    old_t0: Mapped[datetime] = mapped_column(UTCDateTime)
    old_source: Mapped[str] = mapped_column(String(16))
    new_t0: Mapped[datetime] = mapped_column(UTCDateTime)
    new_source: Mapped[str] = mapped_column(String(16))
    old_due: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentLink(Base):
    """A link an officer gave when reporting by hand (人工上报), shown in the alert."""

    __tablename__ = "incident_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Acknowledgement(Base):
    __tablename__ = "acknowledgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    user: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class RosterVersion(Base):
    """An imported duty roster (值班表); the newest one is in force."""

    __tablename__ = "roster_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text)
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryAttempt(Base):
    """One try of one channel for one notification, written before the send."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    channel: Mapped[str] = mapped_column(Text)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    permanent: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ChannelHealth(Base):
    """Consecutive failures of one channel URL; a channel that keeps failing is reported once."""

    __tablename__ = "channel_health"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
