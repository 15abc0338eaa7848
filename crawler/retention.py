"""Retention: the raw snapshot of a page is dropped after ``keep_snapshots_days``; the document
(its text, times, URL and the snapshot's SHA-256) is kept for good.

Snapshots that are evidence stay: those of documents in an incident (what the bureau answered
to) and of the bureau's own channels (its publications). Pruning runs in batches, each its own
short unit of work, so the daemon's other writers never wait long for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from analysis.models import IncidentDocument
from crawler.models import Document, Source
from yuqing.core.clock import ensure_aware
from yuqing.core.db import session_scope

BATCH = 500


@dataclass(frozen=True)
class Pruned:
    snapshots: int
    before: datetime


def prunable(before: datetime) -> Select[tuple[int]]:
    """The query of documents whose snapshot may go (fetched before ``before``)."""
    in_incident = exists().where(IncidentDocument.document_id == Document.id)
    own = exists().where(Source.id == Document.source_id, Source.own_channel.is_(True))
    return (select(Document.id).where(Document.snapshot.is_not(None),
                                      Document.fetched_at < before, ~in_incident, ~own))


def prune_snapshots(sessions: sessionmaker[Session], now: datetime, days: float, *,
                    batch: int = BATCH) -> Pruned:
    """Drop the snapshots older than ``days`` (see the module); returns how many went."""
    before = ensure_aware(now, "now") - timedelta(days=days)
    total = 0
    while True:
        with session_scope(sessions) as session:
            ids = list(session.scalars(prunable(before).limit(batch)))
            if ids:
                session.execute(update(Document).where(Document.id.in_(ids))
                                .values(snapshot=None)
                                .execution_options(synchronize_session=False))
        total += len(ids)
        if len(ids) < batch:
            return Pruned(total, before)
