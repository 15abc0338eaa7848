"""Search-result pages from a URL template filled with keywords (and page numbers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import scrapy

from crawler.spiders.site import SiteSpider


class SearchSpider(SiteSpider):
    """Like a site, but its list pages are ``url_template`` with ``{keyword}``/``{page}``."""

    name = "search"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        template = self.source.url_template or ""
        for keyword in self.source.keywords:
            url = template.replace("{keyword}", quote(keyword)).replace("{page}", "1")
            yield scrapy.Request(url, callback=self.parse, errback=self.on_error,
                                 cb_kwargs={"page": 1}, dont_filter=True)
