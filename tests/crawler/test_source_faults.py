"""Broken sources and pages dated ahead of the clock, through the real CLI against a loopback
site, with the time injected (``--now``): what is stored, what ``yuqing sources`` says, and
what ``yuqing crawl`` exits with and prints."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from crawler.dates import SHANGHAI, is_future
from crawler.models import Document, Source
from tests.conftest import CliResult
from tests.crawler import loopback
from tests.shared_data import require_shared, shared_data_dir
from yuqing.core.db import make_engine, make_sessionmaker, session_scope

Cli = Callable[..., CliResult]
FIRST, SECOND = "2026-12-02 12:43", "2026-12-02 13:13"  # Beijing time
FETCHED = datetime(2026, 12, 2, 4, 43, tzinfo=timezone.utc)  # FIRST in UTC
REAL_PAGE = "cwce_0d931936.html"  # a real GBK news page, configured as if it were a feed

GOOD_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>司法动态</title>
<item><title>市司法局开展法律援助进社区活动</title><link>{base}/news/good.html</link>
<description>律师在社区为居民解答法律问题。</description>
<pubDate>Tue, 01 Dec 2026 09:30:00 +0800</pubDate></item>
</channel></rss>"""


def article(title: str, when: str, body: str) -> bytes:
    return (f"<html><head><meta charset='utf-8'><title>{title}_演示网</title></head><body>"
            f"<h1>{title}</h1><div class='info'>发布时间：{when} 来源：演示网</div>"
            f"<div class='content'><p>{body}</p><p>{body}（续）</p></div></body></html>").encode()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def routes() -> dict[str, loopback.Route]:
    r: dict[str, loopback.Route] = {
        "/broken.xml": loopback.static("<rss><channel><item><title>半截".encode(),
                                       "application/rss+xml"),
        "/page.html": loopback.static(article("司法所调解一起邻里纠纷", "2026-12-01 10:00",
                                              "双方在调解员主持下达成协议。")),
        "/good.xml": lambda h: h.reply(200, GOOD_RSS.format(base=h.server.base).encode(),
                                       "application/rss+xml"),
        "/news/index.html": loopback.static(
            b"<html><body><a href='/news/ahead.html'>1</a><a href='/news/ahead-cn.html'>2</a>"
            b"<a href='/news/past.html'>3</a></body></html>"),
        "/news/ahead.html": loopback.static(article(
            "公证处推出夜间预约服务", "2026-12-02 14:00", "即日起公证处工作日晚间可预约办理公证。")),
        "/news/ahead-cn.html": loopback.static(article(
            "法律援助中心发布年度报告", "2026年12月3日 09:00", "报告显示法律援助案件数量稳步增长。")),
        "/news/past.html": loopback.static(article(
            "人民调解员培训班开班", "2026-12-02 08:30", "来自各街道的人民调解员参加培训。")),
        "/robots.txt": loopback.static(b"User-agent: *\nAllow: /\n", "text/plain"),
    }
    base = shared_data_dir()
    if base is not None and (base / "pages" / REAL_PAGE).is_file():
        r["/real.html"] = loopback.page_file(base / "pages" / REAL_PAGE)
    return r


@pytest.fixture(scope="module")
def site() -> Iterator[loopback.Server]:
    server = loopback.start(routes())
    yield server
    server.shutdown()
    server.server_close()


def configure(run_cli: Cli, workdir: Path, sources: list[dict[str, Any]]) -> dict[str, str]:
    """Write the config, create the database; the env for the next commands."""
    config = {"crawl": {"autothrottle": False, "retries": 0}, "sources": sources}
    (workdir / "yuqing.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    env = {"YUQING_CONFIG": str(workdir / "yuqing.yaml"), "COLUMNS": "250"}
    assert run_cli("init", env=env).code == 0
    return env


def feed(site: loopback.Server, name: str, path: str) -> dict[str, Any]:
    return {"name": name, "kind": "feed", "url": f"{site.base}{path}", "max_failures": 2}


def down() -> dict[str, Any]:
    return {"name": "down", "kind": "site", "url": f"http://127.0.0.1:{closed_port()}/"}


def health(run_cli: Cli, env: dict[str, str], at: str) -> dict[str, dict[str, Any]]:
    shown = run_cli("sources", "--json", "--now", at, env=env)
    assert shown.code == 0, shown.stderr
    return {row["name"]: row for row in json.loads(shown.stdout)}


def table_line(run_cli: Cli, env: dict[str, str], at: str, name: str) -> str:
    """The row of ``name`` in the ``yuqing sources`` table."""
    table = run_cli("sources", "--now", at, env=env).stdout
    return next(line for line in table.splitlines() if f" {name} " in line)


def stored(tmp_path: Path, source: str) -> dict[str, Document]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with session_scope(make_sessionmaker(engine)) as session:
        docs = list(session.scalars(select(Document).join(Source).where(Source.name == source)))
    engine.dispose()
    return {d.url.rsplit("/", 1)[-1]: d for d in docs}


def beijing(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00").astimezone(timezone.utc)


# --- 8.1: pages dated ahead of now --------------------------------------------------------------


def test_a_crawled_page_dated_ahead_of_now_is_stored_as_written_and_flagged(
        run_cli: Cli, tmp_path: Path, site: loopback.Server) -> None:
    env = configure(run_cli, tmp_path, [
        {"name": "news", "kind": "site", "url": f"{site.base}/news/index.html"}])
    run = run_cli("crawl", "--now", FIRST, env=env)
    assert run.code == 0 and run.stderr == ""  # no source failed
    docs = stored(tmp_path, "news")
    ahead, ahead_cn, past = docs["ahead.html"], docs["ahead-cn.html"], docs["past.html"]
    assert ahead.published_at == beijing("2026-12-02 14:00")  # not 2025-12-02
    assert ahead_cn.published_at == beijing("2026-12-03 09:00")  # not 2025-12-03
    assert ahead.fetched_at == FETCHED
    assert is_future(ahead.published_at, ahead.fetched_at)
    assert is_future(ahead_cn.published_at, ahead_cn.fetched_at)
    assert past.published_at is not None and not is_future(past.published_at, past.fetched_at)


@pytest.mark.parametrize(("printed", "expected"), [
    ("2026-12-02 14:00", "2026-12-02T14:00:00+08:00"),
    ("2026年12月3日 09:00", "2026-12-03T09:00:00+08:00"),
])
def test_extract_keeps_the_year_of_a_page_dated_ahead_and_flags_it(
        run_cli: Cli, tmp_path: Path, printed: str, expected: str) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(article("公证处推出夜间预约服务", printed, "即日起公证处工作日晚间可预约办理公证。"))
    run = run_cli("extract", str(page), "--json", "--now", FIRST)
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["published_at"] == expected
    assert data["published_in_future"] is True and data["published_precision"] == "time"
    text = run_cli("extract", str(page), "--now", FIRST).stdout
    assert "晚于读取时间" in text.splitlines()[1]


@pytest.mark.parametrize("name", ["cwce_33a95b71.html", "cwce_47f387e6.html",
                                  "cwce_5acac71b.html"])
def test_extract_keeps_the_year_of_a_real_page_read_before_its_printed_time(
        run_cli: Cli, name: str) -> None:
    path = require_shared("pages", name)
    manifest = json.loads(require_shared("pages", "manifest.json").read_text("utf-8"))
    printed = next(p for p in manifest["pages"] if p["file"] == name)["expected"]["publish_time"]
    year, month, day, hour, minute = (int(n) for n in re.findall(r"\d+", printed)[:5])
    when = datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)
    # Read 77 minutes before the printed time, as the 14:00 page was read at 12:43.
    read_at = (when - timedelta(minutes=77)).strftime("%Y-%m-%d %H:%M")
    data = json.loads(run_cli("extract", str(path), "--json", "--now", read_at).stdout)
    assert datetime.fromisoformat(data["published_at"]).replace(second=0) == when
    assert data["published_in_future"] is True


# --- 8.7: broken feeds are failures -------------------------------------------------------------


def test_broken_feeds_are_failures_with_their_reason_counted_toward_max_failures(
        run_cli: Cli, tmp_path: Path, site: loopback.Server) -> None:
    broken = {"broken_feed": ("/broken.xml", "截断"), "html_feed": ("/page.html", "网页"),
              "missing_feed": ("/gone.xml", "HTTP 404")}
    env = configure(run_cli, tmp_path, [feed(site, name, path) for name, (path, _) in
                                        broken.items()] + [feed(site, "good_feed", "/good.xml")])
    for crawl_number, at in enumerate((FIRST, SECOND), start=1):
        assert run_cli("crawl", "--now", at, env=env).code == 1
        shown = health(run_cli, env, at)
        for name, (_, reason) in broken.items():
            row = shown[name]
            assert row["consecutive_failures"] == crawl_number, (name, row)
            assert reason in (row["last_error"] or ""), (name, row)
            assert row["last_success_at"] is None, (name, row)
            assert row["status"] == ("failing" if crawl_number == 1 else "unhealthy"), (name, row)
            assert row["healthy"] is (crawl_number == 1)  # unhealthy at max_failures: 2
        assert shown["good_feed"]["status"] == "ok"
        assert shown["good_feed"]["last_success_at"] == beijing(at).isoformat()
        line = table_line(run_cli, env, at, "broken_feed")
        assert "正常" not in line and ("失败 1/2" if crawl_number == 1 else "异常") in line
    assert "正常" in table_line(run_cli, env, SECOND, "good_feed")


def test_a_real_news_page_configured_as_a_feed_is_a_failure(
        run_cli: Cli, tmp_path: Path, site: loopback.Server) -> None:
    require_shared("pages", REAL_PAGE)
    env = configure(run_cli, tmp_path, [feed(site, "real_page_feed", "/real.html")])
    assert run_cli("crawl", "--now", FIRST, env=env).code == 1
    row = health(run_cli, env, FIRST)["real_page_feed"]
    assert row["consecutive_failures"] == 1 and row["last_success_at"] is None
    assert "网页" in (row["last_error"] or "")


# --- 8.8: the crawl's exit code and stderr ------------------------------------------------------


def test_crawl_exits_non_zero_with_one_line_per_failed_source(
        run_cli: Cli, tmp_path: Path, site: loopback.Server) -> None:
    env = configure(run_cli, tmp_path, [feed(site, "good_feed", "/good.xml"),
                                        feed(site, "broken_feed", "/broken.xml"), down()])
    run = run_cli("crawl", "--json", "--now", FIRST, env=env)
    assert run.code == 1
    assert "Traceback" not in run.stderr
    lines = sorted(run.stderr.splitlines())
    assert [line.split("：", 1)[0] for line in lines] == ["采集失败 broken_feed", "采集失败 down"]
    assert "截断" in lines[0] and "Connection" in lines[1]
    assert {r["source"]: r["failed"] for r in json.loads(run.stdout)} == {
        "good_feed": False, "broken_feed": True, "down": True}


def test_crawl_exits_non_zero_when_every_source_failed(
        run_cli: Cli, tmp_path: Path, site: loopback.Server) -> None:
    env = configure(run_cli, tmp_path, [down(), feed(site, "missing_feed", "/gone.xml")])
    run = run_cli("crawl", "--now", FIRST, env=env)
    assert run.code == 1
    assert "Traceback" not in run.stderr and "robots" not in run.stderr
    assert len(run.stderr.splitlines()) == 2
    assert "采集汇总" in run.stdout  # the summary still shows


# --- a source removed from the config -----------------------------------------------------------


def test_a_source_removed_from_the_config_is_shown_as_removed(
        run_cli: Cli, tmp_path: Path, site: loopback.Server) -> None:
    env = configure(run_cli, tmp_path, [feed(site, "good_feed", "/good.xml"),
                                        feed(site, "other_feed", "/good.xml")])
    assert run_cli("crawl", "--now", FIRST, env=env).code == 0
    config = yaml.safe_load((tmp_path / "yuqing.yaml").read_text("utf-8"))
    config["sources"] = [s for s in config["sources"] if s["name"] != "good_feed"]
    (tmp_path / "yuqing.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    rows = health(run_cli, env, FIRST)
    assert rows["good_feed"]["status"] == "removed" and rows["good_feed"]["configured"] is False
    assert rows["other_feed"]["status"] == "ok" and rows["other_feed"]["configured"] is True
    line = table_line(run_cli, env, FIRST, "good_feed")
    assert "已移除" in line and "正常" not in line
