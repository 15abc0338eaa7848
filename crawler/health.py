"""Source health: last success, consecutive failures, last error, items in the last run."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from crawler.models import Source


def record_run(session: Session, source_id: int, *, items: int, errors: int, pages: int,
               last_error: str | None, now: datetime) -> Source:
    """Update a source after a crawl; a run with errors and nothing fetched is a failure."""
    source = session.get(Source, source_id)
    if source is None:
        raise LookupError(f"source {source_id} does not exist")
    failed = errors > 0 and pages <= errors and items == 0
    if failed:
        source.consecutive_failures += 1
        source.last_error = last_error
    else:
        source.consecutive_failures = 0
        source.last_success_at = now
        if errors:
            source.last_error = last_error
    if items:
        source.last_item_at = now
    source.items_last_run = items
    source.healthy = is_healthy(source, now)
    return source


def is_healthy(source: Source, now: datetime) -> bool:
    """Unhealthy after ``max_failures`` failures in a row or silence past ``silence_hours``."""
    config = source.config or {}
    if source.consecutive_failures >= int(config.get("max_failures", 3)):
        return False
    last_item = source.last_item_at or source.created_at
    silence = timedelta(hours=float(config.get("silence_hours", 48)))
    return now - last_item <= silence
