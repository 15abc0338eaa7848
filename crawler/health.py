"""Source health: last success, consecutive failures, last error, items in the last run, and the
coverage gaps (blind periods) that unhealthy spells leave."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.models import CoverageGap, Source


@dataclass(frozen=True)
class HealthChange:
    """A source turned unhealthy (``gap`` opened) or recovered (``gap`` closed)."""

    source: str
    healthy: bool
    reason: str
    since: datetime
    gap_id: int


def run_failed(*, items: int, errors: int, pages: int) -> bool:
    """A run failed when it had errors, stored nothing and could use none of its pages
    (``pages``: pages read without an error; robots.txt is not a page of the source)."""
    return errors > 0 and pages == 0 and items == 0


def record_run(session: Session, source_id: int, *, items: int, errors: int, pages: int,
               last_error: str | None, now: datetime) -> Source:
    """Update a source after a crawl; a failed run (``run_failed``) counts toward
    ``max_failures`` and leaves the last success where it was."""
    source = session.get(Source, source_id)
    if source is None:
        raise LookupError(f"source {source_id} does not exist")
    if run_failed(items=items, errors=errors, pages=pages):
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
    refresh_source(session, source, now)
    return source


def is_healthy(source: Source, now: datetime) -> bool:
    """Unhealthy after ``max_failures`` failures in a row or silence past ``silence_hours``."""
    return unhealthy_reason(source, now) is None


def failure_limit(source: Source) -> int:
    """The source's ``max_failures``: failed runs in a row that make it unhealthy."""
    return int((source.config or {}).get("max_failures", 3))


def unhealthy_reason(source: Source, now: datetime) -> str | None:
    """Why the source is unhealthy at ``now`` (in Chinese, for the admin), or None."""
    config = source.config or {}
    limit = failure_limit(source)
    if source.consecutive_failures >= limit:
        return f"连续 {source.consecutive_failures} 次采集失败：{source.last_error or '未知错误'}"
    last_item = source.last_item_at or source.created_at
    silence = timedelta(hours=float(config.get("silence_hours", 48)))
    if now - last_item > silence:
        hours = (now - last_item).total_seconds() / 3600
        return f"已 {hours:.0f} 小时没有新内容（上限 {silence.total_seconds() / 3600:.0f} 小时）"
    return None


def refresh_source(session: Session, source: Source, now: datetime) -> HealthChange | None:
    """Re-judge one source; open or close its coverage gap when the verdict changes."""
    reason = unhealthy_reason(source, now)
    open_gap = session.scalar(select(CoverageGap).where(
        CoverageGap.source_id == source.id, CoverageGap.ended_at.is_(None)))
    source.healthy = reason is None
    if reason is not None and open_gap is None:
        since = source.last_success_at or source.last_item_at or source.created_at
        gap = CoverageGap(source_id=source.id, started_at=since, detected_at=now, reason=reason)
        session.add(gap)
        session.flush()
        return HealthChange(source.name, False, reason, since, gap.id)
    if reason is None and open_gap is not None:
        open_gap.ended_at = now
        return HealthChange(source.name, True, "已恢复", open_gap.started_at, open_gap.id)
    return None


def refresh_all(session: Session, now: datetime,
                configured: Collection[str] | None = None) -> list[HealthChange]:
    """Re-judge every source (silence turns a source unhealthy without any crawl). With
    ``configured`` (the names in the config), a source removed from it is not judged: its
    silence is no outage, and a gap it left open ends now."""
    changes: list[HealthChange | None] = []
    for source in session.scalars(select(Source).order_by(Source.id)):
        if configured is None or source.name in configured:
            changes.append(refresh_source(session, source, now))
            continue
        for gap in session.scalars(select(CoverageGap).where(
                CoverageGap.source_id == source.id, CoverageGap.ended_at.is_(None))):
            gap.ended_at = now
    session.flush()
    return [c for c in changes if c is not None]


def coverage_gaps(session: Session, start: datetime, end: datetime) -> list[tuple[str, CoverageGap]]:
    """Gaps overlapping [start, end), with their source names, for reports."""
    rows = session.execute(
        select(Source.name, CoverageGap).join(Source, Source.id == CoverageGap.source_id)
        .where(CoverageGap.started_at < end,
               (CoverageGap.ended_at.is_(None)) | (CoverageGap.ended_at > start))
        .order_by(CoverageGap.started_at))
    return [(name, gap) for name, gap in rows]
