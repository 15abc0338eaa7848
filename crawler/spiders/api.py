"""JSON social APIs with a dotted-path field mapping (Weibo mobile search ships as an example)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from crawler.api import parse_posts
from crawler.spiders.base import SourceSpider


class ApiSpider(SourceSpider):
    name = "api"

    def parse(self, response: Response, **_: Any) -> Iterator[dict[str, Any]]:
        try:
            payload = json.loads(response.body)
        except (ValueError, UnicodeDecodeError) as exc:
            self.record_error(f"not JSON ({exc}) {response.url}")
            return
        self.page_read()
        for post in parse_posts(payload, self.source.api_mapping(), self.now()):
            yield {"url": post.url, "title": post.title, "content": post.content,
                   "author": post.author, "published_at": post.published_at,
                   "platform": self.source.platform, "reposts": post.reposts,
                   "comments": post.comments, "likes": post.likes,
                   "raw": json.dumps(post.__dict__, ensure_ascii=False, default=str).encode()}
