"""Old raw snapshots are dropped, the documents and their digests kept; evidence stays."""

from __future__ import annotations

import gzip
import hashlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, select

from alerts.deadlines import report_incident
from alerts.policy import DEFAULT_POLICY
from analysis.models import IncidentDocument, Severity
from crawler.models import Document, Source
from crawler.retention import prune_snapshots
from yuqing.core.db import make_sessionmaker, session_scope

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=timezone.utc)
PAGE = "<html><body><h1>市司法局召开全市人民调解工作推进会</h1><p>会议部署下一阶段工作。</p></body></html>"


def _document(source: Source, n: int, age_days: float) -> Document:
    raw = f"{PAGE}<!-- {n} -->".encode()
    return Document(source_id=source.id, url=f"https://sfj.example.gov.cn/news/{n}.html",
                    title=f"市司法局召开全市人民调解工作推进会（{n}）", content="会议部署下一阶段工作。",
                    fetched_at=NOW - timedelta(days=age_days), content_hash=f"h{n}",
                    snapshot=gzip.compress(raw), snapshot_sha256=hashlib.sha256(raw).hexdigest())


def test_snapshots_past_their_age_go_and_evidence_stays(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        news = Source(name="news", kind="site", created_at=NOW)
        own = Source(name="bureau_site", kind="site", own_channel=True, created_at=NOW)
        session.add_all([news, own])
        session.flush()
        old = [_document(news, n, 200 + n) for n in range(7)]
        recent = _document(news, 100, 10)
        own_old = _document(own, 101, 400)
        in_incident = _document(news, 102, 300)
        session.add_all([*old, recent, own_old, in_incident])
        session.flush()
        incident = report_incident(session, title="某公证处违规办理公证引发关注", severity=Severity.MAJOR,
                                   t_event=NOW - timedelta(days=300), urls=[], actor="zhang",
                                   now=NOW - timedelta(days=300), policy=DEFAULT_POLICY)
        session.add(IncidentDocument(incident_id=incident.id, document_id=in_incident.id,
                                     added_at=NOW - timedelta(days=300)))
        digests = {d.id: d.snapshot_sha256 for d in [*old, recent, own_old, in_incident]}
        kept = {recent.id, own_old.id, in_incident.id}

    result = prune_snapshots(sessions, NOW, days=180, batch=3)  # several batches
    assert result.snapshots == 7

    with session_scope(sessions, readonly=True) as session:
        rows = {d.id: d for d in session.scalars(select(Document))}
    assert len(rows) == 10, "documents are kept"
    assert {i for i, d in rows.items() if d.snapshot is not None} == kept
    assert {i: d.snapshot_sha256 for i, d in rows.items()} == digests
    assert prune_snapshots(sessions, NOW, days=180).snapshots == 0
