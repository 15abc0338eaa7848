"""List pages → article pages, with selectors from the source's YAML entry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse

from crawler.selecting import select
from crawler.spiders.base import SourceSpider


class SiteSpider(SourceSpider):
    """Follows the list's article links; pages through ``next_page`` up to ``max_pages`` and
    stops early when a list page holds only URLs already stored (incremental crawl)."""

    name = "site"

    def parse(self, response: Response, page: int = 1, **_: Any) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            self.record_error(f"not a text page: {response.url}")
            return
        self.page_read()
        selectors = self.source.selectors
        links = [response.urljoin(h) for h in
                 select(response.selector, selectors.links or "a::attr(href)").getall()]
        fresh = [url for url in links if not self.already_stored(url)]
        for url in fresh:
            yield scrapy.Request(url, callback=self.parse_article, errback=self.on_error)
        if not fresh and links:
            self.logger.info("list page %s holds only stored URLs; stop paging", response.url)
            return
        if selectors.next_page and page < self.source.max_pages:
            nxt = select(response.selector, selectors.next_page).get()
            if nxt:
                yield response.follow(nxt, callback=self.parse, errback=self.on_error,
                                      cb_kwargs={"page": page + 1})

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        self.page_read()
        yield self.article_item(response)
