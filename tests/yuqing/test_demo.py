"""``yuqing demo`` tells the whole story with the real daemon on a simulated internet: the
incident is detected on the simulated sites, graded 重大 by its spread, notified, escalated, its
statement taken through the procedure by three people within 5 h, its press conference missed,
and the report written. ``--quick`` takes fewer steps of simulated time, the same code; with
``--serve`` the dashboard stays open on the demo's data, and a browser opens it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from sqlalchemy import func, select

from alerts.models import Deadline, Notification
from analysis.models import Incident
from crawler.models import Document, Source
from responses.models import Response
from tests.alerts.receivers import free_port
from tests.web.test_browser import PHONE, browser, shot
from yuqing.core.clock import ManualClock, SHANGHAI
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.demo.internet import SimulatedInternet
from yuqing.demo.run import PASSWORD
from yuqing.demo.story import EVENT

__all__ = ["browser"]  # the module-scoped Chromium of the dashboard's browser tests


@dataclass
class Served:
    """``yuqing demo --quick --serve`` running in ``folder``: its output so far, its dashboard."""

    folder: Path
    base_url: str
    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @property
    def stdout(self) -> str:
        return "".join(self.lines)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    proc = subprocess.Popen([sys.executable, "-m", "yuqing.cli", "demo", "--quick", "--serve",
                             "--port", str(port)], cwd=folder, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    run = Served(folder, f"http://127.0.0.1:{port}", proc)

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            run.lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 600
    try:
        while "按 Ctrl+C 结束" not in run.stdout:
            if proc.poll() is not None or time.monotonic() > deadline:
                reader.join(5)
                raise AssertionError(f"the demo did not reach its dashboard (exit "
                                     f"{proc.poll()}):\n{run.stdout[-4000:]}")
            time.sleep(0.1)  # polling a subprocess's output, not waiting for the clock
        while True:  # the dashboard answers once uvicorn has bound the port
            try:
                with urllib.request.urlopen(f"{run.base_url}/healthz", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)  # polling a subprocess's port, not waiting for the clock
        yield run
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_the_quick_demo_tells_the_story_from_first_post_to_a_late_press_conference(
        served: Served) -> None:
    out, tmp_path = served.stdout, served.folder
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



def test_the_demo_dashboard_opens_the_alert_link_and_shows_the_story_and_its_report(
        browser: Any, served: Served, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    engine = make_engine(f"sqlite:///{served.folder / 'var' / 'demo' / 'demo.db'}")
    try:
        with session_scope(make_sessionmaker(engine), readonly=True) as session:
            body = session.scalars(select(Notification.body).where(
                Notification.recipient == "zhang", Notification.status == "sent")
                .order_by(Notification.id)).first()
            incident = session.scalars(select(Incident)).one()
    finally:
        engine.dispose()
    assert body is not None
    found = re.search(r"工作台：(\S+/incidents/\d+)", body)
    assert found is not None, body
    link = found.group(1)  # what the duty officer's phone received
    assert link == f"{served.base_url}/incidents/{incident.id}"

    phone = browser.new_context(**PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=username]", "zhang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(link)
    expect(page.locator("h1")).to_contain_text("78岁")
    expect(page.locator(".heat-chart")).to_be_visible()
    expect(page.locator("#response-1 .response-state")).to_have_text("已发布")
    press = page.locator(f'.clock[data-key="{incident.id}:press_conference:0"]').first
    expect(press).to_have_class(re.compile(r"state-overdue"))
    shot(page, tmp_path, "demo-incident-phone")
    phone.close()

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                               timezone_id="Asia/Shanghai")
    page = desk.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    day = incident.t0.astimezone(SHANGHAI).date()
    period = f"from={day.isoformat()}&to={(day + timedelta(days=1)).isoformat()}"
    page.goto(f"{served.base_url}/login")
    page.fill("input[name=username]", "qian")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{served.base_url}/reports?{period}")
    expect(page.locator(".overall-rate .value")).to_have_text("66.7%")  # 2 of 3 legal clocks
    expect(page.locator('tr.kind[data-kind="press_conference"] .overdue')).to_have_text("1")
    shot(page, tmp_path, "demo-reports-leader")
    desk.close()
    assert errors == []
