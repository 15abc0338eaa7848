"""The crawler's queries for the application services: stored URLs and source health (the
config's sources are validated once, in ``yuqing.services.config``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.health import failure_limit, is_healthy
from crawler.models import Document, Source


def stored_urls(session: Session, names: list[str]) -> dict[str, frozenset[str]]:
    """Canonical URLs already stored per source, for incremental crawls."""
    result: dict[str, frozenset[str]] = {}
    for name in names:
        urls = session.scalars(select(Document.url).join(Source).where(Source.name == name))
        result[name] = frozenset(urls)
    return result


@dataclass(frozen=True)
class SourceHealth:
    name: str
    kind: str
    healthy: bool
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    items_last_run: int
    max_failures: int
    configured: bool  # False: the source was removed from the config; its rows stay

    @property
    def status(self) -> str:
        """``removed``, ``unhealthy``, ``failing`` (failed, not yet ``max_failures`` times) or ``ok``."""
        if not self.configured:
            return "removed"
        if not self.healthy:
            return "unhealthy"
        return "failing" if self.consecutive_failures else "ok"


def source_health(session: Session, now: datetime,
                  configured: Collection[str] | None = None) -> list[SourceHealth]:
    """Every stored source with its health re-evaluated at ``now`` (silence counts); with
    ``configured`` (the names in the config), the others are marked as removed."""
    rows = session.scalars(select(Source).order_by(Source.name))
    return [SourceHealth(s.name, s.kind, is_healthy(s, now), s.last_success_at,
                         s.consecutive_failures, s.last_error, s.items_last_run,
                         failure_limit(s),
                         configured is None or s.name in configured) for s in rows]
