"""The response procedure for the dashboard: rows for the incident page and each step, over
``yuqing.services.respond`` (which checks the person's role and the state again and audits).

Like ``yuqing.web.data`` it opens nothing itself except :func:`publish`, which needs the
service's three units of work (check, fetch the evidence outside any lock, store).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from responses.models import Response
from responses.procedure import (ACTION_LABELS, CHANNELS, KIND_LABELS, STATE_LABELS, Action,
                                 Kind, State)
from yuqing.core.models import AuditEvent
from yuqing.core.people import PeopleError
from yuqing.services import respond
from yuqing.services.respond import ResponseLine

# What a refused step raises: the message goes on the page (or into the API's 400).
STEP_ERRORS = (*respond.RESPOND_ERRORS, PeopleError, ValueError)

__all__ = ["ACTION_LABELS", "CHANNELS", "KIND_LABELS", "STATE_LABELS", "STEP_ERRORS", "Kind",
           "ResponseLine", "State", "approve", "draft", "incident_of", "publish", "reject",
           "response_audit", "responses_of", "review", "submit"]


@dataclass(frozen=True)
class Labels:
    """The Chinese names the template shows for kinds, states, steps and channels."""

    kinds: dict[str, str]
    states: dict[str, str]
    actions: dict[str, str]
    channels: dict[str, str]


LABELS = Labels({k.value: v for k, v in KIND_LABELS.items()},
                {s.value: v for s, v in STATE_LABELS.items()},
                {a.value: v for a, v in ACTION_LABELS.items()}, dict(CHANNELS))


def responses_of(session: Session, incident_id: int) -> list[ResponseLine]:
    return respond.responses_of(session, incident_id)


def incident_of(session: Session, response_id: int) -> int | None:
    """The incident the response answers; None: no such response."""
    return session.scalar(select(Response.incident_id).where(Response.id == response_id))


def response_audit(session: Session, incident_id: int) -> list[AuditEvent]:
    """The audit events of the incident's responses, for the page's audit trail."""
    ids = [str(i) for i in session.scalars(select(Response.id)
                                           .where(Response.incident_id == incident_id))]
    if not ids:
        return []
    return list(session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "response", AuditEvent.object_id.in_(ids))
        .order_by(AuditEvent.seq).limit(500)))


def draft(session: Session, incident_id: int, kind: str, text: str, by: str, now: datetime, *,
          title: str = "", reason: str | None = None,
          filing: str | None = None) -> ResponseLine:
    return respond.draft(session, incident_id, kind, text, by, now, title=title,
                         reason=reason or None, filing=filing or None)


def submit(session: Session, response_id: int, by: str, now: datetime) -> ResponseLine:
    return respond.submit(session, response_id, by, now)


def review(session: Session, response_id: int, by: str, now: datetime, *,
           confidential_ok: bool) -> ResponseLine:
    return respond.review(session, response_id, by, now, confidential_ok=confidential_ok)


def reject(session: Session, response_id: int, by: str, comment: str,
           now: datetime) -> ResponseLine:
    return respond.reject(session, response_id, by, comment, now)


def approve(session: Session, response_id: int, by: str, now: datetime) -> ResponseLine:
    return respond.approve(session, response_id, by, now)


def publish(sessions: sessionmaker[Session], response_id: int, by: str, *, at: datetime,
            url: str, channels: Sequence[str], now: datetime) -> ResponseLine:
    """Publish with the page behind ``url`` as the evidence (fetched by the service)."""
    return respond.publish(sessions, response_id, by, at=at, url=url.strip(),
                           channels=list(channels), now=now)


STEP_ACTIONS = (Action.SUBMIT, Action.REVIEW, Action.REJECT, Action.APPROVE, Action.PUBLISH)
