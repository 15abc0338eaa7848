"""Two `yuqing run` processes on one PostgreSQL database: only the elected one crawls, analyses
and sends; the standby waits, then takes over without classifying or opening anything again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import yaml
from sqlalchemy import func, select

from analysis.models import Classification, Incident
from crawler.models import Document, Source
from tests.crawler import loopback
from tests.yuqing import harness
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.core.migrate import upgrade

T = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)  # 10:00 in Beijing
STORY = ("城东区公证处被曝为虚假房产交易出具公证书，三名老人的房产在不知情的情况下被过户。"
         "家属称多次到区司法局投诉，至今没有答复，要求公证处说明情况并追究责任。")
OPENERS = ["转发：", "扩散！", "气愤，", "有人管吗？"]
UNRELATED = ["本周末我市将迎来降温天气，最低气温零下三度，请注意保暖。",
             "市图书馆新馆今日开放，市民可凭身份证免费办理借阅证。"]


def _feed() -> bytes:
    posts = [f"{opener}{STORY}" for opener in OPENERS] + UNRELATED
    items = "".join(
        f"<item><title>{escape(text[:16])}</title><link>http://127.0.0.1/p/{n}</link>"
        f"<description>{escape(text)}</description>"
        f"<pubDate>{format_datetime(T - timedelta(hours=2) + timedelta(minutes=5 * n))}</pubDate>"
        f"</item>" for n, text in enumerate(posts))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>论坛</title>'
            f"{items}</channel></rss>").encode("utf-8")


@pytest.fixture
def world(tmp_path: Path, pg_url: str) -> Iterator[tuple[str, loopback.Server]]:
    server = loopback.start({"/feed.xml": loopback.static(_feed(), "application/rss+xml")})
    config = {"sources": [{"name": "forum", "kind": "feed", "url": f"{server.base}/feed.xml",
                           "every_minutes": 60}],
              "roster": {"admin": "wang", "people": {
                  "wang": {"name": "王管理员", "channels": ["json://127.0.0.1:9/"]}}}}
    (tmp_path / "yuqing.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    upgrade(pg_url)
    harness.write_clock(tmp_path / "clock", T)
    yield pg_url, server
    harness.stop_server(server)


def _state(url: str) -> tuple[int, int, int, datetime | None]:
    """Documents, classifications, incidents and the source's last successful crawl."""
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine), readonly=True) as session:
        counts = [session.scalar(select(func.count()).select_from(model)) or 0
                  for model in (Document, Classification, Incident)]
        last = session.scalar(select(Source.last_success_at).where(Source.name == "forum"))
    engine.dispose()
    return counts[0], counts[1], counts[2], last


@pytest.mark.postgres
def test_two_daemons_on_one_database_classify_each_document_once_and_open_one_incident(
        tmp_path: Path, world: tuple[str, loopback.Server]) -> None:
    url, server = world
    env = harness.cli_env(tmp_path, url)
    first, second = (harness.Daemon(tmp_path, env, name, poll="0.2") for name in ("a", "b"))
    first.start()
    second.start()
    try:
        harness.wait_until(lambda: "crawling 1 sources" in first.log() + second.log(),
                           "one daemon to be elected and crawl")
        active, standby = (first, second) if "crawling 1" in first.log() else (second, first)
        harness.wait_until(lambda: _state(url)[:3] == (6, 6, 1), "the crawl's analysis")
        standby.wait_for_log("standing by: another scheduler is active")
        assert "crawling" not in standby.log() and harness.children_of(standby.pid) == []
        assert server.hits["/feed.xml"] == 1  # the standby fetched nothing
        assert active.terminate() == 0, active.log()[-3000:]
        standby.wait_for_log("taking over as the active scheduler")
        # Both crawl at the simulated time T: the new one shows in the feed's hits, and the
        # standby's settled heartbeat says its crawl and analysis are done.
        harness.wait_until(lambda: server.hits.get("/feed.xml") == 2, "the new active one's crawl")
        standby.wait_settled(T)
        assert standby.terminate() == 0, standby.log()[-3000:]
    finally:
        first.stop()
        second.stop()
    assert server.hits["/feed.xml"] == 2  # one crawl per active daemon
    assert _state(url)[:3] == (6, 6, 1)  # each document classified once, one incident
