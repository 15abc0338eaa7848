"""Analysis as a unit of work: classify new documents, group the relevant and sensitive ones
into incidents (one event = one incident, however many reposts), grade them.

The clustering state is rebuilt from the open incidents at each run (the database is the
source of truth); raised severities are returned for the alerts layer to apply, since it is
the one that starts clocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.classify import Model, active_model, classify_texts
from analysis.cluster import (Cluster, ClusterDoc, Clusterer, Engagement, HeatPolicy, grade,
                              load_policy)
from analysis.incidents import EarlierPost, IncidentTerms, earlier_post, open_incident
from analysis.models import (ACTIVE_STATUSES, Classification, Incident, IncidentDocument,
                             Severity)
from analysis.text import normalise
from crawler.models import Document, Source

RELEVANT_SEVERITY_FLOOR = Severity.GENERAL


@dataclass(frozen=True)
class Raise:
    incident_id: int
    severity: Severity
    reason: str


@dataclass
class AnalysisResult:
    classified: int = 0
    sensitive: int = 0
    opened: list[int] = field(default_factory=list)
    joined: dict[int, list[int]] = field(default_factory=dict)  # incident -> new documents
    raised: list[Raise] = field(default_factory=list)
    # Members of open incidents published before their first post: T0 moves (alerts applies it).
    earlier: list[EarlierPost] = field(default_factory=list)


def pending_documents(session: Session, limit: int) -> list[Document]:
    """Documents not yet classified, oldest first."""
    return list(session.scalars(
        select(Document).outerjoin(Classification, Classification.document_id == Document.id)
        .where(Classification.id.is_(None)).order_by(Document.id).limit(limit)))


def own_channel_sources(session: Session) -> frozenset[int]:
    """Ids of the sources that are the bureau's own website or accounts."""
    return frozenset(session.scalars(select(Source.id).where(Source.own_channel.is_(True))))


def analyse_pending(session: Session, now: datetime, model: Model | None = None,
                    policy: HeatPolicy | None = None, limit: int = 5000,
                    terms: IncidentTerms | None = None) -> AnalysisResult:
    """Classify pending documents and place the sensitive, relevant ones into incidents
    (opened with ``terms``: the policy snapshot and topic owners)."""
    docs = pending_documents(session, limit)
    result = AnalysisResult(classified=len(docs))
    if not docs:
        return result
    model = model or active_model()
    verdicts = list(classify_texts(({"title": d.title, "text": d.content} for d in docs), model))
    relevant: list[tuple[Document, Classification]] = []
    own = own_channel_sources(session)
    for doc, verdict in zip(docs, verdicts):
        row = _classification(doc, verdict, now)
        session.add(row)
        # The bureau's own statements answer incidents (alerts.candidates): kept and
        # classified, they never open or raise one.
        if row.sensitive and doc.source_id not in own:
            relevant.append((doc, row))
    session.flush()
    result.sensitive = len(relevant)
    if relevant:
        _place(session, relevant, now, policy or load_policy(), result, model.word_idf,
               terms or IncidentTerms())
    return result


def _classification(doc: Document, verdict: dict[str, object], now: datetime) -> Classification:
    if "error" in verdict:
        return Classification(document_id=doc.id, model_version="error", topic="other",
                              sensitive=False, score=0.0, severity=Severity.NONE.value,
                              explain={"error": verdict["error"]}, created_at=now)
    explain = dict(verdict["explain"]) if isinstance(verdict["explain"], dict) else {}
    explain["keywords"] = verdict.get("keywords", [])
    explain["watch"] = bool(verdict.get("watch"))  # 待研判: shown to the officer, no clock
    return Classification(document_id=doc.id, model_version=str(explain.get("model_version", "")),
                          topic=str(verdict["topic"]), sensitive=bool(verdict["sensitive"]),
                          score=float(str(verdict["score"])), severity=str(verdict["severity"]),
                          explain=explain, created_at=now)


def incident_topic(verdict: Classification) -> str:
    """The section's topic for an incident: a sensitive document whose likeliest topic is
    "other" goes to the likeliest of the bureau's topics (kept in its explanation)."""
    if verdict.topic == "other":
        return str((verdict.explain or {}).get("bureau_topic") or "other")
    return verdict.topic


def _cluster_doc(doc: Document, verdict: Classification, source_names: dict[int, str]) -> ClusterDoc:
    severity = Severity(verdict.severity)
    if verdict.sensitive and severity.rank < RELEVANT_SEVERITY_FLOOR.rank:
        severity = RELEVANT_SEVERITY_FLOOR
    source = source_names.get(doc.source_id or 0, "")
    return ClusterDoc(
        id=str(doc.id), text=normalise(f"{doc.title}\n{doc.content}"), fetched_at=doc.fetched_at,
        title=doc.title, published_at=doc.published_at, source=source,
        media=source if doc.platform == "news" else None,
        engagement=Engagement(doc.reposts, doc.comments, doc.likes), severity=severity,
        topic=incident_topic(verdict))


def _place(session: Session, relevant: Sequence[tuple[Document, Classification]],
           now: datetime, policy: HeatPolicy, result: AnalysisResult,
           idf: Mapping[str, float], terms: IncidentTerms) -> None:
    names = dict(session.execute(select(Source.id, Source.name)).tuples().all())
    clusterer, by_doc = _rebuild(session, now, policy, names, idf)
    placed: dict[str, list[Document]] = {}  # cluster id -> the documents this run added
    for doc, verdict in relevant:
        family = by_doc.get(doc.near_duplicate_of_id or -1)
        cdoc = _cluster_doc(doc, verdict, names)
        if family is not None:  # a reprint joins its original's incident directly
            cluster = clusterer.clusters[family]
            clusterer.seed(cluster, cdoc, link="near_duplicate")
        else:
            cluster, _ = clusterer.add(cdoc, now)
        by_doc[doc.id] = cluster.id
        placed.setdefault(cluster.id, []).append(doc)
    for cluster_id in sorted(placed):
        _persist(session, clusterer.clusters[cluster_id], placed[cluster_id], now, policy, result,
                 terms)


def _rebuild(session: Session, now: datetime, policy: HeatPolicy, names: dict[int, str],
             idf: Mapping[str, float]) -> tuple[Clusterer, dict[int, str]]:
    """Clusters for the open incidents (id ``i<incident id>``) with their documents."""
    clusterer = Clusterer(policy=policy, idf=idf)
    by_doc: dict[int, str] = {}
    rows = session.execute(
        select(Incident.id, Incident.severity, Document, Classification)
        .join(IncidentDocument, IncidentDocument.incident_id == Incident.id)
        .join(Document, Document.id == IncidentDocument.document_id)
        .join(Classification, Classification.document_id == Document.id)
        .where(Incident.status.in_(ACTIVE_STATUSES), Incident.is_drill.is_(False))
        .order_by(Incident.id, Document.id))
    for incident_id, severity, doc, verdict in rows:
        cluster_id = f"i{incident_id}"
        cluster = clusterer.clusters.get(cluster_id)
        if cluster is None:
            cluster = Cluster(id=cluster_id, severity=Severity(severity))
            clusterer.clusters[cluster_id] = cluster
        cdoc = _cluster_doc(doc, verdict, names)
        clusterer.seed(cluster, cdoc)
        by_doc[doc.id] = cluster_id
    return clusterer, by_doc


def _persist(session: Session, cluster: Cluster, added: Sequence[Document], now: datetime,
             policy: HeatPolicy, result: AnalysisResult, terms: IncidentTerms) -> None:
    """Grade the cluster; link the added documents to its incident, or open one for it."""
    changes = grade(cluster, policy, now)
    if not cluster.id.startswith("i"):
        topic = max(cluster.members, key=lambda m: m.doc.severity.rank).doc.topic
        incident = open_incident(session, title=cluster.title, severity=cluster.severity,
                                 topic=topic, documents=added, now=now, terms=terms)
        result.opened.append(incident.id)
        return
    incident_id = int(cluster.id[1:])
    members = {m.doc.id: m for m in cluster.members}
    first_rank = len(cluster.members) - len(added)
    for rank, doc in enumerate(added, start=first_rank):
        member = members[str(doc.id)]
        session.add(IncidentDocument(incident_id=incident_id, document_id=doc.id, added_at=now,
                                     similarity=member.similarity, reason=member.link, rank=rank))
    result.joined[incident_id] = [doc.id for doc in added]
    result.raised += [Raise(incident_id, c.new, c.reason) for c in changes]
    current = session.get(Incident, incident_id)
    if current is not None and (moved := earlier_post(current, added)) is not None:
        result.earlier.append(moved)
