"""Tables owned by analysis: classifications and incidents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yuqing.core.db import Base, UTCDateTime


class Severity(StrEnum):
    """Graded severity, ordered; ``NONE`` is only for single documents."""

    NONE = "none"
    GENERAL = "general"
    SERIOUS = "serious"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)

    @property
    def label(self) -> str:
        return SEVERITY_LABELS[self]


SEVERITY_LABELS: dict[Severity, str] = {
    Severity.NONE: "无",
    Severity.GENERAL: "一般",
    Severity.SERIOUS: "较大",
    Severity.MAJOR: "重大",
    Severity.CRITICAL: "特别重大",
}


class Classification(Base):
    __tablename__ = "classifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One per document (unique): two schedulers racing on one database cannot both classify it.
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True, unique=True)
    model_version: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(32))
    sensitive: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(16))
    explain: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentStatus(StrEnum):
    """An incident's life: open → acknowledged → responding → closed (reopening goes back)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESPONDING = "responding"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return INCIDENT_STATUS_LABELS[self]


INCIDENT_STATUS_LABELS: dict[IncidentStatus, str] = {
    IncidentStatus.OPEN: "待确认",
    IncidentStatus.ACKNOWLEDGED: "已确认",
    IncidentStatus.RESPONDING: "回应中",
    IncidentStatus.CLOSED: "已关闭",
}
# Every state before closing: clocks run, alerts go out, documents may still join.
ACTIVE_STATUSES = (IncidentStatus.OPEN.value, IncidentStatus.ACKNOWLEDGED.value,
                   IncidentStatus.RESPONDING.value)


class Incident(Base):
    """One event, however many reposts. T0 candidates are kept with their source."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(32), default=None)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    t_event: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    t_first_post: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    t0: Mapped[datetime] = mapped_column(UTCDateTime)
    t0_source: Mapped[str] = mapped_column(String(16))
    is_drill: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_by: Mapped[str | None] = mapped_column(String(64), default=None)
    policy_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # 谁主管谁负责: the section that owns the topic drafts the answer and is escalated to.
    owning_section: Mapped[str | None] = mapped_column(String(64), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    close_reason: Mapped[str | None] = mapped_column(Text, default=None)

    @property
    def active(self) -> bool:
        return self.status != IncidentStatus.CLOSED


class IncidentDocument(Base):
    __tablename__ = "incident_documents"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    similarity: Mapped[float | None] = mapped_column(Float, default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    rank: Mapped[int] = mapped_column(Integer, default=0)


class FeedbackKind(StrEnum):
    CONFIRM = "confirm"
    FALSE_ALARM = "false_alarm"
    WRONG_TOPIC = "wrong_topic"
    WRONG_SEVERITY = "wrong_severity"


class Feedback(Base):
    """An officer's verdict on a document's classification; the next training learns from it."""

    __tablename__ = "classification_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(32), default=None)
    severity: Mapped[str | None] = mapped_column(String(16), default=None)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text, default=None)
