"""Delivery through apprise to real loopback receivers: retries, fallback, channel health."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.deadlines import report_incident
from alerts.models import ChannelHealth, DeliveryAttempt, Notification
from alerts.notify import DeliveryPolicy, deliver_due, recover_interrupted
from alerts.policy import DEFAULT_POLICY
from alerts.sweep import AlertSetup, sweep
from alerts.transports import NotificationError
from alerts.transports.apprise_transport import AppriseTransport, valid_url
from analysis.models import Severity
from tests.alerts.conftest import T, roster_data
from tests.alerts.receivers import Inbox, Smtp, Webhook, free_port
from yuqing.core.clock import ManualClock
from yuqing.core.db import session_scope

M = timedelta(minutes=1)
POLICY = DeliveryPolicy(attempts_per_channel=3, backoff=timedelta(seconds=20),
                        failing_threshold=3)


def open_major(factory: sessionmaker[Session], setup: AlertSetup, at: datetime) -> int:
    with session_scope(factory) as session:
        incident = report_incident(
            session, title="某司法所工作人员作风问题视频在网络传播", severity=Severity.MAJOR,
            t_event=T, urls=["https://weibo.example/status/1"], actor="alice", now=at,
            policy=DEFAULT_POLICY)
        sweep(session, at, setup)
        return incident.id


def deliver(factory: sessionmaker[Session], setup: AlertSetup, clock: Callable[[], datetime]
            ) -> None:
    deliver_due(factory, clock, AppriseTransport(), setup, worker="test", policy=POLICY)


def test_it_delivers_a_chinese_alert_by_email(factory: sessionmaker[Session], smtp: Smtp,
                                              webhook: Webhook, inbox: Inbox) -> None:
    setup = AlertSetup(roster=roster_data({"alice": [smtp.url()], "bob": [webhook.url("/b")],
                                           "carol": [], "dan": []}),
                       dashboard_url="https://yuqing.sfj.example.gov.cn/")
    clock = ManualClock(T + 30 * M)
    incident_id = open_major(factory, setup, clock())
    deliver(factory, setup, clock)
    [mail] = inbox.arrivals
    assert mail.channel == "smtp" and mail.key == f"{incident_id}:graded-major:alice"
    assert "新重大舆情事件" in mail.title and "某司法所工作人员" in mail.title
    for text in ("等级：重大", "起算时间(T0)：2026-11-29 08:00（事件发生）",
                 "首次权威信息发布：截止 2026-11-29 13:00，剩余 4小时30分",
                 "新闻发布会：截止 2026-11-30 08:00", "https://weibo.example/status/1",
                 f"工作台：https://yuqing.sfj.example.gov.cn/incidents/{incident_id}"):
        assert text in mail.body


def test_a_dead_channel_falls_back_to_the_next_within_the_retry_budget(
        factory: sessionmaker[Session], smtp: Smtp, inbox: Inbox,
        run_cli: Callable[..., object], db_url: str) -> None:
    dead = f"json://127.0.0.1:{free_port()}/down"  # nothing listens there
    setup = AlertSetup(roster=roster_data({"alice": [dead, smtp.url()], "bob": [], "carol": [],
                                           "dan": []}))
    clock = ManualClock(T + 30 * M)
    incident_id = open_major(factory, setup, clock())
    for step in (0, 20, 40):  # tries at +0 s, +20 s, +60 s: the budget is 60 s
        clock.advance(timedelta(seconds=step))
        deliver(factory, setup, clock)
    assert inbox.keys() == []
    deliver(factory, setup, clock)  # same instant: the next channel is due at once
    assert inbox.keys() == [f"{incident_id}:graded-major:alice"]
    result = run_cli("alerts", "--json", env={"YUQING_DATABASE_URL": db_url})
    notes = json.loads(result.stdout)  # type: ignore[attr-defined]
    [note] = [n for n in notes if n["key"] == f"{incident_id}:graded-major:alice"]
    assert note["status"] == "sent" and note["channel"].startswith("mailto://")
    assert "Connection error" in note["error"]
    assert [a["status"] for a in note["delivery"]] == ["failed", "failed", "failed", "sent"]


def test_a_permanent_failure_moves_to_the_next_channel_without_retrying(
        factory: sessionmaker[Session], webhook: Webhook, inbox: Inbox) -> None:
    webhook.status["/gone"] = 404
    setup = AlertSetup(roster=roster_data({"alice": [webhook.url("/gone"), webhook.url("/ok")],
                                           "bob": [], "carol": [], "dan": []}))
    clock = ManualClock(T + 30 * M)
    open_major(factory, setup, clock())
    deliver(factory, setup, clock)
    deliver(factory, setup, clock)
    assert [a.channel for a in inbox.arrivals] == ["/ok"]
    with session_scope(factory) as session:
        attempts = session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()
        assert [(a.status, a.permanent) for a in attempts] == [("failed", True), ("sent", False)]


def test_a_channel_that_keeps_failing_is_reported_to_the_admin(
        factory: sessionmaker[Session], webhook: Webhook, inbox: Inbox) -> None:
    webhook.status["/broken"] = 500
    setup = AlertSetup(roster=roster_data({"alice": [webhook.url("/broken")], "bob": [],
                                           "carol": [], "dan": [webhook.url("/admin")]}))
    clock = ManualClock(T + 30 * M)
    open_major(factory, setup, clock())
    for _ in range(3):
        deliver(factory, setup, clock)
        clock.advance(timedelta(minutes=2))
    deliver(factory, setup, clock)
    [report] = inbox.arrivals
    assert report.channel == "/admin" and "通知渠道故障" in report.title
    with session_scope(factory) as session:
        health = session.scalars(select(ChannelHealth).where(
            ChannelHealth.consecutive_failures > 0)).one()
        assert health.consecutive_failures == 3 and health.reported_at is not None
        failed = session.scalars(select(Notification).where(
            Notification.recipient == "alice")).one()
        assert failed.status == "failed"
        assert failed.escalate_at == health.reported_at  # nobody reached: escalate at once


def test_a_delivery_interrupted_by_a_crash_is_marked_unknown_and_not_resent(
        factory: sessionmaker[Session], webhook: Webhook, inbox: Inbox) -> None:
    setup = AlertSetup(roster=roster_data({"alice": [webhook.url("/alice")], "bob": [],
                                           "carol": [], "dan": []}))
    clock = ManualClock(T + 30 * M)
    open_major(factory, setup, clock())
    with session_scope(factory) as session:  # as if a process claimed it and died
        note = session.scalars(select(Notification)).one()
        note.status, note.next_attempt_at = "sending", None
    with session_scope(factory) as session:
        assert recover_interrupted(session, clock()) == 1
    deliver(factory, setup, clock)
    assert inbox.arrivals == []
    with session_scope(factory) as session:
        assert session.scalars(select(Notification.status)).one() == "unknown"


def test_a_delivery_of_unknown_outcome_is_reported_to_the_admin_once(
        factory: sessionmaker[Session], webhook: Webhook, inbox: Inbox) -> None:
    setup = AlertSetup(roster=roster_data({"alice": [webhook.url("/alice")], "bob": [],
                                           "carol": [], "dan": [webhook.url("/dan")]}))
    clock = ManualClock(T + 30 * M)
    incident_id = open_major(factory, setup, clock())
    with session_scope(factory) as session:  # as if a process claimed it and died
        note = session.scalars(select(Notification)).one()
        note.status, note.next_attempt_at = "sending", None
        lost_id = note.id
    with session_scope(factory) as session:
        assert recover_interrupted(session, clock(), setup) == 1
    with session_scope(factory) as session:  # a second leader finds nothing more to report
        assert recover_interrupted(session, clock(), setup) == 0
    deliver(factory, setup, clock)
    [arrival] = inbox.arrivals
    assert arrival.channel == "/dan" and arrival.title == "【通知结果未知】"
    assert f"事件 #{incident_id} 的通知" in arrival.body and f"编号 {lost_id}" in arrival.body
    assert "无法确认对方是否收到" in arrival.body and "不会重发" in arrival.body
    with session_scope(factory) as session:
        assert session.get_one(Notification, lost_id).status == "unknown"


@pytest.mark.parametrize("url", [
    "dingtalk://abcdefghijklmn1234/", "wecombot://0123456789abcdef", "feishu://abcdefghijklmnop",
    "mailto://user:secret@mail.example.gov.cn?to=duty@example.gov.cn",
    "json://sms-gateway.example:8080/send",
])
def test_apprise_accepts_the_bureau_channel_urls(url: str) -> None:
    assert valid_url(url)


def test_an_unparseable_url_is_a_permanent_error() -> None:
    with pytest.raises(NotificationError) as info:
        AppriseTransport().send("nosuch://x", "标题", "正文")
    assert info.value.permanent


def test_a_major_alert_is_sent_before_a_backlog_of_routine_ones(
        factory: sessionmaker[Session], webhook: Webhook, inbox: Inbox) -> None:
    setup = AlertSetup(roster=roster_data({name: [webhook.url(f"/{name}")]
                                           for name in ("alice", "bob", "carol", "dan")}))
    clock = ManualClock(T + 30 * M)
    with session_scope(factory) as session:
        for i in range(30):  # a backlog of 较大 alerts queued first
            report_incident(session, title=f"某区调解委员会调解纠纷引发网民讨论（{i}）",
                            severity=Severity.SERIOUS, t_event=T, urls=[f"https://bbs.example/{i}"],
                            actor="alice", now=clock(), policy=DEFAULT_POLICY)
        sweep(session, clock(), setup)
        backlog = session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.status == "pending"))
    assert backlog is not None and backlog >= 30
    clock.advance(M)
    major_id = open_major(factory, setup, clock())  # queued last, due last
    deliver_due(factory, clock, AppriseTransport(), setup, worker="test", policy=POLICY, limit=3)
    assert inbox.arrivals, "three notifications were due and delivered"
    assert inbox.arrivals[0].key.startswith(f"{major_id}:graded-major:")
    with session_scope(factory) as session:
        routine_left = session.scalar(select(func.count()).select_from(Notification).where(
            Notification.status == "pending", Notification.incident_id != major_id))
    assert routine_left is not None and routine_left >= backlog - 2
