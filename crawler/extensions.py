"""``scrapy crawl`` (by hand or as a Scrapyd job) takes the source's crawl lease too.

``yuqing crawl`` and the daemon's crawls hold the leases in the process that starts Scrapy and
set ``YUQING_DATABASE_URL``; a crawl started by Scrapy's own command has neither, so this
extension takes the lease when the spider opens and releases it when it closes. A source that
another process is crawling is not fetched: the spider closes at once with the reason
``busy`` (and the stat ``yuqing/busy`` naming the holder), and its health is not touched.
"""

from __future__ import annotations

import logging

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured

from crawler.lease import LeaseKeeper
from crawler.spiders.base import SourceSpider, crawl_clock
from yuqing.core.db import make_engine, make_sessionmaker
from yuqing.core.settings import load_settings

log = logging.getLogger(__name__)
BUSY_STAT = "yuqing/busy"


class ScrapyCrawlLease:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.keeper: LeaseKeeper | None = None
        self.engine = make_engine(load_settings().database_url)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScrapyCrawlLease:
        if crawler.settings.get("YUQING_DATABASE_URL"):
            raise NotConfigured("started by yuqing, which holds the leases itself")
        ext = cls(crawler)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider: Spider) -> None:
        if not isinstance(spider, SourceSpider):
            return
        name = spider.source.name
        keeper = LeaseKeeper(make_sessionmaker(self.engine), [name],
                             crawl_clock(self.crawler.settings))
        keeper.__enter__()
        self.keeper = keeper
        if name in keeper.busy:
            assert self.crawler.stats is not None
            self.crawler.stats.set_value(BUSY_STAT, keeper.busy[name])
            log.error("source %s is being crawled by %s: this crawl fetches nothing", name,
                      keeper.busy[name])
            raise CloseSpider("busy")

    def closed(self, spider: Spider) -> None:
        if self.keeper is not None:
            self.keeper.__exit__(None, None, None)
            self.keeper = None
        self.engine.dispose()
