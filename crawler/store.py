"""Storing crawled items as Documents: canonical URLs, exact-duplicate drops, batches.

A batch is one unit of work: either every new document of it is stored or none is, so a crash
mid-batch loses only what was not yet acknowledged, and the rerun inserts each item once.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from w3lib.url import canonicalize_url, url_query_cleaner

from crawler import neardup
from crawler.models import Document, DocumentBucket, DocumentSignature

TRACKING_PARAMS = (
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "spm", "from",
    "fbclid", "gclid", "share_token", "sharer", "wfr", "isappinstalled", "scene", "srcid",
)
_SPACE = re.compile(r"\s+")


def canonical_url(url: str) -> str:
    """Lower-case host, sorted query, no fragment, no tracking parameters."""
    cleaned = url_query_cleaner(url, TRACKING_PARAMS, remove=True, keep_fragments=False)
    return str(canonicalize_url(cleaned))


def content_hash(title: str, content: str) -> str:
    """SHA-256 of title and body with all whitespace removed (exact-duplicate key)."""
    text = _SPACE.sub("", f"{title}\n{content}")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Item:
    url: str
    title: str
    content: str
    published_at: datetime | None
    author: str | None = None
    platform: str = "web"
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    raw: bytes | None = None


@dataclass
class StoreResult:
    new: list[int] = field(default_factory=list)
    duplicates: int = 0
    reprints: int = 0


def store_items(session: Session, source_id: int | None, items: list[Item],
                now: datetime) -> StoreResult:
    """Insert the items that are not yet stored (by canonical URL or content hash)."""
    result = StoreResult()
    prepared = [(canonical_url(item.url), content_hash(item.title, item.content), item)
                for item in items]
    known_urls = set(session.scalars(
        select(Document.url).where(Document.url.in_([u for u, _, _ in prepared]))))
    known_hashes = set(session.scalars(
        select(Document.content_hash).where(Document.content_hash.in_([h for _, h, _ in prepared]))))
    for url, digest, item in prepared:
        if url in known_urls or digest in known_hashes:
            result.duplicates += 1
            continue
        known_urls.add(url)
        known_hashes.add(digest)
        doc = _document(source_id, url, digest, item, now)
        session.add(doc)
        session.flush()
        result.new.append(doc.id)
        if link_near_duplicate(session, doc) is not None:
            result.reprints += 1
    return result


def link_near_duplicate(session: Session, doc: Document) -> int | None:
    """Fingerprint ``doc`` and link it to the earliest document of its reprint family.

    Returns the id of the family's original, or None when the document has no near duplicate
    (or is too short to fingerprint). If ``doc`` was published before the family's current
    original, it becomes the original and the family is re-pointed to it.
    """
    sig = neardup.signature(f"{doc.title}\n{doc.content}")
    if sig is None:
        return None
    keys = neardup.buckets(sig)
    candidates = session.execute(
        select(DocumentSignature.document_id, DocumentSignature.signature)
        .join(DocumentBucket, DocumentBucket.document_id == DocumentSignature.document_id)
        .where(DocumentBucket.bucket.in_(keys), DocumentSignature.document_id != doc.id)
        .distinct()).all()
    session.add(DocumentSignature(document_id=doc.id, signature=sig))
    session.add_all(DocumentBucket(bucket=key, document_id=doc.id) for key in set(keys))
    best = max(candidates, key=lambda c: neardup.similarity(sig, c.signature), default=None)
    if best is None or neardup.similarity(sig, best.signature) < neardup.THRESHOLD:
        return None
    match = session.get(Document, best.document_id)
    assert match is not None
    original = session.get(Document, match.near_duplicate_of_id or match.id)
    assert original is not None
    if _published_before(doc, original):
        session.execute(update(Document).where(Document.near_duplicate_of_id == original.id)
                        .values(near_duplicate_of_id=doc.id))
        original.near_duplicate_of_id = doc.id
        session.flush()
        return doc.id
    doc.near_duplicate_of_id = original.id
    session.flush()
    return original.id


def _published_before(doc: Document, other: Document) -> bool:
    mine = doc.published_at or doc.fetched_at
    theirs = other.published_at or other.fetched_at
    return mine < theirs


def _document(source_id: int | None, url: str, digest: str, item: Item, now: datetime) -> Document:
    snapshot = gzip.compress(item.raw) if item.raw is not None else None
    sha = hashlib.sha256(item.raw).hexdigest() if item.raw is not None else None
    return Document(
        source_id=source_id, url=url, title=item.title, content=item.content, author=item.author,
        published_at=item.published_at, fetched_at=now, platform=item.platform,
        reposts=item.reposts, comments=item.comments, likes=item.likes, content_hash=digest,
        snapshot=snapshot, snapshot_sha256=sha,
    )
