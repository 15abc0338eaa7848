"""RSS 2.0 / Atom feeds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from crawler.feeds import FeedError, parse_feed
from crawler.spiders.base import SourceSpider


class FeedSpider(SourceSpider):
    name = "feed"

    def parse(self, response: Response, **_: Any) -> Iterator[dict[str, Any]]:
        try:
            entries = parse_feed(response.body, self.now())
        except FeedError as exc:
            self.record_error(f"{exc} {response.url}")
            return
        self.page_read()
        for entry in entries:
            if not entry.url:
                continue
            yield {"url": response.urljoin(entry.url), "title": entry.title,
                   "content": entry.content, "author": entry.author,
                   "published_at": entry.published_at, "platform": self.source.platform,
                   "raw": None}
