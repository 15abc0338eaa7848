"""What the pages show: the board by urgency, the incident with its documents, T0 and audit
trail, acknowledging and correcting T0 through the forms, sources and the roster."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from analysis.models import Severity
from crawler.models import CoverageGap, Source
from tests.web.conftest import START, XSS_BODY, XSS_TITLE, World, csrf_of
from yuqing.core.models import AuditEvent


def test_the_board_lists_open_incidents_most_urgent_first(
        world: World, client_for: Callable[[str | None], TestClient]) -> None:
    later = world.incident("社区矫正对象脱管引发网民关注", Severity.MAJOR,
                           t_event=START - timedelta(minutes=10))
    overdue = world.incident("网传某看守所在押人员非正常死亡", Severity.CRITICAL,
                             t_event=START - timedelta(hours=6))
    general = world.incident("法律援助热线占线投诉", Severity.GENERAL)
    data = client_for("leader").get("/api/incidents").json()
    assert [i["id"] for i in data] == [overdue, later, general]
    statement = data[0]["clocks"][0]
    assert statement["kind"] == "statement" and statement["state"] == "overdue"
    assert statement["seconds_left"] == -3600
    page = client_for("duty_officer").get("/").text
    assert page.index(f"#{overdue} ") < page.index(f"#{later} ") < page.index(f"#{general} ")
    assert "已超时 1小时0分" in page and "剩余 4小时50分" in page
    assert 'data-due="2026-11-29T12:50:00+08:00"' in page  # the later incident's 5 h statement


def test_api_clocks_gives_server_time_and_each_clock_at_the_injected_now(
        world: World, client_for: Callable[[str | None], TestClient]) -> None:
    incident = world.incident(t_event=START)
    client = client_for("section")
    first = client.get("/api/clocks").json()
    assert first["now"] == START.isoformat() and first["poll_seconds"] == 1
    world.clock.advance(timedelta(hours=4, minutes=30))
    clocks = {c["kind"]: c for c in client.get("/api/clocks").json()["clocks"]
              if c["incident_id"] == incident}
    assert clocks["statement"]["seconds_left"] == 1800
    assert clocks["statement"]["state"] == "due_soon"
    assert clocks["press_conference"]["state"] == "pending"


def test_acknowledging_from_the_board_is_recorded_and_audited(
        world: World, client_for: Callable[[str | None], TestClient]) -> None:
    incident = world.incident()
    client = client_for("duty_officer")
    csrf = csrf_of(client.get("/").text)
    response = client.post(f"/incidents/{incident}/ack", data={"csrf": csrf, "next": "/"})
    assert response.status_code == 303
    board = client.get("/").text
    assert "已确认（zhangsan）" in board and "确认收到" not in board
    with world.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.ack")).one()
    assert (event.actor, event.object_id) == ("zhangsan", str(incident))


def test_the_api_acknowledges_with_the_csrf_header(
        world: World, client_for: Callable[[str | None], TestClient]) -> None:
    incident = world.incident()
    client = client_for("section")
    csrf = csrf_of(client.get("/").text)
    done = client.post(f"/api/incidents/{incident}/ack", headers={"x-csrf-token": csrf})
    assert done.status_code == 200
    assert done.json() == {"incident_id": incident, "acknowledged_by": "xuanchuan",
                           "notifications": 0}
    assert client.post("/api/incidents/999/ack", headers={"x-csrf-token": csrf}).status_code \
        == 404


def test_correcting_t0_needs_a_reason_and_keeps_the_old_start(
        world: World, client_for: Callable[[str | None], TestClient]) -> None:
    incident = world.incident(t_event=START - timedelta(hours=1))
    client = client_for("section")  # who may correct T0: yuqing.core.people
    csrf = csrf_of(client.get(f"/incidents/{incident}").text)
    refused = client.post(f"/incidents/{incident}/t0",
                          data={"csrf": csrf, "t_event": "2026-11-29 05:00", "reason": "  "})
    assert refused.status_code == 200 and "必须说明理由" in refused.text
    bad_time = client.post(f"/incidents/{incident}/t0",
                           data={"csrf": csrf, "t_event": "昨天早上", "reason": "核实"})
    assert "not a date-time" in html.unescape(bad_time.text)
    done = client.post(f"/incidents/{incident}/t0", data={
        "csrf": csrf, "t_event": "2026-11-29 05:00", "reason": "经向考点核实，泄题发生于 5 时"})
    assert done.status_code == 303
    page = client.get(f"/incidents/{incident}").text
    assert "2026-11-29 07:00 → 2026-11-29 05:00（经向考点核实，泄题发生于 5 时）" in page
    assert "截止 2026-11-29 10:00" in page  # 5 h from the corrected T0
    with world.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "incident.t0")).one()
    assert event.actor == "xuanchuan" and event.details["reason"].startswith("经向考点核实")


def test_the_incident_page_folds_reposts_under_the_original_and_shows_the_trail(
        world: World, client_for: Callable[[str | None], TestClient]) -> None:
    incident = world.incident()
    original = world.document(incident, "考生爆料：司法考试某考场试题提前流出",
                              "多名考生称开考前在群内看到试题。", "https://weibo.example.cn/1")
    world.document(incident, "转发：司法考试试题提前流出？", "转发微博", "https://weibo.example.cn/2",
                   repost_of=original)
    page = client_for("leader").get(f"/incidents/{incident}").text
    assert "相关文档（1）" in page and "转载 1 篇" in page
    assert page.index("考生爆料") < page.index("转载 1 篇") < page.index("转发：司法考试")
    assert "事件发生时间" in page and "系统发现时间" in page and "当前 T0" in page
    assert "incident.report" in page  # the audit trail
    assert "更正 T0" not in page  # a leader may not correct T0


def test_a_post_without_a_title_is_listed_by_its_first_words(
        world: World, client_for: Callable[[str | None], TestClient]) -> None:
    incident = world.incident()
    body = ("求助！我父亲今年78岁，家里唯一的一套房子上个月被人过户卖掉了，对方拿着一份委托书的"
            "公证书去办的过户，可我父亲根本没签过字。")
    world.document(incident, "", body, "https://m.weibo.example.cn/detail/1")
    world.document(incident, "", "", "https://m.weibo.example.cn/detail/2")
    page = client_for("duty_officer").get(f"/incidents/{incident}").text
    link = re.search(r'<a href="https://m\.weibo\.example\.cn/detail/1"[^>]*>([^<]*)</a>', page)
    assert link is not None and link.group(1) == body[:40] + "…"
    assert re.search(r'detail/2"[^>]*>（无标题）</a>', page)  # nothing to show but the link


def test_a_missing_incident_is_a_404_page(
        client_for: Callable[[str | None], TestClient]) -> None:
    response = client_for("duty_officer").get("/incidents/4040")
    assert response.status_code == 404 and "不存在" in response.text


def test_crawled_markup_renders_as_text_on_the_server(
        world: World, client_for: Callable[[str | None], TestClient]) -> None:
    incident = world.incident()
    world.document(incident, XSS_TITLE, XSS_BODY, "javascript:window.__xss=4")
    page = client_for("duty_officer").get(f"/incidents/{incident}").text
    assert "&lt;script&gt;document.title" in page
    assert "<script>" not in page and "onerror=" not in page.replace("onerror=&#34;", "")
    assert 'href="javascript:' not in page
    assert "javascript:window.__xss=4" in page  # shown as text, not as a link


def test_sources_show_health_last_success_and_coverage_gaps(
        world: World, client_for: Callable[[str | None], TestClient]) -> None:
    def setup(session: object) -> None:
        from sqlalchemy.orm import Session
        assert isinstance(session, Session)
        ok = Source(name="司法局官网", kind="site", config={}, created_at=START,
                    last_success_at=START - timedelta(hours=1),
                    last_item_at=START - timedelta(hours=1))
        down = Source(name="本地论坛", kind="feed", config={}, created_at=START - timedelta(days=5),
                      consecutive_failures=4, last_error="HTTP 503",
                      last_success_at=START - timedelta(days=3),
                      last_item_at=START - timedelta(days=3), healthy=False)
        session.add_all([ok, down])
        session.flush()
        session.add(CoverageGap(source_id=down.id, started_at=START - timedelta(days=3),
                                detected_at=START - timedelta(days=2), reason="连续失败"))
    world.add(setup)
    page = client_for("admin").get("/sources").text
    assert "司法局官网" in page and "正常" in page
    assert "异常：连续 4 次采集失败：HTTP 503" in page
    assert "监测盲区：2026-11-26 08:00 至 现在（连续失败）" in page


def test_the_roster_shows_who_is_on_duty_now_and_next(
        world: World, client_for: Callable[[str | None], TestClient]) -> None:
    page = client_for("leader").get("/roster").text
    assert "张三（宣传科），2026-11-28 08:30 至 2026-11-29 08:30" in page
    assert "李四（宣传科），2026-11-29 08:30 至 2026-11-30 08:30" in page
    world.clock.advance(timedelta(hours=1))
    page = client_for("leader").get("/roster").text
    assert "当前值班" in page and "李四（宣传科），2026-11-29 08:30" in page
    assert "下一班</h2>\n<p>未排班" in page


def test_the_board_computes_every_clock_as_the_domain_listing_does(world: World) -> None:
    from alerts.deadlines import change_severity
    from alerts.models import ClockKind
    from tests.responses.publishing import record_publication
    from yuqing.web import data

    met = world.incident(t_event=START - timedelta(hours=2))
    raised = world.incident("法律援助中心拒绝受理投诉", Severity.SERIOUS)
    world.incident("公证处窗口排长队", Severity.GENERAL)
    world.clock.advance(timedelta(hours=1))
    world.add(lambda s: record_publication(s, met, ClockKind.STATEMENT, world.clock(),
                                           actor="zhangsan", now=world.clock(),
                                           url="https://sfj.example.gov.cn/xwfb/1.html"))
    world.add(lambda s: change_severity(s, raised, Severity.CRITICAL, actor="gongkai",
                                        reason="多家媒体转载", now=world.clock()))
    world.clock.advance(timedelta(hours=30))
    with world.sessions() as session:
        fast = data.clocks(session, world.clock())
        slow = data.clocks_by_domain(session, world.clock())
    assert fast == slow
    assert {c.state for c in fast} >= {"met_on_time", "overdue"}
