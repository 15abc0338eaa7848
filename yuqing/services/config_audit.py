"""Configuration changes in the hash-chained audit log.

The config is a file the admin edits; the daemon (when elected) and the dashboard (when it
starts) compare it with the last one recorded and record ``config.change`` when it differs:
the file, its digest, each section's digest and which sections changed since the last record.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.core import audit
from yuqing.core.models import AuditEvent
from yuqing.core.settings import AppConfig

ACTION = "config.change"


def section_digests(config: AppConfig) -> dict[str, str]:
    """SHA-256 of each section's canonical JSON (key order and YAML layout do not count)."""
    body = config.model_dump(mode="json", exclude={"path"})
    return {name: _sha256(value) for name, value in sorted(body.items())}


def digest(sections: dict[str, str]) -> str:
    return _sha256(sections)


def last_recorded(session: Session) -> AuditEvent | None:
    return session.scalars(select(AuditEvent).where(AuditEvent.action == ACTION)
                           .order_by(AuditEvent.seq.desc()).limit(1)).first()


def record_if_changed(session: Session, config: AppConfig, *, now: datetime,
                      by: str) -> AuditEvent | None:
    """Record the config in use when it differs from the last one recorded (``by``: the
    program that loaded it); None when it is the same."""
    sections = section_digests(config)
    total = digest(sections)
    last = last_recorded(session)
    previous: dict[str, Any] = dict(last.details) if last is not None else {}
    if previous.get("sha256") == total:
        return None
    before = previous.get("sections") or {}
    changed = sorted(name for name in sections if before.get(name) != sections[name]) \
        if last is not None else []
    return audit.record(session, actor="system", action=ACTION, object_type="config",
                        object_id=str(config.path or "(内置默认配置)")[-64:], details={
                            "sha256": total, "previous": previous.get("sha256"),
                            "sections": sections, "changed": changed, "by": by,
                            "os_user": _os_user()}, now=now)


def _sha256(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (containers)
        return "?"
