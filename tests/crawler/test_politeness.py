"""Politeness and limits, observed from the server's side of a real crawl on 127.0.0.1.

One crawl of several sources runs through the real CLI in a subprocess (Scrapy's reactor
starts once per process); the loopback server records what reached it: paths, User-Agent
headers and how many requests were in flight at once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.crawler import loopback

USER_AGENT = "yuqing-politeness-test/7.3 (+https://example.org/bot)"
PER_DOMAIN = 2
SLOW_PAGES = 12
SLOW_SECONDS = 0.15  # long enough that an unlimited crawler would overlap many requests
RETRIES = 2
BACKOFF = 0.4  # seconds before the first retry; the second waits twice as long
MAX_PAGE_BYTES = 32 * 1024


@dataclass
class Observed:
    """What the server saw: User-Agent headers and the peak of concurrent slow requests."""

    agents: set[str] = field(default_factory=set)
    in_flight: int = 0
    peak: int = 0
    retry_times: list[float] = field(default_factory=list)  # when the failing page was asked
    lock: threading.Lock = field(default_factory=threading.Lock)


def article(title: str, body: str) -> bytes:
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<h1>{title}</h1><div class='info'>发布时间：2026-11-20 09:00 来源：演示网</div>"
            f"<div class='content'><p>{body}</p><p>{body}（续）</p></div></body></html>").encode()


def listing(links: list[str]) -> bytes:
    items = "".join(f"<li><a href='{u}'>{u}</a></li>" for u in links)
    return f"<html><body><ul>{items}</ul></body></html>".encode()


def slow_article(observed: Observed, n: int) -> loopback.Route:
    body = article(f"司法所慢速页面第{n}篇", f"第{n}篇：人民调解员上门化解邻里纠纷。" * 6)

    def route(h: loopback.Handler) -> None:
        with observed.lock:
            observed.in_flight += 1
            observed.peak = max(observed.peak, observed.in_flight)
        try:
            time.sleep(SLOW_SECONDS)  # the server is slow, not the test
            h.reply(200, body)
        finally:
            with observed.lock:
                observed.in_flight -= 1

    return route


def unannounced(body: bytes) -> loopback.Route:
    """A body without Content-Length (ends when the connection closes): the size is only
    known while it streams in."""

    def route(h: loopback.Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(body)
        h.close_connection = True

    return route


def routes(observed: Observed) -> dict[str, loopback.Route]:
    r: dict[str, loopback.Route] = {}

    def recording(route: loopback.Route) -> loopback.Route:
        def wrapped(h: loopback.Handler) -> None:
            with observed.lock:
                observed.agents.add(h.headers.get("User-Agent", ""))
            route(h)
        return wrapped

    r["/robots.txt"] = loopback.static(b"User-agent: *\nDisallow: /private/\n", "text/plain")
    for who in ("obeying", "ignoring"):
        r[f"/{who}/index.html"] = loopback.static(
            listing([f"/{who}/open.html", f"/private/{who}.html"]))
        r[f"/{who}/open.html"] = loopback.static(
            article(f"公开页面（{who}）", "市司法局公开办事指南，欢迎群众查询。" * 4))
        r[f"/private/{who}.html"] = loopback.static(
            article(f"禁止抓取的页面（{who}）", "本页面不允许爬虫访问。" * 4))
    r["/slow/index.html"] = loopback.static(
        listing([f"/slow/{n}.html" for n in range(SLOW_PAGES)]))
    for n in range(SLOW_PAGES):
        r[f"/slow/{n}.html"] = slow_article(observed, n)
    huge = article("超大页面", "这是一段被重复很多次的正文。" * 20_000)  # ≈ 1.7 MB
    r["/big/index.html"] = loopback.static(
        listing(["/big/ok.html", "/big/announced.html", "/big/streamed.html"]))
    r["/big/ok.html"] = loopback.static(article("正常大小的页面", "法律援助中心延长服务时间。" * 10))
    r["/big/announced.html"] = loopback.static(huge)
    r["/big/streamed.html"] = unannounced(huge)
    r["/flaky/index.html"] = loopback.static(listing(["/flaky/ok.html", "/flaky/503.html"]))
    r["/flaky/ok.html"] = loopback.static(article("稳定页面", "公证处发布便民服务新举措。" * 8))
    def unavailable(h: loopback.Handler) -> None:
        with observed.lock:
            observed.retry_times.append(time.monotonic())
        h.reply(503, b"error", "text/plain")

    r["/flaky/503.html"] = unavailable
    return {path: recording(route) for path, route in r.items()}


@dataclass
class Crawl:
    server: loopback.Server
    observed: Observed
    runs: dict[str, dict[str, Any]]
    health: dict[str, dict[str, Any]]


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "yuqing.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    observed = Observed()
    server = loopback.start(routes(observed))
    base = server.base
    workdir = tmp_path_factory.mktemp("politeness")
    config = {
        "crawl": {"autothrottle": False, "download_delay": 0, "concurrent_requests": 16,
                  "concurrent_per_domain": PER_DOMAIN, "retries": RETRIES,
                  "retry_backoff": BACKOFF,
                  "max_page_bytes": MAX_PAGE_BYTES, "user_agent": USER_AGENT},
        "sources": [
            {"name": "obeying", "kind": "site", "url": f"{base}/obeying/index.html",
             "obey_robots": True},
            {"name": "ignoring", "kind": "site", "url": f"{base}/ignoring/index.html",
             "obey_robots": False},
            {"name": "slow", "kind": "site", "url": f"{base}/slow/index.html"},
            {"name": "big", "kind": "site", "url": f"{base}/big/index.html"},
            {"name": "flaky", "kind": "site", "url": f"{base}/flaky/index.html"},
        ],
    }
    (workdir / "yuqing.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    env = {"PATH": "/usr/bin:/bin", "YUQING_DATABASE_URL": f"sqlite:///{workdir / 'p.db'}",
           "YUQING_CONFIG": str(workdir / "yuqing.yaml")}
    assert _cli(env, workdir, "init").returncode == 0
    run = _cli(env, workdir, "crawl", "--json")
    assert run.returncode == 0, run.stderr
    health = _cli(env, workdir, "sources", "--json")
    assert health.returncode == 0, health.stderr
    yield Crawl(server, observed, {r["source"]: r for r in json.loads(run.stdout)},
                {h["name"]: h for h in json.loads(health.stdout)})
    server.shutdown()
    server.server_close()


def test_robots_txt_is_obeyed_when_the_source_says_so(crawl: Crawl) -> None:
    assert crawl.server.hits.get("/robots.txt")
    assert crawl.server.hits.get("/obeying/open.html") == 1
    assert not crawl.server.hits.get("/private/obeying.html")
    assert crawl.runs["obeying"]["new"] == 1


def test_robots_txt_is_ignored_when_the_source_turns_it_off(crawl: Crawl) -> None:
    assert crawl.server.hits.get("/private/ignoring.html") == 1
    assert crawl.runs["ignoring"]["new"] == 2


def test_per_domain_concurrency_is_never_exceeded(crawl: Crawl) -> None:
    assert all(crawl.server.hits.get(f"/slow/{n}.html") == 1 for n in range(SLOW_PAGES))
    assert crawl.runs["slow"]["new"] == SLOW_PAGES
    # the limit is reached (so the crawl did run in parallel) but never passed
    assert crawl.observed.peak == PER_DOMAIN


def test_the_configured_user_agent_reaches_the_server(crawl: Crawl) -> None:
    assert crawl.observed.agents == {USER_AGENT}


def test_a_page_over_the_size_limit_costs_only_that_page(crawl: Crawl) -> None:
    run = crawl.runs["big"]
    assert run["new"] == 1  # the normal page of the same source is stored
    assert run["errors"] == 2  # the announced and the streamed oversized page
    health = crawl.health["big"]
    assert health["healthy"] is True
    assert "/big/" in (health["last_error"] or "")
    assert crawl.runs["slow"]["new"] == SLOW_PAGES  # other sources go on


def test_a_503_is_retried_with_backoff_and_then_given_up(crawl: Crawl) -> None:
    assert crawl.server.hits.get("/flaky/503.html") == RETRIES + 1
    stamps = crawl.observed.retry_times
    gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:])]
    assert len(gaps) == RETRIES
    assert all(gap >= BACKOFF * 2 ** n for n, gap in enumerate(gaps))  # lower bounds only
    run = crawl.runs["flaky"]
    assert run["new"] == 1 and run["errors"] == 1
    assert "503" in (crawl.health["flaky"]["last_error"] or "")
