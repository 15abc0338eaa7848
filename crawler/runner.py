"""Run a crawl of several sources in this process and summarise it per source."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from scrapy import signals
from scrapy.core.downloader import Downloader, Slot
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.http import Request, Response
from scrapy.settings import Settings as ScrapySettings
from twisted.internet.defer import Deferred

from crawler import scrapy_settings
from crawler.health import run_failed
from crawler.sources import SourceConfig
from crawler.spiders.api import ApiSpider
from crawler.spiders.base import SourceSpider, pages_read, pages_usable
from crawler.spiders.feed import FeedSpider
from crawler.spiders.search import SearchSpider
from crawler.spiders.site import SiteSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    "site": SiteSpider, "feed": FeedSpider, "api": ApiSpider, "search": SearchSpider,
}


class SlotLimitedDownloader(Downloader):
    """Scrapy's downloader with its per-slot (per-domain) concurrency actually enforced.

    Scrapy 2.19 marks a request as transferring inside the task it schedules for it; under
    the asyncio reactor that task starts only after ``_process_queue`` has emptied the whole
    queue, so every queued request to one host went out at once (measured: 12 in flight with
    ``CONCURRENT_REQUESTS_PER_DOMAIN = 2``). Claiming the transfer slot when the request
    leaves the queue restores the limit; ``_download`` adds and removes the same request.
    """

    def _wait_for_download(
        self, slot: Slot, request: Request, queue_dfd: Deferred[Response]
    ) -> Coroutine[Any, Any, None]:
        slot.transferring.add(request)
        return super()._wait_for_download(slot, request, queue_dfd)


@dataclass(frozen=True)
class SourceRun:
    source: str
    pages: int
    new: int
    duplicates: int
    reprints: int
    errors: int
    last_error: str | None
    failed: bool  # counted toward the source's max_failures (crawler.health.run_failed)


def scrapy_settings_for(database_url: str, overrides: dict[str, object] | None = None
                        ) -> ScrapySettings:
    settings = ScrapySettings()
    settings.setmodule(scrapy_settings, priority="project")
    settings.set("YUQING_DATABASE_URL", database_url, priority="project")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


Progress = Callable[[str, str], None]  # (source name, "page" | "done")


def run_crawl(database_url: str, sources: list[SourceConfig],
              overrides: dict[str, object] | None = None,
              known_urls: dict[str, frozenset[str]] | None = None,
              progress: Progress | None = None) -> list[SourceRun]:
    """Crawl the sources (blocking; the Twisted reactor runs once per process).

    ``known_urls`` maps a source name to the canonical URLs it already stored; ``progress`` is
    told of every page received and of each source's end.
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
        if progress is not None:
            _report_progress(crawler, source.name, progress)
        process.crawl(crawler, source=source,
                      known_urls=(known_urls or {}).get(source.name, frozenset()))
        crawlers.append((source, crawler))
    process.start()
    return [_summary(source, crawler) for source, crawler in crawlers]


def _report_progress(crawler: Crawler, name: str, progress: Progress) -> None:
    def page(*_: Any, **__: Any) -> None:
        progress(name, "page")

    def done(*_: Any, **__: Any) -> None:
        progress(name, "done")

    # Scrapy keeps weak references to receivers: these closures live on the crawler.
    crawler.__dict__["_yuqing_receivers"] = (page, done)
    crawler.signals.connect(page, signal=signals.response_received)
    crawler.signals.connect(done, signal=signals.spider_closed)


def _summary(source: SourceConfig, crawler: Crawler) -> SourceRun:
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    pages, new, errors = pages_read(stats), int(stats.get("yuqing/new", 0)), int(
        stats.get("yuqing/errors", 0))
    return SourceRun(
        source=source.name,
        pages=pages,
        new=new,
        duplicates=int(stats.get("yuqing/duplicates", 0)),
        reprints=int(stats.get("yuqing/reprints", 0)),
        errors=errors,
        last_error=stats.get("yuqing/last_error"),
        failed=run_failed(items=new, errors=errors, pages=pages_usable(stats)),
    )
