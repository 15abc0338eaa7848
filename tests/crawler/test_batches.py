"""Storage is batched and idempotent: crashes and failed writes lose only what was never
acknowledged, and reruns store every page exactly once.

The crawls run through the real CLI in a subprocess against a loopback server of 450 article
pages (more than two batches of ``YUQING_BATCH_SIZE`` = 200).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from crawler import scrapy_settings
from tests.crawler import loopback

ARTICLES = 450
BATCH = scrapy_settings.YUQING_BATCH_SIZE
HELD_FROM = 420  # articles from here on are held by the server until the test releases them
POISON = 137  # the article whose row the database refuses in the failed-write test


def article(n: int) -> bytes:
    title = f"区司法局第{n}号通报：人民调解化解物业纠纷"
    body = f"第{n}号：调解员第{n}次上门，双方就第{n}号楼的维修费用达成协议。" * 4
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<h1>{title}</h1><div class='info'>发布时间：2026-11-{n % 28 + 1:02d} 10:00</div>"
            f"<div class='content'><p>{body}</p><p>{body}（完）</p></div></body></html>").encode()


def held(body: bytes, release: threading.Event) -> loopback.Route:
    def route(h: loopback.Handler) -> None:
        release.wait(timeout=60)  # the crawl is killed meanwhile; the server just waits
        h.reply(200, body)
    return route


@dataclass
class Site:
    server: loopback.Server
    release: threading.Event

    def url(self, n: int) -> str:
        return f"{self.server.base}/news/{n}.html"


@pytest.fixture
def site() -> Iterator[Site]:
    release = threading.Event()
    r: dict[str, loopback.Route] = {"/news/index.html": loopback.static(
        ("<html><body><ul>" + "".join(f"<li><a href='/news/{n}.html'>第{n}号</a></li>"
                                      for n in range(ARTICLES)) + "</ul></body></html>").encode())}
    for n in range(ARTICLES):
        body = article(n)
        r[f"/news/{n}.html"] = held(body, release) if n >= HELD_FROM else loopback.static(body)
    server = loopback.start(r)
    yield Site(server, release)
    release.set()
    server.shutdown()
    server.server_close()


@dataclass
class Workdir:
    path: Path
    env: dict[str, str]

    @property
    def db(self) -> Path:
        return self.path / "batches.db"

    def configure(self, site: Site, *names: str) -> None:
        sources = [{"name": name, "kind": "site", "url": f"{site.server.base}/news/index.html",
                    "timeout": 60, "obey_robots": False} for name in names]
        # room for the held requests besides the others (they would otherwise fill the slots)
        crawl = {"autothrottle": False, "retries": 0, "concurrent_requests": 64,
                 "concurrent_per_domain": 64}
        config = {"crawl": crawl, "sources": sources}
        (self.path / "yuqing.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "yuqing.cli", *args], capture_output=True,
                              text=True, env=self.env, cwd=self.path, timeout=120)

    def crawl(self, *args: str) -> dict[str, dict[str, Any]]:
        done = self.cli("crawl", "--json", *args)
        assert done.returncode == 0, done.stderr
        return {r["source"]: r for r in json.loads(done.stdout)}

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.db)) as conn, conn:
            return conn.execute(sql).fetchall()

    def count(self) -> int:
        return int(self.query("SELECT count(*) FROM documents")[0][0])


@pytest.fixture
def workdir(tmp_path: Path, site: Site) -> Workdir:
    env = {"PATH": "/usr/bin:/bin", "YUQING_DATABASE_URL": f"sqlite:///{tmp_path / 'batches.db'}",
           "YUQING_CONFIG": str(tmp_path / "yuqing.yaml")}
    work = Workdir(tmp_path, env)
    work.configure(site, "news")
    assert work.cli("init").returncode == 0
    return work


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Poll an observable condition (here: rows committed by another process)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def stored_urls_are_exactly(work: Workdir, site: Site, numbers: range) -> None:
    urls = [row[0] for row in work.query("SELECT url FROM documents")]
    assert len(urls) == len(set(urls))  # no URL stored twice
    assert set(urls) == {site.url(n) for n in numbers}


def test_a_crawl_killed_mid_batch_keeps_committed_batches_and_the_rerun_stores_the_rest(
        workdir: Workdir, site: Site) -> None:
    crawl = subprocess.Popen([sys.executable, "-m", "yuqing.cli", "crawl", "--json"],
                             env=workdir.env, cwd=workdir.path, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        # 420 pages are served at once and two batches commit; the rest are held, so the
        # crawl is still running, with a partial third batch in memory, when it is killed
        wait_until(lambda: workdir.db.exists() and workdir.count() >= 2 * BATCH)
        wait_until(lambda: sum(site.server.hits.get(f"/news/{n}.html", 0)
                               for n in range(HELD_FROM)) == HELD_FROM)
    finally:
        os.kill(crawl.pid, signal.SIGKILL)
        crawl.wait(timeout=30)
    assert crawl.returncode == -signal.SIGKILL
    assert workdir.count() == 2 * BATCH  # the acknowledged batches, and nothing half-written
    site.release.set()
    rerun = workdir.crawl()
    assert rerun["news"]["new"] == ARTICLES - 2 * BATCH
    stored_urls_are_exactly(workdir, site, range(ARTICLES))
    assert workdir.crawl()["news"]["new"] == 0


def test_refetching_every_stored_page_inserts_nothing(workdir: Workdir, site: Site) -> None:
    site.release.set()
    assert workdir.crawl()["news"]["new"] == ARTICLES
    # a second source on the same pages knows none of them, so it fetches all 450 again
    workdir.configure(site, "news", "mirror")
    again = workdir.crawl("--source", "mirror")["mirror"]
    assert again["pages"] == ARTICLES + 1 and again["new"] == 0
    assert again["duplicates"] == ARTICLES
    stored_urls_are_exactly(workdir, site, range(ARTICLES))


def test_a_failed_database_write_costs_only_that_row_and_the_rerun_completes(
        workdir: Workdir, site: Site) -> None:
    site.release.set()
    # the database itself refuses one row in the middle of a batch (as a full disk or a
    # constraint would), after earlier rows of the same transaction were already written
    workdir.query(f"CREATE TRIGGER refuse BEFORE INSERT ON documents "
                  f"WHEN NEW.url LIKE '%/news/{POISON}.html' "
                  f"BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END")
    first = workdir.crawl()["news"]
    assert first["new"] == ARTICLES - 1 and first["errors"] == 1
    assert "disk I/O error" in (first["last_error"] or "")
    urls = {row[0] for row in workdir.query("SELECT url FROM documents")}
    assert urls == {site.url(n) for n in range(ARTICLES) if n != POISON}
    workdir.query("DROP TRIGGER refuse")
    assert workdir.crawl()["news"]["new"] == 1
    stored_urls_are_exactly(workdir, site, range(ARTICLES))
