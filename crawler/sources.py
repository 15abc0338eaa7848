"""Source declarations from the YAML config, validated, and their rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.models import Source

SourceKind = Literal["feed", "site", "search", "api", "import"]


class Selectors(BaseModel):
    """CSS (or ``xpath:``-prefixed XPath) selectors for list and article pages."""

    model_config = ConfigDict(extra="forbid")

    links: str | None = None
    next_page: str | None = None
    title: str | None = None
    published_at: str | None = None
    author: str | None = None
    content: str | None = None


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    kind: SourceKind
    url: str | None = None
    start_urls: list[str] = []
    selectors: Selectors = Selectors()
    own_channel: bool = False
    platform: str = "web"
    max_pages: int = Field(default=5, ge=1, le=1000)
    obey_robots: bool = True
    max_failures: int = Field(default=3, ge=1)
    silence_hours: float = Field(default=48, gt=0)

    def urls(self) -> list[str]:
        return self.start_urls or ([self.url] if self.url else [])


class SourcesSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[SourceConfig] = []


def sync_sources(session: Session, configs: list[SourceConfig], now: datetime) -> list[Source]:
    """Create or update the Source row of each configured source; return them in order."""
    rows: list[Source] = []
    for cfg in configs:
        row = session.scalar(select(Source).where(Source.name == cfg.name))
        data: dict[str, Any] = cfg.model_dump(mode="json")
        if row is None:
            row = Source(name=cfg.name, kind=cfg.kind, created_at=now, consecutive_failures=0,
                         items_last_run=0, healthy=True)
            session.add(row)
        row.kind, row.url, row.config, row.own_channel = cfg.kind, cfg.url, data, cfg.own_channel
        rows.append(row)
    session.flush()
    return rows
