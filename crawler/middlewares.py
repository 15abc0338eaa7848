"""Downloader middleware: each source's own timeout on every request it makes."""

from __future__ import annotations

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
