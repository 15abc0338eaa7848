"""Classification feedback (分类反馈) on a document: confirm, false alarm, wrong topic or wrong
severity, from someone whose role may grade. Stored for the next training and written to the
hash-chained audit log (``analysis.feedback``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.roster import acting_person
from analysis.feedback import FeedbackError, record_feedback
from analysis.models import Feedback, FeedbackKind, IncidentDocument
from yuqing.core import people
from yuqing.services.config import Config

__all__ = ["FeedbackError", "FeedbackGiven", "give_feedback", "incident_of_document",
           "latest_feedback"]


@dataclass(frozen=True)
class FeedbackGiven:
    feedback_id: int
    document_id: int
    kind: str
    by: str


def give_feedback(session: Session, config: Config, document_id: int, kind: str, *, by: str,
                  now: datetime, topic: str | None = None, severity: str | None = None,
                  note: str | None = None) -> FeedbackGiven:
    """Record ``by``'s verdict on the document. A topic counts only for ``wrong_topic`` and a
    severity only for ``wrong_severity`` (a form sends both selects). Raises
    ``people.PeopleError`` for a person who may not grade (nothing written) and
    ``FeedbackError`` for an unknown kind or document or a missing topic or severity."""
    who = acting_person(session, by, people.Action.GRADE, config.roster, now).name
    row = record_feedback(session, document_id, kind, by=who, now=now,
                          topic=(topic or None) if kind == FeedbackKind.WRONG_TOPIC else None,
                          severity=((severity or None) if kind == FeedbackKind.WRONG_SEVERITY
                                    else None),
                          note=note or None)
    return FeedbackGiven(row.id, document_id, row.kind, who)


def incident_of_document(session: Session, document_id: int) -> int | None:
    """The first incident the document belongs to; None when it belongs to none."""
    return session.scalar(select(IncidentDocument.incident_id)
                          .where(IncidentDocument.document_id == document_id)
                          .order_by(IncidentDocument.incident_id).limit(1))


def latest_feedback(session: Session, document_ids: list[int]) -> dict[int, Feedback]:
    """The newest verdict on each of the documents that has one."""
    latest: dict[int, Feedback] = {}
    if not document_ids:
        return latest
    rows = session.scalars(select(Feedback).where(Feedback.document_id.in_(document_ids))
                           .order_by(Feedback.at, Feedback.id))
    for row in rows:
        latest[row.document_id] = row
    return latest
