"""Officer feedback (confirm, false alarm, wrong topic, wrong severity): stored, audited, and
exported in the seed corpus format for the next training."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.models import Classification, Feedback, FeedbackKind, Severity
from analysis.classify import TOPICS
from crawler.models import Document
from yuqing.core import audit


class FeedbackError(ValueError):
    """The feedback cannot be recorded; the message says why."""


def record_feedback(session: Session, document_id: int, kind: str, *, by: str, now: datetime,
                    topic: str | None = None, severity: str | None = None,
                    note: str | None = None) -> Feedback:
    """Store one verdict; wrong_topic needs ``topic``, wrong_severity needs ``severity``."""
    try:
        parsed = FeedbackKind(kind)
    except ValueError:
        raise FeedbackError(f"未知反馈类型 / unknown kind {kind!r}: expected "
                            f"{', '.join(k.value for k in FeedbackKind)}") from None
    if session.get(Document, document_id) is None:
        raise FeedbackError(f"文档不存在 / no document #{document_id}")
    if parsed is FeedbackKind.WRONG_TOPIC and topic not in TOPICS:
        raise FeedbackError(f"需要正确的主题 / wrong_topic needs --topic, one of {', '.join(TOPICS)}")
    if parsed is FeedbackKind.WRONG_SEVERITY and severity not in {s.value for s in Severity}:
        raise FeedbackError("需要正确的等级 / wrong_severity needs --severity "
                            "(none, general, serious, major, critical)")
    row = Feedback(document_id=document_id, kind=parsed.value, topic=topic, severity=severity,
                   by=by, at=now, note=note)
    session.add(row)
    session.flush()
    audit.record(session, actor=by, action="classification.feedback", object_type="document",
                 object_id=document_id, now=now,
                 details={"kind": parsed.value, "topic": topic, "severity": severity})
    return row


def training_items(session: Session) -> list[dict[str, Any]]:
    """Every feedback as a labelled seed-format item (the latest verdict per document wins)."""
    latest: dict[int, tuple[Feedback, Document, Classification | None]] = {}
    rows = session.execute(
        select(Feedback, Document, Classification).join(Document, Document.id == Feedback.document_id)
        .outerjoin(Classification, Classification.document_id == Document.id)
        .order_by(Feedback.at, Feedback.id))
    for feedback, doc, verdict in rows:
        latest[doc.id] = (feedback, doc, verdict)
    return [_item(*entry) for entry in latest.values()]


def _item(feedback: Feedback, doc: Document, verdict: Classification | None) -> dict[str, Any]:
    topic = feedback.topic or (verdict.topic if verdict else "other")
    severity = feedback.severity or (verdict.severity if verdict else "general")
    sensitive = bool(verdict.sensitive) if verdict else True
    if feedback.kind == FeedbackKind.FALSE_ALARM:
        sensitive, severity = False, "none"
    elif feedback.kind == FeedbackKind.CONFIRM:
        sensitive = True
    elif feedback.kind == FeedbackKind.WRONG_SEVERITY:
        sensitive = severity != "none"
    return {"id": f"feedback-{doc.id}", "title": doc.title, "text": doc.content, "topic": topic,
            "sensitive": sensitive, "severity": severity if sensitive else "none",
            "style": doc.platform, "hard_case": None,
            "provenance": f"officer feedback ({feedback.kind}) by {feedback.by} at "
                          f"{feedback.at.isoformat()} on document {doc.id}"}


def export_feedback(session: Session, corpus_dir: Path) -> int:
    """Write the feedback items to ``corpus_dir/feedback/officers.jsonl``; returns how many."""
    items = training_items(session)
    folder = corpus_dir / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "officers.jsonl"
    tmp = target.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), "utf-8")
    tmp.replace(target)
    return len(items)
