"""JSON social APIs: dotted-path field mappings, pure.

A path such as ``data.cards[].mblog`` walks keys and flattens lists at ``[]``. The Weibo mobile
search layout ships as ``WEIBO_MOBILE_SEARCH`` for sources to use as an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from crawler.dates import parse_cn_datetime
from crawler.feeds import feed_date, strip_markup


class ApiMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: str
    text: str
    id: str | None = None
    url: str | None = None
    url_template: str | None = None
    title: str | None = None
    author: str | None = None
    created_at: str | None = None
    reposts: str | None = None
    comments: str | None = None
    likes: str | None = None


WEIBO_MOBILE_SEARCH = ApiMapping(
    items="data.cards[].mblog", text="text", id="mid", url_template="https://m.weibo.cn/detail/{id}",
    author="user.screen_name", created_at="created_at", reposts="reposts_count",
    comments="comments_count", likes="attitudes_count",
)

MAPPINGS: dict[str, ApiMapping] = {"weibo_mobile_search": WEIBO_MOBILE_SEARCH}


@dataclass(frozen=True)
class Post:
    url: str
    title: str
    content: str
    author: str | None
    published_at: datetime | None
    reposts: int
    comments: int
    likes: int


def walk(data: Any, path: str) -> list[Any]:
    """Every value at ``path``; lists flatten at ``[]`` segments; missing keys give []."""
    values = [data]
    for part in path.split("."):
        flatten = part.endswith("[]")
        key = part.removesuffix("[]")
        step: list[Any] = []
        for value in values:
            child = value.get(key) if isinstance(value, dict) and key else value
            if child is None:
                continue
            step.extend(child if flatten and isinstance(child, list) else [child])
        values = step
    return values


def first(data: Any, path: str | None) -> Any:
    if not path:
        return None
    found = walk(data, path)
    return found[0] if found else None


def _count(value: Any) -> int:
    # Counters arrive as ints, "1.2万", "100+" or "" depending on the layout.
    if isinstance(value, bool):
        return 0
    if isinstance(value, (int, float)):
        return int(value)
    match = re.match(r"\s*([\d.]+)\s*(万|亿)?", str(value or ""))
    if not match:
        return 0
    number = float(match.group(1))
    return int(number * {"万": 10_000, "亿": 100_000_000}.get(match.group(2) or "", 1))


def parse_posts(payload: Any, mapping: ApiMapping, now: datetime) -> list[Post]:
    """Posts of one API response; entries without text or address are skipped."""
    posts = []
    for entry in walk(payload, mapping.items):
        text = strip_markup(str(first(entry, mapping.text) or ""))
        ident = first(entry, mapping.id)
        url = first(entry, mapping.url) or (
            mapping.url_template.format(id=ident) if mapping.url_template and ident else None)
        if not text or not url:
            continue
        created = first(entry, mapping.created_at)
        published = (feed_date(str(created), now) or parse_cn_datetime(str(created), now)
                     if created else None)
        posts.append(Post(
            url=str(url), title=strip_markup(str(first(entry, mapping.title) or ""))[:200],
            content=text, author=first(entry, mapping.author), published_at=published,
            reposts=_count(first(entry, mapping.reposts)),
            comments=_count(first(entry, mapping.comments)),
            likes=_count(first(entry, mapping.likes)),
        ))
    return posts
