"""Reprint families for a batch of new documents: one candidate query per batch.

Each document's family root is the earliest-published member; a new document that turns out
to be earlier than its family's root becomes the root and the family is re-pointed to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from crawler import neardup
from crawler.models import Document, DocumentBucket, DocumentSignature

_IN_CHUNK = 900  # stay far below SQLite's bound-parameter limit


@dataclass
class Member:
    when: datetime
    root: int | None
    signature: bytes | None = None


@dataclass
class NewDoc:
    id: int
    when: datetime
    text: str


@dataclass
class Families:
    """Members known to this batch (loaded candidates and the new documents)."""

    members: dict[int, Member] = field(default_factory=dict)
    buckets: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    repointed: list[tuple[int, int]] = field(default_factory=list)  # (old root, new root)

    def root_of(self, doc_id: int) -> int:
        return self.members[doc_id].root or doc_id

    def best_match(self, sig: bytes, keys: Iterable[int]) -> int | None:
        candidates = {c for key in keys for c in self.buckets.get(key, ())}
        scored = [(neardup.similarity(sig, self.members[c].signature or b""), c)
                  for c in candidates]
        best = max(scored, default=None)
        return best[1] if best is not None and best[0] >= neardup.THRESHOLD else None

    def join(self, doc_id: int, match: int) -> None:
        """Put ``doc_id`` in ``match``'s family (as its root when it is the earliest)."""
        root = self.root_of(match)
        mine = self.members[doc_id]
        if mine.when < self.members[root].when:
            for member in self.members.values():
                if member.root == root:
                    member.root = doc_id
            self.members[root].root = doc_id
            self.repointed.append((root, doc_id))
            return
        mine.root = root


def link_families(session: Session, docs: Sequence[NewDoc]) -> int:
    """Fingerprint new documents, link reprints; return how many joined a family."""
    sigs = {d.id: neardup.signature(d.text) for d in docs}
    keys = {i: neardup.buckets(s) for i, s in sigs.items() if s is not None}
    families = _load(session, {k for ks in keys.values() for k in ks})
    joined = 0
    for doc in docs:
        sig = sigs[doc.id]
        families.members[doc.id] = Member(doc.when, None, sig)
        if sig is None:
            continue
        match = families.best_match(sig, keys[doc.id])
        if match is not None:
            families.join(doc.id, match)
            joined += 1
        for key in keys[doc.id]:
            families.buckets[key].append(doc.id)
    _save(session, docs, sigs, keys, families)
    return joined


def _load(session: Session, keys: set[int]) -> Families:
    families = Families()
    ordered = sorted(keys)
    for start in range(0, len(ordered), _IN_CHUNK):
        rows = session.execute(select(DocumentBucket.bucket, DocumentBucket.document_id)
                               .where(DocumentBucket.bucket.in_(ordered[start:start + _IN_CHUNK])))
        for bucket, doc_id in rows:
            families.buckets[bucket].append(doc_id)
    ids = sorted({d for ds in families.buckets.values() for d in ds})
    _load_members(session, families, ids, with_signatures=True)
    roots = sorted({m.root for m in families.members.values() if m.root is not None}
                   - set(families.members))
    _load_members(session, families, roots, with_signatures=False)
    return families


def _load_members(session: Session, families: Families, ids: list[int],
                  with_signatures: bool) -> None:
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start:start + _IN_CHUNK]
        query = (select(Document.id, Document.published_at, Document.fetched_at,
                        Document.near_duplicate_of_id, DocumentSignature.signature)
                 .outerjoin(DocumentSignature, DocumentSignature.document_id == Document.id)
                 .where(Document.id.in_(chunk)))
        for doc_id, published, fetched, root, sig in session.execute(query):
            families.members[doc_id] = Member(published or fetched, root,
                                              sig if with_signatures else None)


def _save(session: Session, docs: Sequence[NewDoc], sigs: dict[int, bytes | None],
          keys: dict[int, list[int]], families: Families) -> None:
    new_ids = {d.id for d in docs}
    for old_root, new_root in families.repointed:
        if old_root not in new_ids:  # stored rows of the family; new ones are set below
            session.execute(update(Document).where(Document.near_duplicate_of_id == old_root)
                            .values(near_duplicate_of_id=new_root))
            session.execute(update(Document).where(Document.id == old_root)
                            .values(near_duplicate_of_id=new_root))
    rows = [{"signature": s, "document_id": i} for i, s in sigs.items() if s is not None]
    if rows:
        session.execute(insert(DocumentSignature), rows)
        session.execute(insert(DocumentBucket), [
            {"bucket": k, "document_id": i} for i, ks in keys.items() for k in set(ks)])
    links = [{"id": d.id, "near_duplicate_of_id": families.members[d.id].root} for d in docs
             if families.members[d.id].root is not None]
    if links:  # ORM bulk UPDATE by primary key: one executemany
        session.execute(update(Document), links)
