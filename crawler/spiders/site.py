"""List pages → article pages, with selectors from the source's YAML entry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import scrapy
from scrapy.http import Response

from crawler.dates import parse_cn_datetime
from crawler.selecting import select, select_text
from crawler.sources import SourceConfig
from crawler.spiders.base import SourceSpider
from yuqing.clock import system_clock


class SiteSpider(SourceSpider):
    name = "site"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.source.urls():
            yield scrapy.Request(url, callback=self.parse, errback=self.on_error,
                                 cb_kwargs={"page": 1})

    def parse(self, response: Response, page: int = 1, **_: Any) -> Iterator[scrapy.Request]:
        selectors = self.source.selectors
        links = select(response.selector, selectors.links or "a::attr(href)").getall()
        for href in links:
            yield response.follow(href, callback=self.parse_article, errback=self.on_error)
        if selectors.next_page and page < self.source.max_pages:
            nxt = select(response.selector, selectors.next_page).get()
            if nxt:
                yield response.follow(nxt, callback=self.parse, errback=self.on_error,
                                      cb_kwargs={"page": page + 1})

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        yield article_fields(response, self.source, system_clock())


def article_fields(response: Response, source: SourceConfig, now: datetime) -> dict[str, Any]:
    """The stored fields of an article page, by the source's selectors."""
    sel = source.selectors
    page = response.selector
    published = select_text(page, sel.published_at)
    return {
        "url": response.url,
        "title": select_text(page, sel.title or "title") or "",
        "content": select_text(page, sel.content or "body") or "",
        "author": select_text(page, sel.author),
        "published_at": parse_cn_datetime(published, now) if published else None,
        "platform": source.platform,
        "raw": response.body,
    }
