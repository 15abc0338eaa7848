"""The procedure applied to stored responses: each step checked by ``responses.procedure``,
recorded as a ``ResponseStep`` and in the audit log, in the caller's unit of work.

A refused step raises ``ProcedureError`` (or ``IncidentError`` from the publication guard)
before anything is written, so the caller's rollback leaves nothing behind either way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.deadlines import check_publication, get_incident, publication_recorded, waive_unmet
from responses.evidence import Evidence
from responses.models import Response, ResponseStep
from responses.procedure import (CLOCK_OF, Action, Actor, Current, Kind, ProcedureError, State,
                                 check_not_published, step)
from yuqing.core import audit


def get_response(session: Session, response_id: int) -> Response:
    """The response, locked for the unit of work (PostgreSQL; SQLite's writers are serial
    already), so two officers moving it at once cannot both succeed."""
    row = session.get(Response, response_id, with_for_update=True)
    if row is None:
        raise ProcedureError(f"回应不存在 / no response #{response_id}")
    return row


def current(row: Response) -> Current:
    return Current(row.id, Kind(row.kind), State(row.state), row.section, row.confidential_ok)


def _log(session: Session, row: Response, action: Action, old: State | None, actor: Actor,
         now: datetime, comment: str | None = None, **details: Any) -> None:
    session.add(ResponseStep(response_id=row.id, action=action.value,
                             from_state=old.value if old else None, to_state=row.state,
                             actor=actor.name, at=now, comment=comment))
    audit.record(session, actor=actor.name, action=f"response.{action.value}",
                 object_type="response", object_id=row.id, now=now,
                 details={"incident_id": row.incident_id, "kind": row.kind,
                          "from": old.value if old else None, "to": row.state,
                          **({"comment": comment} if comment else {}), **details})


def draft(session: Session, incident_id: int, kind: Kind, body: str, actor: Actor,
          now: datetime, *, title: str = "", reason: str | None = None,
          filing: str | None = None, corrects: int | None = None) -> Response:
    """A new draft by a section (``actor``); 不予公开 needs its reason and 备案 here, a change or
    revocation names the published response it explains."""
    get_incident(session, incident_id)
    step(Current(None, kind, None), Action.DRAFT, actor)
    if not body.strip():
        raise ProcedureError("回应正文为空 / the response text is empty")
    if kind is Kind.NOT_PUBLISHED:
        check_not_published(reason, filing)
    if kind in (Kind.CORRECTION, Kind.REVOCATION):
        _check_corrects(session, incident_id, corrects)
    clock = CLOCK_OF[kind]
    row = Response(incident_id=incident_id, kind=kind.value, state=State.DRAFT.value,
                   clock_kind=clock.value if clock else None, title=title, body=body,
                   section=actor.section, drafted_by=actor.name, reason=reason, filing=filing,
                   corrects_id=corrects, channels=[], created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    _log(session, row, Action.DRAFT, None, actor, now)
    return row


def _check_corrects(session: Session, incident_id: int, corrects: int | None) -> None:
    target = session.get(Response, corrects) if corrects is not None else None
    if target is None or target.incident_id != incident_id or target.state != State.PUBLISHED:
        raise ProcedureError("变更/撤销说明须指明本事件已发布的回应（--corrects ID） / a "
                             "correction or revocation names a published response of the "
                             "incident")


def transition(session: Session, row: Response, action: Action, actor: Actor, now: datetime,
               *, confidential_ok: bool = False, comment: str | None = None) -> Response:
    """submit, review, reject or approve ``row`` (publication: :func:`publish`)."""
    if action in (Action.PUBLISH, Action.RECORD, Action.DRAFT):
        raise ValueError(f"{action} is not a plain transition")
    old = State(row.state)
    new = step(current(row), action, actor, confidential_ok=confidential_ok, comment=comment)
    row.state, row.updated_at = new.value, now
    if action is Action.SUBMIT:
        row.submitted_at = now
    elif action is Action.REVIEW:
        row.reviewed_by, row.reviewed_at, row.confidential_ok = actor.name, now, True
    elif action is Action.REJECT:
        row.comment, row.confidential_ok = comment, False
        row.reviewed_by = row.reviewed_at = None
    elif action is Action.APPROVE:
        row.approved_by, row.approved_at = actor.name, now
    _log(session, row, action, old, actor, now, comment,
         **({"confidential_review": "passed"} if action is Action.REVIEW else {}))
    return row


def publish(session: Session, row: Response, actor: Actor, *, at: datetime, url: str,
            channels: list[str], evidence: Evidence, now: datetime,
            action: Action = Action.PUBLISH) -> Response:
    """The approved ``row`` was published at ``at``: store it with its evidence, then let the
    clocks see it. The publication guard (``alerts.deadlines.check_publication``) applies."""
    old = State(row.state) if action is Action.PUBLISH else None
    check_publication_allowed(session, row, actor, at=at, url=url, now=now, action=action)
    row.state, row.updated_at = State.PUBLISHED.value, now
    row.published_by, row.published_at, row.published_url = actor.name, at, url.strip()
    row.channels = list(channels)
    row.snapshot, row.snapshot_sha256 = evidence.snapshot, evidence.sha256
    row.evidence_source, row.evidence_document_id = evidence.source, evidence.document_id
    _log(session, row, action, old, actor, now, published_at=at.isoformat(), url=url,
         channels=list(channels), sha256=evidence.sha256, evidence=evidence.source,
         document_id=evidence.document_id)
    publication_recorded(session, row.incident_id, now)
    return row


def check_publication_allowed(session: Session, row: Response, actor: Actor, *, at: datetime,
                              url: str, now: datetime, action: Action = Action.PUBLISH) -> None:
    """Everything :func:`publish` checks before it writes, for a check before the fetch."""
    subject = current(row) if action is Action.PUBLISH else Current(None, Kind(row.kind), None)
    step(subject, action, actor)
    check_publication(get_incident(session, row.incident_id), at, url, now)


def record(session: Session, incident_id: int, kind: Kind, actor: Actor, *, at: datetime,
           url: str, channels: list[str], evidence: Evidence, now: datetime,
           title: str = "", body: str = "") -> Response:
    """A publication made outside the procedure, recorded after the fact (补录): a response
    created published, with its evidence (``yuqing incidents publish``, own-channel pages)."""
    check_record(session, incident_id, kind, actor, at=at, url=url, now=now)
    clock = CLOCK_OF[kind]
    row = Response(incident_id=incident_id, kind=kind.value, state=State.DRAFT.value,
                   clock_kind=clock.value if clock else None, title=title, body=body,
                   section=actor.section, drafted_by=actor.name, channels=[],
                   created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    return publish(session, row, actor, at=at, url=url, channels=channels, evidence=evidence,
                   now=now, action=Action.RECORD)


def check_record(session: Session, incident_id: int, kind: Kind, actor: Actor, *,
                 at: datetime, url: str, now: datetime) -> None:
    """Everything :func:`record` checks before it writes."""
    step(Current(None, kind, None), Action.RECORD, actor)
    check_publication(get_incident(session, incident_id), at, url, now)


def file_decision(session: Session, row: Response, now: datetime) -> None:
    """An approved decision not to publish (不予公开备案) waives the incident's unmet legal clocks
    with its reason, in the audit log with the approver."""
    reason = f"不予公开（回应 #{row.id}）：{row.reason}；备案：{row.filing}"
    waive_unmet(session, row.incident_id, reason, actor=row.approved_by or "system", now=now)


def steps_of(session: Session, response_ids: list[int]) -> dict[int, list[ResponseStep]]:
    found: dict[int, list[ResponseStep]] = {i: [] for i in response_ids}
    for s in session.scalars(select(ResponseStep).where(ResponseStep.response_id.in_(response_ids))
                             .order_by(ResponseStep.at, ResponseStep.id)):
        found[s.response_id].append(s)
    return found
