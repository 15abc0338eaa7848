"""The real daemon's life: its crawls end with it (even on SIGKILL), one crawl of a source runs at
a time across processes, SIGTERM stops it at once and says so, a standby says it stands by."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from crawler.lease import holder_of
from crawler.models import Document
from tests.alerts.conftest import T
from tests.alerts.receivers import Webhook
from tests.crawler import loopback
from tests.yuqing import harness
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.core.migrate import upgrade

ARTICLES = 40


@dataclass
class World:
    workdir: Path
    url: str
    env: dict[str, str]
    server: loopback.Server
    gate: harness.Gate

    def daemon(self, name: str = "a", *extra: str, poll: str = "0.05") -> harness.Daemon:
        return harness.Daemon(self.workdir, self.env, name=name, extra=extra, poll=poll)

    def documents(self) -> int:
        engine = make_engine(self.url)
        with session_scope(make_sessionmaker(engine), readonly=True) as session:
            count = session.scalar(select(func.count()).select_from(Document)) or 0
        engine.dispose()
        return count

    def lease_holder(self) -> str | None:
        engine = make_engine(self.url)
        with session_scope(make_sessionmaker(engine), readonly=True) as session:
            holder = holder_of(session, "bureau_site")
        engine.dispose()
        return holder


@pytest.fixture
def world(tmp_path: Path, webhook: Webhook) -> Iterator[World]:
    gate = harness.Gate()
    server = harness.site(ARTICLES, gate)
    config = {"sources": [harness.site_source(server)], "roster": {
        "admin": "wang", "people": {"wang": {"name": "王", "channels": [webhook.url("/w")]}}}}
    (tmp_path / "yuqing.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    url = f"sqlite:///{tmp_path / 'yuqing.db'}"
    upgrade(url)
    harness.write_clock(tmp_path / "clock", T)
    yield World(tmp_path, url, harness.cli_env(tmp_path, url), server, gate)
    gate.open.set()  # let the held requests finish before the server closes
    harness.stop_server(server)


def _crawl_child(daemon: harness.Daemon, world: World) -> int:
    """The pid of the daemon's crawl, once it is fetching articles."""
    harness.wait_until(lambda: world.gate.waiting >= 1, "the daemon's crawl to fetch articles")
    children = harness.children_of(daemon.pid)
    assert len(children) == 1, children
    return children[0]


def test_a_killed_daemon_takes_its_crawl_with_it_and_a_restart_crawls_once(world: World) -> None:
    first = world.daemon("a")
    first.start()
    try:
        crawl = _crawl_child(first, world)
        workers = harness.children_of(crawl)  # the crawl's storage worker
        first.kill()
        harness.wait_until(lambda: not harness.alive(crawl), "the crawl to end with its daemon")
        harness.wait_until(lambda: not any(harness.alive(w) for w in workers),
                           "the storage worker to end with its crawl")
        in_flight = world.gate.waiting  # requests the killed crawl had sent
        second = world.daemon("b")
        second.start()
        harness.wait_until(lambda: len(harness.children_of(second.pid)) == 1,
                           "the restarted daemon's crawl")
        world.gate.open.set()
        harness.wait_until(lambda: world.documents() == ARTICLES, "the restart's crawl to store")
        assert second.terminate() == 0, second.log()[-3000:]
    finally:
        first.stop()
    hits = harness.article_hits(world.server)
    print(f"article fetches: {hits} for {ARTICLES} pages ({in_flight} in flight at the kill)")
    assert hits <= ARTICLES + in_flight
    assert world.documents() == ARTICLES
    assert world.lease_holder() is None  # released at the end of the crawl


def test_a_hand_crawl_of_a_source_the_daemon_is_crawling_reports_it_busy(world: World) -> None:
    daemon = world.daemon("a")
    daemon.start()
    try:
        crawl = _crawl_child(daemon, world)
        assert world.lease_holder() == f"{socket.gethostname()}:{crawl}"
        by_hand = harness.Command(["crawl", "-s", "bureau_site", "--json"], world.env,
                                  world.workdir)
        assert by_hand.wait() == 3, by_hand.stderr
        assert "bureau_site" in by_hand.stderr and "另一进程" in by_hand.stderr
        assert world.server.hits.get("/list/1.html") == 1  # the busy source was not fetched
        world.gate.open.set()
        harness.wait_until(lambda: world.documents() == ARTICLES, "the daemon's crawl to store")
        assert daemon.terminate() == 0
    finally:
        daemon.stop()
    assert harness.article_hits(world.server) == ARTICLES


def test_sigterm_stops_the_daemon_and_its_crawl_at_once_and_logs_each_step(
        world: World) -> None:
    daemon = world.daemon("a", poll="600")  # a long poll: stopping must not wait for it
    daemon.start()
    try:
        crawl = _crawl_child(daemon, world)  # held by the site: it cannot finish by itself
        code = daemon.terminate(timeout=60)
    finally:
        daemon.stop()
    log = daemon.log()
    assert code == 0, log[-3000:]
    assert not harness.alive(crawl)
    for line in ("received SIGTERM: stopping", f"stopping the crawl of bureau_site (pid {crawl})",
                 "INFO stopped"):
        assert line in log, log[-3000:]


def test_a_standby_scheduler_says_it_stands_by_and_when_it_takes_over(world: World) -> None:
    active, standby = world.daemon("a", "--no-crawl"), world.daemon("b", "--no-crawl")
    active.start()
    try:
        active.wait_caught_up(T)
        standby.start()
        standby.wait_for_log("standing by: another scheduler is active")
        assert active.terminate() == 0
        standby.wait_for_log("taking over as the active scheduler")
        standby.wait_caught_up(T)
        assert standby.terminate() == 0
    finally:
        active.stop()
        standby.stop()
