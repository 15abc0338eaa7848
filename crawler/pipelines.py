"""The storage pipeline: batches items and hands them to the storage worker process.

Extraction, dedup and storage run in ``crawler.worker`` in a separate process (the crawl
thread only downloads). At most ``YUQING_INFLIGHT_BATCHES`` batches wait for the worker; beyond
that the pipeline waits, so memory stays bounded when storage is slower than the network.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.extract import SiteSelectors
from crawler.health import record_run
from crawler.sources import sync_sources
from crawler.spiders.base import SourceSpider, crawl_clock, pages_usable
from crawler.worker import BatchResult, RawPage, entry_from_item, store_batch
from crawler.store import Item
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.core.settings import load_settings

logger = logging.getLogger(__name__)


class StoragePipeline:
    def __init__(self, crawler: Crawler, database_url: str, batch_size: int,
                 use_worker: bool, inflight: int) -> None:
        self.crawler = crawler
        self.database_url = database_url
        self.batch_size = batch_size
        self.inflight = inflight
        self.buffer: list[RawPage | Item] = []
        self.pending: deque[Future[BatchResult]] = deque()
        self.executor: ProcessPoolExecutor | None = None
        self.use_worker = use_worker
        self.source_id: int | None = None
        self.selectors = SiteSelectors()
        self.totals = BatchResult()
        self.clock = crawl_clock(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        url = crawler.settings.get("YUQING_DATABASE_URL")
        if not url:  # `scrapy crawl`: the same settings as the yuqing command
            url = load_settings().database_url
        return cls(crawler, url, crawler.settings.getint("YUQING_BATCH_SIZE", 200),
                   crawler.settings.getbool("YUQING_STORAGE_WORKER", True),
                   crawler.settings.getint("YUQING_INFLIGHT_BATCHES", 4))

    def open_spider(self) -> None:
        spider = self.crawler.spider
        engine = make_engine(self.database_url)
        if isinstance(spider, SourceSpider):
            self.selectors = spider.selectors()
            with session_scope(make_sessionmaker(engine)) as session:
                self.source_id = sync_sources(session, [spider.source], self.clock())[0].id
        engine.dispose()
        if self.use_worker:
            # spawn, not fork: the crawl process runs threads and a reactor.
            self.executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"))

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        if not item.get("url"):
            raise DropItem("no url")
        # Items without title and text are dropped by the worker (after extraction, for pages).
        self.buffer.append(entry_from_item(item))
        if len(self.buffer) >= self.batch_size:
            self._submit()
        return item

    def close_spider(self) -> None:
        self._submit()
        while self.pending:
            self._collect(self.pending.popleft())
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        stats = self.crawler.stats
        assert stats is not None
        stats.set_value("yuqing/new", self.totals.new)
        stats.set_value("yuqing/duplicates", self.totals.duplicates)
        stats.set_value("yuqing/reprints", self.totals.reprints)
        if self.source_id is not None and stats.get_value("yuqing/busy") is None:
            # (a crawl that found its source busy fetched nothing: no run to judge)
            engine = make_engine(self.database_url)
            with session_scope(make_sessionmaker(engine)) as session:
                record_run(session, self.source_id, items=self.totals.new,
                           errors=int(stats.get_value("yuqing/errors", 0)),
                           pages=pages_usable(stats.get_stats()),
                           last_error=stats.get_value("yuqing/last_error"), now=self.clock())
            engine.dispose()

    def _submit(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        args = (self.database_url, self.source_id, batch, self.selectors, self.clock())
        if self.executor is None:
            self._record(store_batch(*args))
            return
        self.pending.append(self.executor.submit(store_batch, *args))
        while len(self.pending) > self.inflight:
            self._collect(self.pending.popleft())
        while self.pending and self.pending[0].done():
            self._collect(self.pending.popleft())

    def _collect(self, future: Future[BatchResult]) -> None:
        try:
            result = future.result()
        except Exception as exc:  # the worker died or could not run the batch
            logger.error("storage worker failed: %s", exc)
            result = BatchResult(errors=[f"storage worker failed: {type(exc).__name__}: {exc}"])
        self._record(result)

    def _record(self, result: BatchResult) -> None:
        self.totals.new += result.new
        self.totals.duplicates += result.duplicates
        self.totals.reprints += result.reprints
        stats = self.crawler.stats
        assert stats is not None
        for reason in result.dropped:
            stats.inc_value("item_dropped_count")
            logger.info("dropped %s", reason)
        for error in result.errors:
            stats.inc_value("yuqing/errors")
            stats.set_value("yuqing/last_error", error)
            logger.error("%s", error)
