"""``yuqing demo`` tells the whole story with the real daemon on a simulated internet: the
incident is detected on the simulated sites, graded 重大 by its spread, notified, escalated, its
statement taken through the procedure by three people within 5 h, its press conference missed,
and the report written. ``--quick`` takes fewer steps of simulated time, the same code."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import docx
import pytest
from sqlalchemy import func, select

from alerts.models import Deadline, Notification
from analysis.models import Incident
from crawler.models import Document, Source
from responses.models import Response
from tests.conftest import CliResult
from yuqing.core.clock import ManualClock, SHANGHAI
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.demo.internet import SimulatedInternet
from yuqing.demo.story import EVENT


def test_the_quick_demo_tells_the_story_from_first_post_to_a_late_press_conference(
        run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    result = run_cli("demo", "--quick", timeout=600)
    assert result.code == 0, result.stderr + result.stdout[-3000:]
    out = result.stdout
    assert "通知 → 张值班：新重大舆情事件" in out  # the duty officer's alert, at the catcher
    assert "【升级·值班员张值班未确认】" in out  # not acknowledged in 15 minutes: up a rung
    assert "【升级·已超时】新闻发布会" in out  # the missed press conference goes up too
    for step in ("值班员确认预警", "业务科室起草并提交情况通报", "政务公开办公室审核",
                 "分管局领导审批", "在局网站发布并登记发布地址"):
        assert step in out
    assert "var/reports/demo-timeliness.docx" in out

    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'demo' / 'demo.db'}")
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            incident = session.scalars(select(Incident)).one()  # one event, one incident
            clocks = {d.kind: d for d in session.scalars(select(Deadline).where(
                Deadline.incident_id == incident.id, Deadline.sequence == 0))}
            response = session.scalars(select(Response)).one()
            sent = session.scalar(select(func.count()).select_from(Notification).where(
                Notification.status == "sent"))
            gbk = session.scalars(select(Document).where(Document.url.like("%/news/e5.html"))).one()
            platforms = set(session.scalars(select(Document.platform)))
            own = session.scalars(select(Source).where(Source.own_channel.is_(True))).one()
            own_docs = session.scalars(select(Document.url).where(
                Document.source_id == own.id)).all()
    finally:
        engine.dispose()
    assert incident.severity == "major" and incident.topic == "notary"
    assert incident.owning_section == "律师公证工作管理科"
    first_post = _story_start(out) + timedelta(minutes=EVENT[0].at_minutes)
    assert incident.t0 == first_post and incident.t0_source == "t_first_post"
    statement, press = clocks["statement"], clocks["press_conference"]
    assert statement.due_at == first_post + timedelta(hours=5)
    assert statement.met_at is not None and statement.met_at <= statement.due_at  # on time
    assert press.due_at == first_post + timedelta(hours=24) and press.met_at is None  # late
    assert response.state == "published" and response.published_url is not None
    assert response.published_url.endswith("/sfj/xwfb/s1.html")
    assert response.snapshot is not None  # the bureau page fetched as the evidence
    assert len({response.drafted_by, response.reviewed_by, response.approved_by}) == 3
    assert any(url.endswith("/sfj/xwfb/s1.html") for url in own_docs)  # crawled afterwards too
    assert sent is not None and sent >= 5
    assert "委托书公证书系公证处工作人员与房产中介串通伪造" in gbk.content  # GBK, decoded
    assert {"news", "weibo", "forum"} <= platforms

    report = docx.Document(str(tmp_path / "var" / "reports" / "demo-timeliness.docx"))
    cells = [c.text for t in report.tables for row in t.rows for c in row.cells]
    assert "按时完成" in cells and "逾期未完成" in cells
    html = (tmp_path / "var" / "reports" / "demo-timeliness.html").read_text(encoding="utf-8")
    assert "时限：首次权威信息发布 按时完成" in _text(html)
    assert "时限：新闻发布会 逾期未完成" in _text(html)
    log = (tmp_path / "var" / "demo" / "daemon.log").read_text(encoding="utf-8")
    assert "received SIGTERM: stopping" in log and log.rstrip().endswith("stopped")


def test_the_simulated_internet_serves_each_item_from_its_time_in_its_own_form() -> None:
    start = datetime(2026, 12, 3, 22, 0, tzinfo=SHANGHAI)
    clock = ManualClock(start + timedelta(minutes=30))
    with SimulatedInternet(start, clock) as net:
        posts = _json(f"{net.base_url}/weibo/api/search?q=%E5%85%AC%E8%AF%81")["data"]["cards"]
        assert [c["mblog"]["user"]["screen_name"] for c in posts][0] == "小陈的日常"
        assert "e5" not in _get(f"{net.base_url}/news/index.html").decode()  # not yet out
        clock.advance(timedelta(hours=2))
        listing = _get(f"{net.base_url}/news/index.html").decode()
        assert "/news/e5.html" in listing
        page = _get(f"{net.base_url}/news/e5.html")
        assert "charset='gbk'" in page.decode("gbk") and "伪造委托书" in page.decode("gbk")
        with pytest.raises(UnicodeDecodeError):
            page.decode("utf-8")
        feed = _get(f"{net.base_url}/rss/feed.xml").decode()
        assert "<pubDate>" in feed and "假委托书" in feed
        with pytest.raises(urllib.error.HTTPError) as missing:
            _get(f"{net.base_url}/news/nope.html")
        assert missing.value.code == 404
        missing.value.close()


def _story_start(out: str) -> datetime:
    marker = "模拟时间从 "
    at = out.index(marker) + len(marker)
    return datetime.strptime(out[at:at + 16], "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as answer:
        body: bytes = answer.read()
    return body


def _json(url: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(_get(url))
    return data

