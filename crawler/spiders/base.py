"""What every source spider shares: its SourceConfig, page decoding and error accounting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from crawler.extract import SiteSelectors
from crawler.sources import SourceConfig
from crawler.store import canonical_url
from crawler.worker import RawPage
from yuqing.core.clock import Clock, ensure_aware, system_clock


def crawl_clock(settings: BaseSettings) -> Clock:
    """The crawl's clock: the real one, or the fixed ``YUQING_NOW`` (ISO 8601 with an offset)
    that ``yuqing crawl --now`` sets for drills, back-fills and tests."""
    fixed = settings.get("YUQING_NOW")
    if not fixed:
        return system_clock
    at = ensure_aware(datetime.fromisoformat(str(fixed)), "YUQING_NOW")
    return lambda: at


def pages_read(stats: Mapping[str, Any]) -> int:
    """Responses of the source's own pages (errors included): robots.txt is not one of them."""
    return int(stats.get("response_received_count", 0)) - int(
        stats.get("robotstxt/response_count", 0))


def pages_usable(stats: Mapping[str, Any]) -> int:
    """Pages the spiders could read (``SourceSpider.page_read``): a feed that parsed, a list
    page, an article. Responses alone are no sign of health: robots.txt, a 404, an HTML page
    where a feed should be and a truncated feed all arrive as responses."""
    return int(stats.get("yuqing/pages_ok", 0))


class SourceSpider(scrapy.Spider):
    """A spider bound to one configured source (``source`` is a SourceConfig or its name).

    ``known_urls`` holds the canonical URLs already stored for the source; the runner fills
    it so that list pages can stop paging once they show nothing new.
    """

    source: SourceConfig

    def __init__(self, source: SourceConfig | str | None = None,
                 known_urls: frozenset[str] = frozenset(), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(source, SourceConfig):
            self.source = source
        self.source_name = source if isinstance(source, str) else None
        self.known_urls = known_urls

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourceSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, SourceSpider)
        if not hasattr(spider, "source"):  # `scrapy crawl <spider> -a source=NAME`
            spider.source = _load_source(crawler.settings, spider.source_name)
        # A bug in a callback is an error of this run too, not only a log line.
        crawler.signals.connect(spider.on_spider_error, signal=signals.spider_error)
        return spider

    def now(self) -> datetime:
        return crawl_clock(self.crawler.settings)()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """One request per configured URL, answered by ``parse``."""
        for url in self.source.urls():
            yield scrapy.Request(url, callback=self.parse, errback=self.on_error, dont_filter=True)

    def already_stored(self, url: str) -> bool:
        return canonical_url(url) in self.known_urls

    def article_item(self, response: Response) -> dict[str, Any]:
        """The fetched page for the storage worker, which extracts it off the crawl thread."""
        header = (response.headers.get("Content-Type") or b"").decode("latin-1")
        charset = header.split("charset=", 1)[1].split(";")[0].strip() if "charset=" in header else None
        page = RawPage(url=response.url, body=response.body, header_charset=charset,
                       platform=self.source.platform)
        return {"url": response.url, "raw_page": page}

    def selectors(self) -> SiteSelectors:
        sel = self.source.selectors
        return SiteSelectors(title=sel.title, published_at=sel.published_at, author=sel.author,
                             content=sel.content)

    def page_read(self) -> None:
        """Count a page this source could use (see ``pages_usable``)."""
        self.count("yuqing/pages_ok")

    def count(self, key: str, amount: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, amount)

    def record_error(self, message: str) -> None:
        """Count an error of this source and keep it as the last one (shown in its health)."""
        self.count("yuqing/errors")
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("yuqing/last_error", message)
        self.logger.warning("%s", message)

    def on_error(self, failure: Failure) -> None:
        """Count the failed request; one page's failure never stops the crawl."""
        self.record_error(describe_failure(failure))

    def on_spider_error(self, failure: Failure, response: Response, spider: scrapy.Spider) -> None:
        if spider is self:
            kind = failure.type.__name__ if failure.type else "Error"
            self.record_error(f"{kind}: {failure.getErrorMessage()} {response.url}"[:500])


def describe_failure(failure: Failure) -> str:
    request = getattr(failure, "request", None)
    value = failure.value
    response = getattr(value, "response", None)
    status = f"HTTP {response.status} " if response is not None else ""
    where = f" {request.url}" if request is not None else ""
    kind = failure.type.__name__ if failure.type else "Error"
    return f"{status}{kind}: {failure.getErrorMessage()}{where}"[:500]


def _load_source(settings: BaseSettings, name: str | None) -> SourceConfig:
    """Only for ``scrapy crawl <spider> -a source=NAME`` (yuqing's own runner passes the
    source): the loader the settings name (``YUQING_SOURCE_LOADER``) reads the config as
    ``yuqing crawl`` does, search sources with their scheme's queries included."""
    from scrapy.utils.misc import load_object

    if not name:
        raise ValueError("pass the source name: scrapy crawl <spider> -a source=NAME")
    if name.lstrip().startswith("{"):  # the whole configuration, as a Scrapyd job passes it
        from crawler.scrapyd import source_argument

        return source_argument(name)
    loader = load_object(settings.get("YUQING_SOURCE_LOADER"))
    source = loader(name)
    if not isinstance(source, SourceConfig):
        raise TypeError(f"YUQING_SOURCE_LOADER returned {type(source).__name__}, not a source")
    return source
