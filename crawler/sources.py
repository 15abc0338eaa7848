"""Source declarations from the YAML config, validated, and their rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.api import MAPPINGS, ApiMapping
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


class ImportColumns(BaseModel):
    """Which column of a CSV/XLSX file holds each field (header names)."""

    model_config = ConfigDict(extra="forbid")

    text: str
    title: str | None = None
    url: str | None = None
    author: str | None = None
    published_at: str | None = None
    id: str | None = None


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
    every_minutes: float = Field(default=30, ge=0.5)  # how often `yuqing run` crawls it
    cron: str | None = None  # or a crontab line in Beijing time ("*/10 8-22 * * *"), instead
    jitter_seconds: float = Field(default=0, ge=0)  # each run starts up to this much later
    time_limit_minutes: float | None = Field(default=None, gt=0)  # see crawler.schedule
    timeout: float = Field(default=20, gt=0)
    obey_robots: bool = True
    url_template: str | None = None
    keywords: list[str] = []
    scheme: str | None = None
    mapping: str | ApiMapping | None = None
    columns: ImportColumns | None = None
    max_failures: int = Field(default=3, ge=1)
    silence_hours: float = Field(default=48, gt=0)

    @field_validator("cron")
    @classmethod
    def _crontab(cls, value: str | None) -> str | None:
        if value is not None:
            from crawler.schedule import check_cron

            check_cron(value)
        return value

    @model_validator(mode="after")
    def _kind_needs(self) -> SourceConfig:
        needs = {"feed": self.urls(), "site": self.urls(), "api": self.urls(),
                 "search": self.url_template, "import": self.columns}
        if not needs[self.kind]:
            field = {"search": "url_template", "import": "columns"}.get(self.kind, "url")
            raise ValueError(f"source {self.name!r} of kind {self.kind!r} needs {field!r}")
        if self.kind == "api" and self.mapping is None:
            raise ValueError(f"source {self.name!r} of kind 'api' needs 'mapping'")
        if isinstance(self.mapping, str) and self.mapping not in MAPPINGS:
            raise ValueError(f"source {self.name!r}: unknown mapping {self.mapping!r}, expected "
                             f"one of {sorted(MAPPINGS)} or a field mapping")
        if self.cron is None and self.jitter_seconds >= self.every_minutes * 60:
            raise ValueError(f"source {self.name!r}: jitter_seconds {self.jitter_seconds:g} "
                             f"must be shorter than the interval ({self.every_minutes:g} min)")
        if self.kind == "search" and "{keyword}" not in (self.url_template or ""):
            raise ValueError(f"source {self.name!r}: url_template needs a {{keyword}} slot")
        return self

    def urls(self) -> list[str]:
        return self.start_urls or ([self.url] if self.url else [])

    def api_mapping(self) -> ApiMapping:
        if isinstance(self.mapping, ApiMapping):
            return self.mapping
        return MAPPINGS[self.mapping or ""]


class CrawlSettings(BaseModel):
    """Politeness and limits for all crawls (the config's ``crawl`` section)."""

    model_config = ConfigDict(extra="forbid")

    user_agent: str = "yuqing-monitor/0.1 (+public-opinion monitoring of a justice bureau)"
    autothrottle: bool = True
    download_delay: float = Field(default=0.0, ge=0)
    concurrent_requests: int = Field(default=16, ge=1)
    concurrent_per_domain: int = Field(default=4, ge=1)
    retries: int = Field(default=2, ge=0)
    retry_backoff: float = Field(default=2.0, ge=0)  # seconds before the first retry, doubling
    max_page_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    # Raw page snapshots older than this are dropped by `yuqing run` (crawler.retention);
    # None keeps them all.
    keep_snapshots_days: float | None = Field(default=180, gt=0)
    # Crawl on a Scrapyd node instead of in local processes (crawler.scrapyd).
    scrapyd_url: str | None = Field(default=None, pattern=r"^https?://")

    def scrapy_overrides(self) -> dict[str, object]:
        return {
            "USER_AGENT": self.user_agent, "AUTOTHROTTLE_ENABLED": self.autothrottle,
            "DOWNLOAD_DELAY": self.download_delay,
            "CONCURRENT_REQUESTS": self.concurrent_requests,
            "CONCURRENT_REQUESTS_PER_DOMAIN": self.concurrent_per_domain,
            "RETRY_TIMES": self.retries, "DOWNLOAD_MAXSIZE": self.max_page_bytes,
            "YUQING_RETRY_BACKOFF": self.retry_backoff,
        }


class SourcesSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[SourceConfig] = []

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        seen: dict[str, int] = {}
        for i, source in enumerate(sources):
            if source.name in seen:
                raise ValueError(f"数据源重名 / duplicate source name {source.name!r}: "
                                 f"sources[{seen[source.name]}] and sources[{i}]")
            seen[source.name] = i
        return sources


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
