"""Incidents as rows: open one for a group of documents, keeping every T0 candidate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from analysis.models import Incident, IncidentDocument, IncidentStatus, Severity
from analysis.ownership import DEFAULT_OWNERSHIP, Ownership
from analysis.t0 import PostTime, choose_t0, first_post
from crawler.models import Document
from yuqing.core import audit


def post_times(documents: Sequence[Document]) -> list[PostTime]:
    return [PostTime(d.id, d.published_at, d.fetched_at) for d in documents]


def ahead_of_fetch(times: Sequence[PostTime]) -> list[dict[str, object]]:
    """Members dated after their fetch (beyond the skew): flagged, never used as T0."""
    return [{"document": t.document_id, "published_at": t.published_at.isoformat(),
             "fetched_at": t.fetched_at.isoformat(), "flag": "发布时间晚于抓取时间，不作为T0"}
            for t in times if t.ahead_of_fetch and t.published_at is not None]


@dataclass(frozen=True)
class IncidentTerms:
    """What an incident copies when it opens, so later config edits never move it: the policy
    (``alerts.policy.Policy`` as JSON; its clocks and escalation) and the topic owners."""

    policy_snapshot: dict[str, Any] = field(default_factory=dict)
    ownership: Ownership = DEFAULT_OWNERSHIP


def new_incident(session: Session, *, title: str, severity: Severity, topic: str | None,
                 t_event: datetime | None, t_first_post: datetime | None, now: datetime,
                 actor: str, terms: IncidentTerms, is_drill: bool = False) -> Incident:
    """The one constructor of incidents (analysis and 人工上报 alike): T0 is chosen from the
    candidates, the policy snapshot and the owning section (谁主管谁负责) are set here."""
    t0, t0_source = choose_t0(t_event, t_first_post, now)
    incident = Incident(
        title=title, topic=topic, severity=severity.value, status=IncidentStatus.OPEN.value,
        t_event=t_event, t_first_post=t_first_post, detected_at=now, graded_at=now, t0=t0,
        t0_source=t0_source, is_drill=is_drill, reported_by=actor, created_at=now,
        policy_snapshot=dict(terms.policy_snapshot),
        owning_section=terms.ownership.section_for(topic))
    session.add(incident)
    session.flush()
    return incident


def open_incident(session: Session, *, title: str, severity: Severity, topic: str | None,
                  documents: Sequence[Document], now: datetime, t_event: datetime | None = None,
                  actor: str = "system", is_drill: bool = False,
                  terms: IncidentTerms | None = None) -> Incident:
    """Create an incident linked to ``documents``; T0 from the earliest reliable publish time."""
    times = post_times(documents)
    first = first_post(times)
    t_first_post = first.reliable if first is not None else None
    incident = new_incident(session, title=title, severity=severity, topic=topic,
                            t_event=t_event, t_first_post=t_first_post, now=now, actor=actor,
                            terms=terms or IncidentTerms(), is_drill=is_drill)
    for rank, doc in enumerate(documents):
        session.add(IncidentDocument(incident_id=incident.id, document_id=doc.id, added_at=now,
                                     rank=rank))
    details: dict[str, object] = {"title": title, "severity": severity.value,
                                  "t0": incident.t0.isoformat(), "t0_source": incident.t0_source,
                                  "documents": [d.id for d in documents],
                                  "owning_section": incident.owning_section}
    if flagged := ahead_of_fetch(times):
        details["not_used_for_t0"] = flagged
    audit.record(session, actor=actor, action="incident.open", object_type="incident",
                 object_id=incident.id, now=now, details=details)
    session.flush()
    return incident


@dataclass(frozen=True)
class EarlierPost:
    """A member that joined an open incident with a reliable publish time before its
    ``t_first_post``: the first post moves there, and so may T0 and every clock."""

    incident_id: int
    document_id: int
    published_at: datetime
    flagged: tuple[dict[str, object], ...] = ()


def earlier_post(incident: Incident, added: Sequence[Document]) -> EarlierPost | None:
    """The added member that moves the incident's first post earlier, if any."""
    times = post_times(added)
    first = first_post(times)
    if first is None or first.reliable is None:
        return None
    if incident.t_first_post is not None and first.reliable >= incident.t_first_post:
        return None
    return EarlierPost(incident.id, first.document_id, first.reliable, tuple(ahead_of_fetch(times)))


_STAGES = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESPONDING)


def advance(incident: Incident, to: IncidentStatus) -> bool:
    """Move an active incident forward to ``to`` (open → acknowledged → responding); a later
    stage stays, and a closed incident is only reopened by ``yuqing.services.lifecycle``.
    Returns whether the status changed."""
    if to not in _STAGES or not incident.active:
        return False
    if _STAGES.index(IncidentStatus(incident.status)) >= _STAGES.index(to):
        return False
    incident.status = to.value
    return True
