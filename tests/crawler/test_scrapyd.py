"""Crawls dispatched to a real Scrapyd node on 127.0.0.1: the egg deploys, a job crawls a
loopback feed into the shared database (health recorded, nothing duplicated on a rerun), and a
job that hangs is cancelled at its time limit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.models import Document, Source
from crawler.scrapyd import Scrapyd, ScrapydError
from crawler.sources import SourceConfig
from tests.crawler import loopback
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.core.migrate import upgrade

pytest.importorskip("scrapyd", reason="scrapyd is not installed (it comes with the dev extra)")

FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>本地论坛</title>
<link>http://127.0.0.1/</link>
<item><title>北湖区公证处被曝违规办理以房养老公证 数十名老人房产被骗</title>
<link>http://127.0.0.1/post/1</link><description>多名老人反映，在公证处办理委托公证后房产被转卖。</description>
<pubDate>Wed, 02 Dec 2026 08:00:00 +0800</pubDate></item>
<item><title>市司法局召开全市人民调解工作推进会</title><link>http://127.0.0.1/post/2</link>
<description>会议部署下一阶段矛盾纠纷排查化解任务。</description>
<pubDate>Wed, 02 Dec 2026 09:30:00 +0800</pubDate></item>
</channel></rss>""".encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Node:
    url: str
    site: loopback.Server
    work: Path
    deployed: subprocess.CompletedProcess[str] | None = None

    def cli(self, *args: str, config: str) -> subprocess.CompletedProcess[str]:
        (self.work / "yuqing.yaml").write_text(config, "utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
        env.update(YUQING_DATABASE_URL=f"sqlite:///{self.work / 'shared.db'}",
                   YUQING_CONFIG=str(self.work / "yuqing.yaml"))
        return subprocess.run([sys.executable, "-m", "yuqing.cli", *args], capture_output=True,
                              text=True, env=env, cwd=self.work, timeout=300)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    work = tmp_path_factory.mktemp("scrapyd")
    port = free_port()
    (work / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\neggs_dir = {work}/eggs\n"
        f"logs_dir = {work}/logs\nitems_dir =\ndbs_dir = {work}/dbs\nmax_proc = 2\n"
        "poll_interval = 0.5\n", "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    errors = open(work / "scrapyd.err", "w")
    proc = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=work, env=env,
                            stdout=subprocess.DEVNULL, stderr=errors)
    url = f"http://127.0.0.1:{port}"
    site = loopback.start({"/rss.xml": loopback.static(FEED, "application/rss+xml"),
                           "/slow.xml": loopback.stalled(60)})
    try:
        deadline = time.monotonic() + 60
        while True:  # Scrapyd is up when its API answers
            try:
                Scrapyd(url, timeout=2).status()
                break
            except ScrapydError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"scrapyd did not start: {(work / 'scrapyd.err').read_text()}")
                time.sleep(0.3)
        upgrade(f"sqlite:///{work / 'shared.db'}")
        node = Node(url, site, work)
        node.deployed = node.cli("scrapyd", "deploy", "--version", "1", config=config(node))
        yield node
    finally:
        proc.terminate()
        proc.wait(30)
        errors.close()
        site.shutdown()
        site.server_close()


def config(node: Node, feed: str = "/rss.xml") -> str:
    return (f"crawl:\n  scrapyd_url: {node.url}\nsources:\n  - name: forum\n    kind: feed\n"
            f"    url: {node.site.base}{feed}\n    obey_robots: false\n    timeout: 90\n")


def test_a_deployed_egg_crawls_into_the_shared_database_once(node: Node) -> None:
    deployed = node.deployed
    assert deployed is not None and deployed.returncode == 0, deployed and deployed.stderr
    assert "feed" in deployed.stdout and "site" in deployed.stdout

    for _ in range(2):  # the second job finds everything stored
        crawled = node.cli("scrapyd", "crawl", "--source", "forum", "--json", config=config(node))
        assert crawled.returncode == 0, crawled.stderr
        assert '"state": "finished"' in crawled.stdout
    engine = make_engine(f"sqlite:///{node.work / 'shared.db'}")
    with session_scope(make_sessionmaker(engine), readonly=True) as session:
        titles = sorted(session.scalars(select(Document.title)))
        source = session.scalars(select(Source).where(Source.name == "forum")).one()
    engine.dispose()
    assert titles == ["北湖区公证处被曝违规办理以房养老公证 数十名老人房产被骗", "市司法局召开全市人民调解工作推进会"]
    assert source.last_success_at is not None and source.consecutive_failures == 0
    assert node.site.hits["/rss.xml"] == 2


def test_a_hanging_job_is_cancelled_at_its_time_limit(node: Node) -> None:
    source = SourceConfig.model_validate({"name": "slow", "kind": "feed", "timeout": 90,
                                          "url": f"{node.site.base}/slow.xml",
                                          "obey_robots": False})
    client = Scrapyd(node.url)
    started = time.monotonic()
    outcome = client.crawl(source, f"sqlite:///{node.work / 'shared.db'}", time_limit=8,
                           poll=0.5)
    assert outcome.state == "killed"
    assert 8 <= time.monotonic() - started < 45
    deadline = time.monotonic() + 30
    while client.state(outcome.job) != "finished":  # the node ends the cancelled job
        assert time.monotonic() < deadline, "the cancelled job did not end"
        time.sleep(0.5)


def test_an_unreachable_node_is_one_clear_line(node: Node) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    result = node.cli("scrapyd", "crawl", "--source", "forum", "--url", dead,
                      config=config(node))
    assert result.returncode == 2
    assert "Scrapyd" in result.stderr and len(result.stderr.strip().splitlines()) == 1
