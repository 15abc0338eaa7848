"""Run a crawl of several sources in this process and summarise it per source."""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings as ScrapySettings

from crawler import scrapy_settings
from crawler.sources import SourceConfig
from crawler.spiders.api import ApiSpider
from crawler.spiders.base import SourceSpider
from crawler.spiders.feed import FeedSpider
from crawler.spiders.search import SearchSpider
from crawler.spiders.site import SiteSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    "site": SiteSpider, "feed": FeedSpider, "api": ApiSpider, "search": SearchSpider,
}


@dataclass(frozen=True)
class SourceRun:
    source: str
    pages: int
    new: int
    duplicates: int
    errors: int
    last_error: str | None


def scrapy_settings_for(database_url: str, overrides: dict[str, object] | None = None
                        ) -> ScrapySettings:
    settings = ScrapySettings()
    settings.setmodule(scrapy_settings, priority="project")
    settings.set("YUQING_DATABASE_URL", database_url, priority="project")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawl(database_url: str, sources: list[SourceConfig],
              overrides: dict[str, object] | None = None,
              known_urls: dict[str, frozenset[str]] | None = None) -> list[SourceRun]:
    """Crawl the sources (blocking; the Twisted reactor runs once per process).

    ``known_urls`` maps a source name to the canonical URLs it already stored.
    """
    settings = scrapy_settings_for(database_url, overrides)
    process = CrawlerProcess(settings)
    crawlers: list[tuple[SourceConfig, Crawler]] = []
    for source in sources:
        spider_cls = SPIDERS.get(source.kind)
        if spider_cls is None:
            raise ValueError(f"source {source.name!r}: kind {source.kind!r} cannot be crawled yet")
        crawler = process.create_crawler(spider_cls)
        crawler.settings.set("ROBOTSTXT_OBEY", source.obey_robots, priority="spider")
        process.crawl(crawler, source=source,
                      known_urls=(known_urls or {}).get(source.name, frozenset()))
        crawlers.append((source, crawler))
    process.start()
    return [_summary(source, crawler) for source, crawler in crawlers]


def _summary(source: SourceConfig, crawler: Crawler) -> SourceRun:
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    return SourceRun(
        source=source.name,
        pages=int(stats.get("response_received_count", 0)),
        new=int(stats.get("yuqing/new", 0)),
        duplicates=int(stats.get("yuqing/duplicates", 0)),
        errors=int(stats.get("yuqing/errors", 0)),
        last_error=stats.get("yuqing/last_error"),
    )
