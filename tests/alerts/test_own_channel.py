"""The bureau's own statements: crawled from an ``own_channel`` source they never open or raise
an incident; they are kept, classified, and offered as candidate publications."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.candidates import candidate_publications
from alerts.intake import analyse_and_start_clocks
from alerts.sweep import AlertSetup
from analysis.models import Classification, Incident, IncidentDocument
from crawler.models import Document
from crawler.sources import SourceConfig, sync_sources
from crawler.store import Item, store_items
from tests.conftest import CliResult
from tests.crawler import loopback

T = datetime(2026, 11, 29, 0, 0, tzinfo=timezone.utc)  # 08:00 in Beijing
H = timedelta(hours=1)
STORY = ("网友发帖称，其弟弟在市强制隔离戒毒所戒毒期间多次遭到民警殴打，肋骨骨折，家属探视时"
         "发现身上多处淤青。家属向戒毒所反映后至今没有答复，要求市司法局彻查涉事民警。")
OPENERS = ["转发：", "扩散！", "太过分了，", "有人管吗？", "【关注】", ""]
STATEMENT_TITLE = "关于网传市强制隔离戒毒所民警殴打戒毒人员的情况通报"
STATEMENT = ("近日，有网民发帖反映市强制隔离戒毒所民警殴打戒毒人员。市司法局高度重视，立即成立"
             "调查组赴该所调查核实。经查，戒毒人员张某与同室人员发生冲突受伤，涉事民警处置不当，"
             "已停职接受调查。我局将依法依规严肃处理，调查结果及时向社会公布。")
ROUTINE_TITLE = "市司法局开展法律援助进社区活动"
ROUTINE = ("为进一步提升群众法律意识，市司法局组织律师和法律援助工作者走进社区，开展法律咨询和"
           "普法宣传，现场解答群众咨询60余人次，发放宣传资料300余份。")


def bureau_page(title: str, when: str, body: str) -> bytes:
    return (f"<html><head><meta charset='utf-8'><title>{title}_市司法局</title></head><body>"
            f"<div class='nav'><a href='/'>首页</a> &gt; 通知公告</div><h1>{title}</h1>"
            f"<div class='info'>发布时间：{when} 来源：市司法局</div>"
            f"<div class='content'><p>{body}</p></div>"
            f"<div class='footer'>主办：市司法局</div></body></html>").encode()


@pytest.fixture
def bureau_site() -> Iterator[loopback.Server]:
    server = loopback.start({
        "/tzgg/index.html": loopback.static(
            b"<html><body><ul><li><a href='/tzgg/t20261201_1.html'>"
            + STATEMENT_TITLE.encode() + b"</a></li></ul></body></html>"),
        "/tzgg/t20261201_1.html": loopback.static(
            bureau_page(STATEMENT_TITLE, "2026-12-01 18:30", STATEMENT)),
    })
    yield server
    server.shutdown()
    server.server_close()


def test_a_crawled_statement_of_the_bureaus_own_site_opens_no_incident(
        run_cli: Callable[..., CliResult], tmp_path: Path, bureau_site: loopback.Server) -> None:
    config = tmp_path / "yuqing.yaml"
    config.write_text(yaml.safe_dump({
        "crawl": {"autothrottle": False, "retries": 0},
        "sources": [{"name": "bureau_site", "kind": "site", "own_channel": True,
                     "url": f"{bureau_site.base}/tzgg/index.html"}]}, allow_unicode=True),
        encoding="utf-8")
    env = {"YUQING_CONFIG": str(config)}
    assert run_cli("init", env=env).code == 0
    crawled = run_cli("crawl", "--json", env=env)
    assert crawled.code == 0, crawled.stderr
    assert [(r["source"], r["new"]) for r in json.loads(crawled.stdout)] == [("bureau_site", 1)]
    analysed = run_cli("analyse", "--json", env=env)
    assert analysed.code == 0, analysed.stderr
    result = json.loads(analysed.stdout)
    assert result["classified"] == 1  # kept and classified ...
    assert result["opened"] == [] and result["raised"] == []  # ... but no incident
    assert json.loads(run_cli("incidents", "list", "--all", "--json", env=env).stdout) == []


def _source(session: Session, name: str, own: bool) -> int:
    config = (SourceConfig(name=name, kind="site", url="http://127.0.0.1/", own_channel=True)
              if own else SourceConfig(name=name, kind="api", url="http://127.0.0.1/",
                                       mapping="weibo_mobile_search"))
    [row] = sync_sources(session, [config], T)
    return row.id


def _reposts(count: int, start: datetime) -> list[Item]:
    return [Item(url=f"https://weibo.example/jd/{n}", title="", platform="weibo",
                 content=f"{OPENERS[n % len(OPENERS)]}{STORY} //@用户{n}", reposts=30 + n,
                 published_at=start + timedelta(minutes=4 * n)) for n in range(count)]


def _own(url: str, title: str, body: str, at: datetime) -> Item:
    return Item(url=f"https://sfj.example.gov.cn/{url}", title=title, content=body,
                published_at=at)


def test_own_statements_never_join_an_incident_and_are_listed_as_its_candidate_responses(
        session: Session) -> None:
    weibo, bureau = _source(session, "weibo", False), _source(session, "bureau_site", True)
    store_items(session, weibo, _reposts(8, T - 2 * H), T)
    [incident_id] = analyse_and_start_clocks(session, AlertSetup(), T).opened
    incident = session.get(Incident, incident_id)
    assert incident is not None and incident.t0 == T - 2 * H
    store_items(session, bureau, [
        _own("tzgg/1.html", STATEMENT_TITLE, STATEMENT, T + 3 * H),
        _own("gzdt/2.html", ROUTINE_TITLE, ROUTINE, T + 3 * H),
        # the same words, but before the first post: it cannot answer this incident
        _own("tzgg/0.html", STATEMENT_TITLE.replace("情况通报", "情况说明"),
             STATEMENT.replace("近日", "上月"), T - 30 * 24 * H)], T + 3 * H)
    later = analyse_and_start_clocks(session, AlertSetup(), T + 3 * H)
    assert later.classified == 3 and later.opened == [] and later.raised == []
    own_docs = select(Document.id).where(Document.source_id == bureau)
    assert session.scalar(select(func.count()).select_from(IncidentDocument).where(
        IncidentDocument.document_id.in_(own_docs))) == 0
    assert session.scalar(select(func.count()).select_from(Classification).where(
        Classification.document_id.in_(own_docs))) == 3
    found = candidate_publications(session, incident_id, T + 3 * H)
    assert [(c.title, c.source, c.published_at) for c in found] == [
        (STATEMENT_TITLE, "bureau_site", T + 3 * H)]
    assert {"戒毒所", "殴打"} <= set(found[0].shared_terms)
    assert candidate_publications(session, incident_id, T + 2 * H) == []  # not published yet
