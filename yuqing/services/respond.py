"""Respond: the bureau's answer to an incident through its procedure, one use case per function.

Each acting function names the acting person; ``responses.actors.actor`` resolves the name and
``responses.procedure`` decides whether the step is allowed, so a refusal comes from here
whatever the shell (CLI, dashboard). Errors are :data:`RESPOND_ERRORS`, each one line; a refused
step changes nothing. Publication needs evidence: :func:`publish` and :func:`record_publication`
check the step first, fetch the page (or read the uploaded file) outside any unit of work — the
fetch holds no database lock — and only then store it and let the clocks see it.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.candidates import candidate_publications
from alerts.deadlines import IncidentError, get_incident
from alerts.models import ClockKind
from crawler.models import Document
from responses import workflow
from responses.actors import actor
from responses.evidence import Evidence, EvidenceError, Fetcher, fetch, from_file
from responses.models import Response
from responses.procedure import (KIND_OF_CLOCK, Action, Kind, ProcedureError, State,
                                 parse_channels, parse_kind)
from yuqing.core.db import session_scope

RESPOND_ERRORS = (ProcedureError, EvidenceError, IncidentError)


@dataclass(frozen=True)
class StepLine:
    action: str
    actor: str
    at: datetime
    comment: str | None

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "actor": self.actor, "at": self.at.isoformat(),
                "comment": self.comment}


@dataclass(frozen=True)
class ResponseLine:
    """A response as ``yuqing responses`` shows it."""

    id: int
    incident_id: int
    kind: str
    state: str
    title: str
    section: str | None
    drafted_by: str | None
    reviewed_by: str | None
    confidential_ok: bool
    approved_by: str | None
    approved_at: datetime | None
    published_at: datetime | None
    url: str | None
    channels: tuple[str, ...]
    sha256: str | None
    evidence: str | None
    comment: str | None
    steps: tuple[StepLine, ...]

    def as_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {"id": self.id, "incident_id": self.incident_id, "kind": self.kind,
                "state": self.state, "title": self.title, "section": self.section,
                "drafted_by": self.drafted_by, "reviewed_by": self.reviewed_by,
                "confidential_ok": self.confidential_ok, "approved_by": self.approved_by,
                "approved_at": iso(self.approved_at), "published_at": iso(self.published_at),
                "url": self.url, "channels": list(self.channels), "sha256": self.sha256,
                "evidence": self.evidence, "comment": self.comment,
                "steps": [s.as_json() for s in self.steps]}


def _line(row: Response, steps: Sequence[Any]) -> ResponseLine:
    return ResponseLine(
        row.id, row.incident_id, row.kind, row.state, row.title, row.section, row.drafted_by,
        row.reviewed_by, row.confidential_ok, row.approved_by, row.approved_at,
        row.published_at, row.published_url, tuple(row.channels or ()), row.snapshot_sha256,
        row.evidence_source, row.comment,
        tuple(StepLine(s.action, s.actor, s.at, s.comment) for s in steps))


def _show(session: Session, row: Response) -> ResponseLine:
    session.flush()
    return _line(row, workflow.steps_of(session, [row.id])[row.id])


def responses_of(session: Session, incident_id: int) -> list[ResponseLine]:
    """Every response of the incident with its steps, oldest first."""
    get_incident(session, incident_id)
    rows = session.scalars(select(Response).where(Response.incident_id == incident_id)
                           .order_by(Response.id)).all()
    steps = workflow.steps_of(session, [r.id for r in rows])
    return [_line(r, steps[r.id]) for r in rows]


# --- the procedure ----------------------------------------------------------------------------


def draft(session: Session, incident_id: int, kind: str, text: str, by: str, now: datetime, *,
          title: str = "", reason: str | None = None, filing: str | None = None,
          corrects: int | None = None) -> ResponseLine:
    row = workflow.draft(session, incident_id, parse_kind(kind), text, actor(session, by), now,
                         title=title, reason=reason, filing=filing, corrects=corrects)
    return _show(session, row)


def _move(session: Session, response_id: int, action: Action, by: str, now: datetime, *,
          confidential_ok: bool = False, comment: str | None = None) -> ResponseLine:
    person = actor(session, by)
    row = workflow.get_response(session, response_id)
    workflow.transition(session, row, action, person, now, confidential_ok=confidential_ok,
                        comment=comment)
    return _show(session, row)


def submit(session: Session, response_id: int, by: str, now: datetime) -> ResponseLine:
    return _move(session, response_id, Action.SUBMIT, by, now)


def review(session: Session, response_id: int, by: str, now: datetime, *,
           confidential_ok: bool) -> ResponseLine:
    return _move(session, response_id, Action.REVIEW, by, now, confidential_ok=confidential_ok)


def reject(session: Session, response_id: int, by: str, comment: str,
           now: datetime) -> ResponseLine:
    return _move(session, response_id, Action.REJECT, by, now, comment=comment)


def approve(session: Session, response_id: int, by: str, now: datetime) -> ResponseLine:
    line = _move(session, response_id, Action.APPROVE, by, now)
    if line.state == State.FILED:  # 不予公开: the decision is on record, the clocks see it
        workflow.file_decision(session, workflow.get_response(session, response_id), now)
    return line


# --- publication ------------------------------------------------------------------------------


def evidence_for(url: str, file: Path | None, fetcher: Fetcher = fetch) -> Evidence:
    """The uploaded file when given, else the page fetched from ``url``."""
    return from_file(file) if file is not None else fetcher(url)


def check_publish(session: Session, response_id: int, by: str, *, at: datetime, url: str,
                  now: datetime) -> None:
    """Raise what :func:`publish_with` would, before any evidence is fetched."""
    workflow.check_publication_allowed(session, workflow.get_response(session, response_id),
                                       actor(session, by), at=at, url=url, now=now)


def publish_with(session: Session, response_id: int, by: str, *, at: datetime, url: str,
                 channels: Sequence[str], evidence: Evidence, now: datetime) -> ResponseLine:
    """The approved response was published at ``at``; ``evidence`` is its snapshot."""
    row = workflow.get_response(session, response_id)
    workflow.publish(session, row, actor(session, by), at=at, url=url,
                     channels=parse_channels(list(channels)), evidence=evidence, now=now)
    return _show(session, row)


def publish(sessions: sessionmaker[Session], response_id: int, by: str, *, at: datetime,
            url: str, channels: Sequence[str], now: datetime, file: Path | None = None,
            fetcher: Fetcher = fetch) -> ResponseLine:
    """Check, take the evidence, then publish: three units of work (see the module doc)."""
    parse_channels(list(channels))
    with session_scope(sessions, readonly=True) as session:
        check_publish(session, response_id, by, at=at, url=url, now=now)
    evidence = evidence_for(url, file, fetcher)
    with session_scope(sessions) as session:
        return publish_with(session, response_id, by, at=at, url=url, channels=channels,
                            evidence=evidence, now=now)


def record_with(session: Session, incident_id: int, kind: ClockKind, by: str, *, at: datetime,
                url: str, channels: Sequence[str], evidence: Evidence,
                now: datetime) -> ResponseLine:
    """A publication made outside the procedure, recorded after the fact (补录)."""
    row = workflow.record(session, incident_id, KIND_OF_CLOCK[kind], actor(session, by), at=at,
                          url=url, channels=parse_channels(list(channels)), evidence=evidence,
                          now=now)
    return _show(session, row)


def record_publication(sessions: sessionmaker[Session], incident_id: int, kind: ClockKind,
                       by: str, *, at: datetime, url: str, now: datetime,
                       channels: Sequence[str] = (), file: Path | None = None,
                       fetcher: Fetcher = fetch) -> ResponseLine:
    """``yuqing incidents publish``: the same guard, roles and evidence as :func:`publish`."""
    with session_scope(sessions, readonly=True) as session:
        workflow.check_record(session, incident_id, KIND_OF_CLOCK[kind], actor(session, by),
                              at=at, url=url, now=now)
    evidence = evidence_for(url, file, fetcher)
    with session_scope(sessions) as session:
        return record_with(session, incident_id, kind, by, at=at, url=url, channels=channels,
                           evidence=evidence, now=now)


def confirm_candidate(session: Session, incident_id: int, document_id: int, by: str,
                      now: datetime, *, kind: str = Kind.STATEMENT.value,
                      channels: Sequence[str] = ("website",)) -> ResponseLine:
    """An own-channel document offered as a candidate publication of the incident becomes its
    published response, with the document's crawl snapshot as the evidence."""
    found = {c.document_id: c for c in candidate_publications(session, incident_id, now)}
    candidate = found.get(document_id)
    if candidate is None:
        raise ProcedureError(f"文档 #{document_id} 不是事件 #{incident_id} 的候选发布 / document "
                             f"#{document_id} is not a candidate publication of incident "
                             f"#{incident_id} (see `yuqing responses {incident_id}`)")
    if session.scalar(select(Response.id).where(Response.incident_id == incident_id,
                                                Response.evidence_document_id == document_id)):
        raise ProcedureError(f"文档 #{document_id} 已确认为事件 #{incident_id} 的回应 / already "
                             "confirmed")
    doc = session.get(Document, document_id)
    if doc is None or doc.snapshot is None:
        raise EvidenceError(f"文档 #{document_id} 没有抓取快照 / document #{document_id} has no "
                            "crawl snapshot to serve as evidence")
    evidence = Evidence(gzip.decompress(doc.snapshot), "crawl", doc.id)
    if doc.snapshot_sha256 and evidence.sha256 != doc.snapshot_sha256:
        raise EvidenceError(f"文档 #{document_id} 的快照与其哈希不符 / snapshot does not match "
                            "its SHA-256")
    clock = {Kind.STATEMENT: ClockKind.STATEMENT, Kind.FOLLOW_UP: ClockKind.FOLLOW_UP,
             Kind.CLARIFICATION: ClockKind.RESPONSE}.get(parse_kind(kind))
    if clock is None:
        raise ProcedureError(f"候选发布只能登记为 statement、follow_up 或 clarification / a "
                             f"candidate is confirmed as statement, follow_up or clarification")
    row = workflow.record(session, incident_id, KIND_OF_CLOCK[clock], actor(session, by),
                          at=candidate.published_at, url=doc.url,
                          channels=parse_channels(list(channels)), evidence=evidence, now=now,
                          title=doc.title, body=doc.content)
    return _show(session, row)
