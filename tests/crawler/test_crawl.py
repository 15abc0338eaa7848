"""Every source kind crawled from a real HTTP server on 127.0.0.1, through the real CLI.

One crawl of all sources runs per module (Scrapy's reactor starts once per process, so the
crawl runs in a subprocess); the tests then read what it stored and what it reported.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from sqlalchemy import func, select

from crawler.lease import acquire, holder_of, release, this_process
from crawler.models import Document, Source
from crawler.store import canonical_url
from tests.crawler import loopback
from tests.shared_data import require_shared
from yuqing.core.clock import SHANGHAI
from yuqing.core.db import make_engine, make_sessionmaker, session_scope

GBK_PAGES = ["cwce_33a95b71.html", "cwce_47f387e6.html", "cwce_5acac71b.html",
             "cwce_ab65832c.html"]
MISLABELLED = "cwce_b26fbb82.html"
SCHEME_QUERIES: list[str] = []  # what the scheme-driven search source asked the server  # GBK bytes, served with a UTF-8 header

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>演示司法动态</title>
<item><title>市司法局发布公证服务便民措施</title><link>{base}/feed/1.html</link>
<description>&lt;p&gt;即日起，公证处推出预约办证和延时服务。&lt;/p&gt;</description>
<pubDate>Sat, 28 Nov 2026 09:30:00 +0800</pubDate></item>
<item><title>网友投诉法律援助热线长期占线</title><link>{base}/feed/2.html?utm_source=rss</link>
<description>多名网友反映拨打12348热线无人接听。</description>
<pubDate>Sun, 29 Nov 2026 07:05:00 +0800</pubDate></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>演示</title>
<entry><title>社区矫正对象失联三天后被找回</title><link href="{base}/atom/1.html"/>
<published>2026-11-28T20:15:00+08:00</published><author><name>记者甲</name></author>
<summary>某区司法局通报，一名社区矫正对象脱管三天后被找回。</summary></entry>
</feed>"""


def weibo_payload() -> dict[str, Any]:
    def card(mid: str, text: str, created: str, reposts: Any) -> dict[str, Any]:
        return {"card_type": 9, "mblog": {"mid": mid, "text": text, "created_at": created,
                                          "user": {"screen_name": f"网友{mid}"},
                                          "reposts_count": reposts, "comments_count": 3,
                                          "attitudes_count": 10}}
    return {"ok": 1, "data": {"cards": [
        card("501", "法考考场外有人兜售“答案”<a href='/t'>#法考#</a>", "Sat Nov 28 10:00:00 +0800 2026", 12),
        card("502", "公证处排队三个小时还没办完，效率太低", "5分钟前", "1.2万"),
        {"card_type": 11, "card_group": []},
    ]}}


def article(title: str, when: str, body: str) -> bytes:
    return (f"<html><head><meta charset='utf-8'><title>{title}_演示网</title></head><body>"
            f"<div class='nav'><a href='/'>首页</a></div><h1>{title}</h1>"
            f"<div class='info'>发布时间：{when} 来源：演示网</div>"
            f"<div class='content'><p>{body}</p><p>{body}（续）</p></div>"
            f"<div class='footer'>责任编辑：某某</div></body></html>").encode()


def routes(pages: Path) -> dict[str, loopback.Route]:
    r: dict[str, loopback.Route] = {}
    links = [f"/gbk/{name}" for name in GBK_PAGES] + [
        "/fault/500", "/fault/loop", "/fault/truncated", "/fault/stall", "/fault/wrong-charset"]
    r["/gbk/index.html"] = loopback.static(
        ("<html><body><ul>" + "".join(f"<li><a href='{u}'>{u}</a></li>" for u in links)
         + "</ul></body></html>").encode())
    for name in GBK_PAGES:
        r[f"/gbk/{name}"] = loopback.page_file(pages / name)
    r["/fault/500"] = loopback.status(500)
    r["/fault/loop"] = loopback.redirect("/fault/loop")
    r["/fault/truncated"] = loopback.truncated(article("被截断的页面", "2026-11-28 10:00", "内容" * 400))
    r["/fault/stall"] = loopback.stalled(4)
    # the header claims UTF-8 but the body is GBK: the content must still decode
    r["/fault/wrong-charset"] = loopback.static((pages / MISLABELLED).read_bytes(),
                                                "text/html; charset=utf-8")
    for n in range(1, 50):  # an endless pager: every list page links to one more
        r[f"/pager/{n}"] = loopback.static(
            (f"<html><body><a class='item' href='/pager/a{n}.html'>文章{n}</a>"
             f"<a class='next' href='/pager/{n + 1}'>下一页</a></body></html>").encode())
        r[f"/pager/a{n}.html"] = loopback.static(
            article(f"司法所调解邻里纠纷第{n}例", "2026-11-20 09:00", f"第{n}例调解经过。" * 5))
    r["/feed.xml"] = lambda h: h.reply(200, RSS.format(base=h.server.base).encode(),
                                       "application/rss+xml")
    r["/atom.xml"] = lambda h: h.reply(200, ATOM.format(base=h.server.base).encode(),
                                       "application/atom+xml")
    r["/api/search"] = loopback.json_route(weibo_payload())
    r["/search"] = lambda h: h.reply(200, (
        "<html><body><div class='result'><a href='/found/"
        + ("1" if "%E6%B3%95" in h.path else "2") + ".html'>结果</a></div></body></html>").encode())
    def scheme_search(h: loopback.Handler) -> None:
        SCHEME_QUERIES.append(unquote(h.path.split("q=", 1)[1].split("&", 1)[0]))
        h.reply(200, b"<html><body><div class='result'></div></body></html>")

    r["/search2"] = scheme_search
    r["/found/1.html"] = loopback.static(article("律师事务所被指违规收费", "2026年11月27日 15:20",
                                                 "当事人称律师收取高额风险代理费后未出庭。"))
    r["/found/2.html"] = loopback.static(article("公证处延长服务时间", "2026-11-26 08:00",
                                                 "为方便群众，公证处工作日延长服务至晚上八点。"))
    r["/robots.txt"] = loopback.static(b"User-agent: *\nDisallow: /private/\n", "text/plain")
    return r


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Crawl:
    db_url: str
    server: loopback.Server
    runs: dict[str, dict[str, Any]]
    second: dict[str, dict[str, Any]]
    health: dict[str, dict[str, Any]]
    env: dict[str, str]
    workdir: Path


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "yuqing.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    pages = require_shared("pages")
    server = loopback.start(routes(pages))
    base = server.base
    workdir = tmp_path_factory.mktemp("crawl")
    config = {
        "crawl": {"autothrottle": False, "retries": 1, "max_page_bytes": 4 * 1024 * 1024},
        "sources": [
            {"name": "gbk_site", "kind": "site", "url": f"{base}/gbk/index.html", "timeout": 2},
            {"name": "pager", "kind": "site", "url": f"{base}/pager/1", "max_pages": 3,
             "selectors": {"links": "a.item::attr(href)", "next_page": "a.next::attr(href)"}},
            {"name": "rss", "kind": "feed", "url": f"{base}/feed.xml"},
            {"name": "atom", "kind": "feed", "url": f"{base}/atom.xml"},
            {"name": "weibo", "kind": "api", "url": f"{base}/api/search",
             "mapping": "weibo_mobile_search", "platform": "weibo"},
            {"name": "search", "kind": "search", "keywords": ["法律援助", "公证"],
             "url_template": f"{base}/search?q={{keyword}}&page={{page}}",
             "selectors": {"links": "div.result a::attr(href)"}},
            {"name": "search_scheme", "kind": "search", "scheme": "法考舞弊泄题",
             "url_template": f"{base}/search2?q={{keyword}}&page={{page}}",
             "selectors": {"links": "div.result a::attr(href)"}},
            {"name": "down", "kind": "site", "url": f"http://127.0.0.1:{closed_port()}/",
             "max_failures": 1},
            {"name": "hotline", "kind": "import",
             "columns": {"text": "诉求内容", "title": "标题", "published_at": "受理时间",
                         "id": "工单编号"}},
        ],
    }
    (workdir / "yuqing.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    db_url = f"sqlite:///{workdir / 'crawl.db'}"
    env = {"PATH": "/usr/bin:/bin", "YUQING_DATABASE_URL": db_url,
           "YUQING_CONFIG": str(workdir / "yuqing.yaml")}
    assert _cli(env, workdir, "init").returncode == 0
    first = _cli(env, workdir, "crawl", "--json")
    second = _cli(env, workdir, "crawl", "--json")
    for run in (first, second):  # the down source failed: exit 1, one line naming it
        assert run.returncode == 1, run.stderr
        lines = run.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("采集失败 down："), run.stderr
    health = _cli(env, workdir, "sources", "--json")
    assert health.returncode == 0, health.stderr
    yield Crawl(db_url, server, {r["source"]: r for r in json.loads(first.stdout)},
                {r["source"]: r for r in json.loads(second.stdout)},
                {h["name"]: h for h in json.loads(health.stdout)}, env, workdir)
    server.shutdown()
    server.server_close()


def documents(crawl: Crawl, source: str) -> list[Document]:
    engine = make_engine(crawl.db_url)
    with session_scope(make_sessionmaker(engine)) as session:
        docs = list(session.scalars(select(Document).join(Source).where(Source.name == source)
                                    .order_by(Document.url)))
    engine.dispose()
    return docs


def _manifest() -> dict[str, dict[str, Any]]:
    data = json.loads(require_shared("pages", "manifest.json").read_text(encoding="utf-8"))
    return {p["file"]: p for p in data["pages"]}


def _middle_line(name: str) -> str:
    """A body line from the middle of the human-labelled text (decoding, not extraction,
    is under test here), whitespace removed, at most 20 characters."""
    text = require_shared("pages", "expected", name.replace(".html", ".txt")).read_text("utf-8")
    lines = ["".join(line.split()) for line in text.splitlines() if len(line.strip()) >= 15]
    return lines[len(lines) // 2][:20]


@pytest.mark.parametrize("name", GBK_PAGES)
def test_real_gbk_pages_are_stored_with_correct_text_and_time(crawl: Crawl, name: str) -> None:
    expected = _manifest()[name]["expected"]
    doc = next(d for d in documents(crawl, "gbk_site") if d.url.endswith(name))
    assert _middle_line(name) in "".join(doc.content.split())
    year, month, day = (int(n) for n in re.findall(r"\d+", expected["publish_time"])[:3])
    assert doc.published_at is not None
    assert doc.published_at.astimezone(SHANGHAI).date() == date(year, month, day)
    assert doc.snapshot_sha256 is not None and doc.snapshot is not None


def test_a_wrong_charset_header_still_gives_correct_text(crawl: Crawl) -> None:
    doc = next(d for d in documents(crawl, "gbk_site") if d.url.endswith("wrong-charset"))
    assert _middle_line(MISLABELLED) in "".join(doc.content.split())


def test_faults_cost_only_their_page(crawl: Crawl) -> None:
    run = crawl.runs["gbk_site"]
    assert run["new"] >= len(GBK_PAGES) + 1  # the real pages and the mislabelled one
    assert run["errors"] >= 3  # 500, redirect loop, stall (truncated may be kept partially)
    stored = {d.url.rsplit("/", 1)[-1] for d in documents(crawl, "gbk_site")}
    assert not {"500", "loop", "stall"} & stored
    assert crawl.health["gbk_site"]["healthy"] is True
    assert crawl.health["gbk_site"]["last_error"]


def test_a_down_source_is_marked_unhealthy_and_the_crawl_goes_on(crawl: Crawl) -> None:
    assert crawl.runs["down"]["new"] == 0 and crawl.runs["down"]["errors"] >= 1
    health = crawl.health["down"]
    assert health["healthy"] is False and health["consecutive_failures"] == 2
    assert "Connection" in (health["last_error"] or "") or "refused" in (health["last_error"] or "")
    assert crawl.runs["rss"]["new"] == 2  # other sources were crawled in the same run


def test_an_endless_pager_stops_at_max_pages(crawl: Crawl) -> None:
    assert crawl.server.hits.get("/pager/3") and not crawl.server.hits.get("/pager/4")
    assert len(documents(crawl, "pager")) == 3


def test_feed_entries_are_stored_with_canonical_urls_and_times(crawl: Crawl) -> None:
    rss = documents(crawl, "rss")
    assert [d.title for d in rss] == ["市司法局发布公证服务便民措施", "网友投诉法律援助热线长期占线"]
    assert all("utm_source" not in d.url for d in rss)
    assert rss[1].published_at == datetime(2026, 11, 28, 23, 5, tzinfo=timezone.utc)
    assert "预约办证" in rss[0].content and "<p>" not in rss[0].content
    atom = documents(crawl, "atom")[0]
    assert atom.author == "记者甲" and atom.published_at == datetime(2026, 11, 28, 12, 15,
                                                                     tzinfo=timezone.utc)


def test_api_posts_keep_engagement_and_relative_times(crawl: Crawl) -> None:
    posts = {d.url.rsplit("/", 1)[-1]: d for d in documents(crawl, "weibo")}
    assert set(posts) == {"501", "502"}
    assert posts["501"].reposts == 12 and posts["502"].reposts == 12000
    assert posts["501"].platform == "weibo" and "<a" not in posts["501"].content
    assert posts["502"].published_at is not None
    assert posts["502"].fetched_at - posts["502"].published_at < timedelta(minutes=10)


def test_search_templates_are_filled_per_keyword(crawl: Crawl) -> None:
    titles = {d.title for d in documents(crawl, "search")}
    assert titles == {"律师事务所被指违规收费", "公证处延长服务时间"}


def test_a_second_crawl_of_the_same_content_inserts_nothing(crawl: Crawl) -> None:
    assert sum(r["new"] for r in crawl.second.values()) == 0
    assert not crawl.server.hits.get("/pager/2", 0) > 1  # incremental: stops on a known list


def test_import_reads_a_gbk_csv_and_is_idempotent(crawl: Crawl) -> None:
    table = crawl.workdir / "tickets.csv"
    table.write_bytes("工单编号,标题,诉求内容,受理时间\nA1,法援,申请法律援助三次被拒,2026-11-28 09:10\n"
                      "A2,,公证费用收取不透明,昨天 14:00\nA3,空,,2026-11-28\n".encode("gb18030"))
    first = _cli(crawl.env, crawl.workdir, "import", str(table), "--source", "hotline", "--json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["new"] == 2 and len(summary["problems"]) == 1
    again = json.loads(_cli(crawl.env, crawl.workdir, "import", str(table), "--source",
                            "hotline", "--json").stdout)
    assert again["new"] == 0 and again["duplicates"] == 2
    docs = documents(crawl, "hotline")
    assert canonical_url("import://hotline/A1") in {d.url for d in docs}


def test_scrapy_crawl_works_for_scrapy_users(crawl: Crawl) -> None:
    env = {**crawl.env, "SCRAPY_SETTINGS_MODULE": "crawler.scrapy_settings",
           "YUQING_DATABASE_URL": f"sqlite:///{crawl.workdir / 'scrapy.db'}"}
    assert _cli(env, crawl.workdir, "init").returncode == 0
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "feed", "-a", "source=rss"],
                          capture_output=True, text=True, env=env, cwd=crawl.workdir, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    engine = make_engine(env["YUQING_DATABASE_URL"])
    with session_scope(make_sessionmaker(engine)) as session:
        titles = set(session.scalars(select(Document.title)))
    engine.dispose()
    assert titles == {"市司法局发布公证服务便民措施", "网友投诉法律援助热线长期占线"}


def test_scrapy_crawl_of_a_source_being_crawled_fetches_nothing_and_takes_the_lease(
        crawl: Crawl) -> None:
    env = {**crawl.env, "SCRAPY_SETTINGS_MODULE": "crawler.scrapy_settings",
           "YUQING_DATABASE_URL": f"sqlite:///{crawl.workdir / 'scrapy-busy.db'}"}
    assert _cli(env, crawl.workdir, "init").returncode == 0
    sessions = make_sessionmaker(engine := make_engine(env["YUQING_DATABASE_URL"]))
    command = [sys.executable, "-m", "scrapy", "crawl", "feed", "-a", "source=rss"]
    try:
        with session_scope(sessions) as session:  # this test process crawls "rss" right now
            assert acquire(session, "rss", this_process(), datetime.now(timezone.utc))
        busy = subprocess.run(command, capture_output=True, text=True, env=env,
                              cwd=crawl.workdir, timeout=120)
        assert busy.returncode == 0, busy.stderr[-2000:]
        assert f"is being crawled by {this_process()}" in busy.stderr, busy.stderr[-2000:]
        with session_scope(sessions) as session:
            assert session.scalar(select(func.count()).select_from(Document)) == 0
            rss = session.scalar(select(Source).where(Source.name == "rss"))
            # its health is not judged on a crawl that did not run
            assert rss is not None and rss.last_success_at is None and rss.consecutive_failures == 0
            assert holder_of(session, "rss") == this_process()
            release(session, "rss", this_process())
        done = subprocess.run(command, capture_output=True, text=True, env=env,
                              cwd=crawl.workdir, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        with session_scope(sessions) as session:
            assert session.scalar(select(func.count()).select_from(Document)) == 2
            assert holder_of(session, "rss") is None  # taken for the crawl, released after it
    finally:
        engine.dispose()


def test_a_search_source_can_take_its_queries_from_a_keyword_scheme(crawl: Crawl) -> None:
    assert "法考 泄题" in SCHEME_QUERIES and "司法考试 作弊" in SCHEME_QUERIES
    assert len(set(SCHEME_QUERIES)) == len(SCHEME_QUERIES) // 2  # the same queries in both runs


def test_scrapy_crawl_asks_a_scheme_driven_search_the_same_queries_as_yuqing_crawl(
        crawl: Crawl) -> None:
    asked_by_yuqing = sorted(set(SCHEME_QUERIES))
    env = {**crawl.env, "SCRAPY_SETTINGS_MODULE": "crawler.scrapy_settings",
           "YUQING_DATABASE_URL": f"sqlite:///{crawl.workdir / 'scrapy-search.db'}"}
    assert _cli(env, crawl.workdir, "init").returncode == 0
    SCHEME_QUERIES.clear()
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "search", "-a",
                           "source=search_scheme"], capture_output=True, text=True, env=env,
                          cwd=crawl.workdir, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "法考 泄题" in SCHEME_QUERIES, proc.stderr[-3000:]
    assert sorted(SCHEME_QUERIES) == asked_by_yuqing  # each once, none missing or extra
