"""The storage pipeline: validate, batch, dedupe and persist through ``crawler.store``."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crawler.health import record_run
from crawler.sources import sync_sources
from crawler.spiders.base import SourceSpider
from crawler.store import Item, store_items
from yuqing.clock import system_clock
from yuqing.db import make_engine, make_sessionmaker, session_scope
from yuqing.settings import load_settings

logger = logging.getLogger(__name__)


class StoragePipeline:
    def __init__(self, crawler: Crawler, database_url: str, batch_size: int) -> None:
        self.crawler = crawler
        self.database_url = database_url
        self.batch_size = batch_size
        self.buffer: list[Item] = []
        self.sessions: sessionmaker[Session] | None = None
        self.source_id: int | None = None
        self.new = 0
        self.duplicates = 0
        self.reprints = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        url = crawler.settings.get("YUQING_DATABASE_URL")
        if not url:  # `scrapy crawl`: the same settings as the yuqing command
            url = load_settings().database_url
        return cls(crawler, url, crawler.settings.getint("YUQING_BATCH_SIZE", 200))

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.sessions = make_sessionmaker(make_engine(self.database_url))
        if isinstance(spider, SourceSpider):
            with session_scope(self.sessions) as session:
                self.source_id = sync_sources(session, [spider.source], system_clock())[0].id

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        if not item.get("url"):
            raise DropItem("no url")
        if not (item.get("title") or item.get("content")):
            raise DropItem(f"no title and no text: {item['url']}")
        self.buffer.append(Item(**item))
        if len(self.buffer) >= self.batch_size:
            self._flush()
        return item

    def close_spider(self) -> None:
        self._flush()
        stats = self.crawler.stats
        assert stats is not None and self.sessions is not None
        stats.set_value("yuqing/new", self.new)
        stats.set_value("yuqing/duplicates", self.duplicates)
        stats.set_value("yuqing/reprints", self.reprints)
        if self.source_id is not None:
            with session_scope(self.sessions) as session:
                record_run(session, self.source_id, items=self.new,
                           errors=int(stats.get_value("yuqing/errors", 0)),
                           pages=int(stats.get_value("response_received_count", 0)),
                           last_error=stats.get_value("yuqing/last_error"), now=system_clock())

    def _flush(self) -> None:
        if not self.buffer or self.sessions is None:
            return
        batch, self.buffer = self.buffer, []
        try:
            self._store(batch)
        except SQLAlchemyError as exc:
            # The batch was rolled back whole. Retrying it item by item keeps one refused row
            # from costing its neighbours (before, the failed batch stayed in the buffer and
            # every later flush of the run failed with it, and the run was never recorded).
            logger.warning("storing a batch of %d failed (%s); storing one by one",
                           len(batch), exc)
            for item in batch:
                try:
                    self._store([item])
                except SQLAlchemyError as item_exc:
                    self._storage_error(item, item_exc)

    def _store(self, items: list[Item]) -> None:
        assert self.sessions is not None
        with session_scope(self.sessions) as session:
            result = store_items(session, self.source_id, items, system_clock())
        self.new += len(result.new)
        self.duplicates += result.duplicates
        self.reprints += result.reprints

    def _storage_error(self, item: Item, exc: SQLAlchemyError) -> None:
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("yuqing/errors")
        reason = str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)
        stats.set_value("yuqing/last_error", f"storage failed: {reason} {item.url}"[:500])
        logger.error("storing %s failed: %s", item.url, exc)
