"""The bureau's own publications that may answer an incident (candidate evidence).

Documents from ``own_channel`` sources never open or raise incidents (``analysis`` leaves them
out of clustering); they are kept, classified, and offered here for an open incident: those
published since its T0 whose wording covers enough of the incident's key terms. The responses
work turns a chosen one into the evidence that meets a clock; nothing here meets a clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib.resources import files

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.deadlines import get_incident
from analysis.models import IncidentDocument
from analysis.text import normalise, tokenize_zh
from crawler.models import Document, Source

KEY_TERMS = 12  # the incident's most widespread words: what a response to it must mention
MIN_SCORE = 0.3  # weighted share of the key terms a response mentions (routine news: < 0.1)
MEMBERS_READ = 50  # the incident's top-ranked documents are enough to know its words


@dataclass(frozen=True)
class Candidate:
    """An own-channel document that looks like a response to the incident."""

    document_id: int
    source: str
    title: str
    url: str
    published_at: datetime  # the page's time, else when it was fetched (``dated`` False)
    dated: bool
    score: float  # weighted share of the incident's key terms the document uses
    shared_terms: tuple[str, ...]


def _terms(title: str, content: str) -> set[str]:
    return {t for t in tokenize_zh(normalise(f"{title}\n{content}")) if len(t) > 1}


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    """jieba's IDF table of general Chinese (``word idf`` lines, shipped with jieba, 270k words,
    read once in ≈ 0.6 s) and its median: in a cluster of reposts every word is equally
    widespread, and only a background tells 殴打 and 戒毒所 from 期间 and 多次."""
    idf: dict[str, float] = {}
    with (files("jieba") / "analyse" / "idf.txt").open(encoding="utf-8") as table:
        for line in table:
            word, _, value = line.strip().partition(" ")
            if value:
                idf[word] = float(value)
    ranked = sorted(idf.values())
    return idf, ranked[len(ranked) // 2] if ranked else 1.0


def key_terms(texts: Iterable[tuple[str, str]], limit: int = KEY_TERMS) -> dict[str, float]:
    """The incident's telling words: spread over its texts (title, content) times rarity in
    general Chinese, the ``limit`` heaviest with their weights."""
    spread: Counter[str] = Counter()
    for title, content in texts:
        spread.update(_terms(title, content))
    idf, median = _idf()  # a word the table lacks (a domain term) weighs the median, as in jieba
    weights = {term: count * idf.get(term, median) for term, count in spread.items()}
    return dict(sorted(weights.items(), key=lambda tw: (-tw[1], tw[0]))[:limit])


def coverage(terms: dict[str, float], text: str) -> tuple[float, tuple[str, ...]]:
    """Weighted share of ``terms`` found in the normalised ``text``, and which ones (found as
    substrings: segmentation splits 戒毒所 and 戒毒人员 differently in different sentences)."""
    total = sum(terms.values())
    shared = tuple(term for term in terms if term in text)
    return (sum(terms[t] for t in shared) / total if total else 0.0), shared


def candidate_publications(session: Session, incident_id: int, now: datetime, *,
                           min_score: float = MIN_SCORE) -> list[Candidate]:
    """Own-channel documents published in [T0, now] that look like a response to the incident,
    best first. Raises ``IncidentError`` for an unknown incident."""
    incident = get_incident(session, incident_id)
    members = session.execute(select(Document.title, Document.content).join(
        IncidentDocument, IncidentDocument.document_id == Document.id).where(
        IncidentDocument.incident_id == incident.id).order_by(IncidentDocument.rank)
        .limit(MEMBERS_READ)).tuples().all()
    # A reported incident may have no documents yet: its title is what is known of it.
    terms = key_terms([(incident.title, ""), *members])
    when = func.coalesce(Document.published_at, Document.fetched_at)
    rows = session.execute(select(Document, Source.name).join(
        Source, Source.id == Document.source_id).where(
        Source.own_channel.is_(True), when >= incident.t0, when <= now)).tuples().all()
    found: list[Candidate] = []
    for doc, source in rows:
        score, shared = coverage(terms, normalise(f"{doc.title}\n{doc.content}"))
        if score >= min_score:
            found.append(Candidate(doc.id, source, doc.title, doc.url,
                                   doc.published_at or doc.fetched_at,
                                   doc.published_at is not None, round(score, 3), shared))
    return sorted(found, key=lambda c: (-c.score, c.published_at))
