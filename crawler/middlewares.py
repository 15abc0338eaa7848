"""Downloader middlewares: each source's own timeout, and backoff between retries."""

from __future__ import annotations

import asyncio

from scrapy import Request, Spider
from scrapy.crawler import Crawler

from crawler.spiders.base import SourceSpider


class SourceTimeoutMiddleware:
    """Sets ``download_timeout`` from the source's config unless a request sets its own
    (runs before Scrapy's DownloadTimeoutMiddleware, which applies the setting otherwise)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceTimeoutMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        current = self.crawler.spider
        if isinstance(current, SourceSpider):
            request.meta.setdefault("download_timeout", current.source.timeout)


class RetryBackoffMiddleware:
    """Waits before a retried request goes out: ``YUQING_RETRY_BACKOFF`` seconds before the
    first retry, doubling after that, at most ``YUQING_RETRY_BACKOFF_MAX`` (Scrapy itself
    retries at once, which hammers a struggling site exactly when it is down). The wait is an
    asyncio sleep, so other requests go on meanwhile."""

    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryBackoffMiddleware:
        return cls(crawler.settings.getfloat("YUQING_RETRY_BACKOFF", 2.0),
                   crawler.settings.getfloat("YUQING_RETRY_BACKOFF_MAX", 60.0))

    def delay(self, retry_times: int) -> float:
        """Seconds to wait before retry number ``retry_times`` (0 for a first attempt)."""
        if retry_times <= 0 or self.base <= 0:
            return 0.0
        return float(min(self.base * 2 ** (retry_times - 1), self.cap))

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        wait = self.delay(int(request.meta.get("retry_times", 0)))
        if wait:
            await asyncio.sleep(wait)
