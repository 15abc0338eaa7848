"""The storage worker: decodes, extracts, dedupes and stores batches in its own process.

The crawl process only downloads; a page's extraction (≈1–2 ms of lxml) and its storage with
near-duplicate linking (≈2 ms) run here, on the other core, so the Twisted reactor keeps
fetching. A batch is one unit of work: what the worker reports back is committed; a batch the
database refuses is retried item by item so that one bad row costs only itself.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crawler.encoding import decode_html
from crawler.extract import SiteSelectors, extract_article
from crawler.store import Item, store_items
from yuqing.core.db import make_engine, make_sessionmaker, retry_locked, session_scope

logger = logging.getLogger(__name__)

MAX_TEXT_BYTES = 2 * 1024 * 1024  # pages above this are cut before extraction


@dataclass(frozen=True)
class RawPage:
    """A fetched article page, not yet extracted."""

    url: str
    body: bytes
    header_charset: str | None
    platform: str


@dataclass
class BatchResult:
    new: int = 0
    duplicates: int = 0
    reprints: int = 0
    dropped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=4)
def _sessions(database_url: str) -> sessionmaker[Session]:
    # One engine per worker process and database, reused across batches.
    return make_sessionmaker(make_engine(database_url))


def page_item(page: RawPage, selectors: SiteSelectors, now: datetime) -> Item:
    """Decode and extract one page; oversized pages are cut (and the cut is logged)."""
    body = page.body
    if len(body) > MAX_TEXT_BYTES:
        logger.warning("page %s is %d bytes; cut to %d", page.url, len(body), MAX_TEXT_BYTES)
        body = body[:MAX_TEXT_BYTES]
    draft = extract_article(decode_html(body, page.header_charset).text, page.url, selectors,
                            now=now)
    return Item(url=page.url, title=draft.title, content=draft.content, author=draft.author,
                published_at=draft.published_at, platform=page.platform, raw=page.body)


def store_batch(database_url: str, source_id: int | None, entries: list[RawPage | Item],
                selectors: SiteSelectors, now: datetime) -> BatchResult:
    """Extract what needs it and store the batch; the entry point run in the worker process."""
    result = BatchResult()
    items = []
    for entry in entries:
        item = page_item(entry, selectors, now) if isinstance(entry, RawPage) else entry
        if item.title or item.content:
            items.append(item)
        else:
            result.dropped.append(f"no title and no text: {item.url}")
    sessions = _sessions(database_url)
    try:
        # What was fetched is not given up because another process held the database long.
        retry_locked(lambda: _store(sessions, source_id, items, now, result))
    except SQLAlchemyError as exc:
        logger.warning("storing a batch of %d failed (%s); storing one by one", len(items), exc)
        for item in items:
            try:
                _store(sessions, source_id, [item], now, result)
            except SQLAlchemyError as item_exc:
                reason = str(item_exc.orig) if isinstance(item_exc, DBAPIError) else str(item_exc)
                result.errors.append(f"storage failed: {reason} {item.url}"[:500])
    return result


def _store(sessions: sessionmaker[Session], source_id: int | None, items: list[Item],
           now: datetime, result: BatchResult) -> None:
    with session_scope(sessions) as session:
        stored = store_items(session, source_id, items, now)
    result.new += len(stored.new)
    result.duplicates += stored.duplicates
    result.reprints += stored.reprints


def entry_from_item(item: dict[str, Any]) -> RawPage | Item:
    """A pipeline item as the worker's input: raw pages stay raw until the worker."""
    if "raw_page" in item:
        page: RawPage = item["raw_page"]
        return page
    return Item(**item)
