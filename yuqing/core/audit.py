"""Append-only audit log chained by SHA-256.

Each row's hash covers its own content and the previous row's hash, and the ``audit_head`` row
holds the tip. Editing a row breaks its own hash; deleting one breaks the next row's link;
cutting rows off the end no longer matches the head. ``verify`` names the first such row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yuqing.core.clock import ensure_aware
from yuqing.core.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _digest(prev_hash: str, seq: int, at: datetime, actor: str, action: str,
            object_type: str, object_id: str, details: dict[str, Any]) -> str:
    payload = json.dumps(
        [prev_hash, seq, ensure_aware(at).isoformat(), actor, action, object_type, object_id,
         details],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    # The UPDATE takes the write lock first (SQLite) or the row lock (PostgreSQL), so two
    # writers cannot both chain onto the same tip.
    result = session.execute(update(AuditHead).where(AuditHead.id == 1).values(id=1))
    changed = getattr(result, "rowcount", 0)
    if changed == 0:
        session.add(AuditHead(id=1, seq=0, hash=GENESIS))
        session.flush()
    head = session.get(AuditHead, 1, populate_existing=True)
    assert head is not None
    return head


def record(session: Session, *, actor: str, action: str, object_type: str, object_id: object,
           details: dict[str, Any] | None, now: datetime) -> AuditEvent:
    """Append one event in the caller's unit of work (it commits or rolls back with it)."""
    head = _lock_head(session)
    seq = head.seq + 1
    body = dict(details or {})
    event = AuditEvent(
        seq=seq, at=ensure_aware(now), actor=actor, action=action, object_type=object_type,
        object_id=str(object_id), details=body, prev_hash=head.hash,
        hash=_digest(head.hash, seq, now, actor, action, object_type, str(object_id), body),
    )
    session.add(event)
    head.seq, head.hash = seq, event.hash
    session.flush()
    return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str | None = None
    bad_seq: int | None = None


def verify(session: Session) -> VerifyResult:
    """Walk the chain in order; report the first altered, removed or truncated row."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
    for row in rows:
        if row.seq != expected_seq or row.prev_hash != prev_hash:
            return VerifyResult(False, checked, f"第 {expected_seq} 条记录缺失或被删除 / row "
                                f"#{expected_seq} removed (chain breaks before #{row.seq})",
                                expected_seq)
        digest = _digest(row.prev_hash, row.seq, row.at, row.actor, row.action,
                         row.object_type, row.object_id, row.details)
        if digest != row.hash:
            return VerifyResult(False, checked, f"第 {row.seq} 条记录被修改 / row #{row.seq} "
                                f"altered ({row.action} {row.object_type} {row.object_id})",
                                row.seq)
        prev_hash, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
    head = session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != checked or head_hash != prev_hash:
        return VerifyResult(False, checked, f"日志末尾记录被删除 / rows after #{checked} removed "
                            f"(head says #{head_seq})", checked + 1)
    return VerifyResult(True, checked)
