"""Crawls on a Scrapyd node (``crawl.scrapyd_url``): deploy the project's egg, crawl a source
there within its time limit. ``yuqing scrapyd`` and ``yuqing run`` both call these."""

from __future__ import annotations

import tempfile
from pathlib import Path

from crawler.schedule import time_limit
from crawler.scrapyd import JobOutcome, Scrapyd, ScrapydError, build_egg
from crawler.sources import SourceConfig
from yuqing.services.config import Config


def node(config: Config, url: str | None = None) -> Scrapyd:
    """The node ``url`` names, else the configured one (``ScrapydError`` when there is none)."""
    chosen = url or config.crawl.scrapyd_url
    if not chosen:
        raise ScrapydError("未配置 Scrapyd 节点 / no Scrapyd node: pass --url or set "
                           "crawl.scrapyd_url")
    return Scrapyd(chosen)


def deploy(config: Config, version: str, url: str | None = None) -> tuple[str, list[str]]:
    """Build the egg and upload it as ``version``; the node's address and its spiders."""
    target = node(config, url)
    with tempfile.TemporaryDirectory() as tmp:
        spiders = target.deploy(build_egg(Path(tmp), version), version)
    return target.url, spiders


def crawl(config: Config, database_url: str, source: SourceConfig, *,
          limit: float | None = None, url: str | None = None) -> JobOutcome:
    """One crawl of ``source`` on the node, stopped at ``limit`` seconds (default: the
    source's time limit), with the crawl settings of the config."""
    seconds = limit if limit is not None else time_limit(source).total_seconds()
    return node(config, url).crawl(source, database_url, time_limit=seconds,
                                   settings=config.crawl.scrapy_overrides())
