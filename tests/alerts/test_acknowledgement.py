"""An acknowledgement belongs to the incident: the whole chain (sweep, sender, real SMTP and
webhook receivers on loopback) across an ack, on injected time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from alerts.deadlines import report_incident
from alerts.models import ClockKind
from alerts.notify import DeliveryPolicy, deliver_due
from alerts.policy import DEFAULT_POLICY
from alerts.sweep import AlertSetup, acknowledge, sweep
from alerts.transports.apprise_transport import AppriseTransport
from analysis.models import Severity
from tests.alerts.conftest import T, roster_data
from tests.alerts.receivers import Arrival, Inbox, Webhook, free_port
from tests.responses.publishing import record_publication
from yuqing.core.clock import ManualClock
from yuqing.core.db import session_scope

H = timedelta(hours=1)
M = timedelta(minutes=1)
TITLE = "网传某戒毒所民警殴打戒毒人员"


class Chain:
    """The real sweep and sender on a manual clock, as the daemon runs them at each moment."""

    def __init__(self, factory: sessionmaker[Session], setup: AlertSetup, inbox: Inbox,
                 delivery: DeliveryPolicy = DeliveryPolicy()) -> None:
        self.factory, self.setup, self.inbox, self.delivery = factory, setup, inbox, delivery
        self.clock = ManualClock(T)
        inbox.stamp = self.clock  # each arrival records the simulated time it came at

    def report(self, at: datetime) -> int:
        self.clock.current = at
        with session_scope(self.factory) as session:
            incident = report_incident(session, title=TITLE, severity=Severity.MAJOR, t_event=T,
                                       urls=[], actor="alice", now=at, policy=DEFAULT_POLICY)
            return incident.id

    def run_until(self, end: datetime, every: timedelta = 5 * M) -> None:
        while self.clock() < end:
            self.clock.advance(min(every, end - self.clock()))
            with session_scope(self.factory) as session:
                sweep(session, self.clock(), self.setup)
            deliver_due(self.factory, self.clock, AppriseTransport(), self.setup, worker="test",
                        policy=self.delivery)

    def ack(self, incident_id: int, by: str) -> None:
        with session_scope(self.factory) as session:
            acknowledge(session, incident_id, by, self.clock(), self.setup.roster)

    def to(self, path: str) -> list[Arrival]:
        return [a for a in self.inbox.arrivals if a.channel == path]


def test_after_an_ack_no_reminder_escalates_and_an_overdue_clock_escalates_as_overdue(
        factory: sessionmaker[Session], setup_for: AlertSetup, inbox: Inbox) -> None:
    chain = Chain(factory, setup_for, inbox)
    incident = chain.report(T + 3 * H + 50 * M)  # the statement falls due at T+5h
    chain.run_until(T + 3 * H + 55 * M)
    chain.ack(incident, "alice")
    chain.run_until(T + 5 * H + 40 * M)
    titles = [a.title for a in chain.to("/alice")]
    assert [t.split("：")[0] for t in titles] == [
        "新重大舆情事件", "首次权威信息发布 还剩 60 分钟截止", "首次权威信息发布 还剩 30 分钟截止",
        "首次权威信息发布 还剩 10 分钟截止", "首次权威信息发布 已到截止时间",
        "首次权威信息发布 已超时（第 1 次提醒）"]
    assert chain.to("/bob") == []  # the reminders queued after the ack did not escalate
    chain.run_until(T + 5 * H + 45 * M)  # overdue-1 has waited the 15-minute timeout
    [escalated] = chain.to("/bob")
    assert escalated.title.startswith("【升级·已超时】首次权威信息发布 已超时")
    assert "未确认" not in escalated.title
    assert escalated.key == f"{incident}:statement:0:overdue-1:bob"
    assert escalated.stamp == T + 5 * H + 45 * M
    chain.run_until(T + 6 * H + 5 * M)  # overdue-2 reminds alice; still overdue: carol hears
    assert [a.key for a in chain.to("/carol")] == [f"{incident}:statement:0:overdue-1:carol"]
    assert chain.to("/alice")[-1].key == f"{incident}:statement:0:overdue-2:alice"
    assert len(chain.to("/bob")) == 1  # repeats after the first overdue notice only remind


def test_reminders_after_an_ack_go_to_the_person_who_acknowledged(
        factory: sessionmaker[Session], setup_for: AlertSetup, inbox: Inbox) -> None:
    chain = Chain(factory, setup_for, inbox)
    incident = chain.report(T + 3 * H + 50 * M)
    chain.run_until(T + 3 * H + 55 * M)
    chain.ack(incident, "bob")  # the section head takes the incident over
    chain.run_until(T + 4 * H + 40 * M)
    assert [a.key for a in chain.to("/bob")] == [f"{incident}:statement:0:remind-60:bob",
                                                  f"{incident}:statement:0:remind-30:bob"]
    assert [a.key for a in chain.to("/alice")] == [f"{incident}:graded-major:alice"]
    chain.run_until(T + 5 * H + 35 * M)  # overdue-1 went to bob, waiting to go up to carol
    with session_scope(factory) as session:  # published late: overdue escalation stops there
        record_publication(session, incident, ClockKind.STATEMENT, T + 5 * H + 35 * M,
                           actor="bob", now=T + 5 * H + 35 * M,
                           url="https://sfj.example.gov.cn/xwfb/1.html")
    chain.run_until(T + 6 * H)
    assert [a.key for a in chain.to("/carol")] == []
    assert [a.key for a in chain.to("/bob")][-2:] == [f"{incident}:statement:0:due:bob",
                                                       f"{incident}:statement:0:overdue-1:bob"]


def test_without_an_ack_a_reminder_escalates_naming_the_person_not_the_roster_key(
        factory: sessionmaker[Session], setup_for: AlertSetup, inbox: Inbox) -> None:
    chain = Chain(factory, setup_for, inbox)
    incident = chain.report(T + 3 * H + 50 * M)
    chain.run_until(T + 4 * H + 15 * M)
    keys = [a.key for a in chain.to("/bob")]
    assert keys == [f"{incident}:graded-major:bob", f"{incident}:statement:0:remind-60:bob"]
    title = chain.to("/bob")[-1].title
    assert title.startswith("【升级·值班员值班员甲未确认】首次权威信息发布 还剩 60 分钟截止")
    assert "alice" not in title


def test_after_an_ack_a_reminder_nobody_could_receive_still_goes_up_at_once(
        factory: sessionmaker[Session], webhook: Webhook, inbox: Inbox) -> None:
    dead = f"json://127.0.0.1:{free_port()}/alice"  # nothing listens there
    setup = AlertSetup(roster=roster_data({"alice": [dead], "bob": [webhook.url("/bob")],
                                           "carol": [webhook.url("/carol")], "dan": []}))
    chain = Chain(factory, setup, inbox, DeliveryPolicy(attempts_per_channel=1))
    incident = chain.report(T + 3 * H + 50 * M)
    chain.run_until(T + 3 * H + 55 * M)
    chain.ack(incident, "alice")
    chain.run_until(T + 4 * H + 5 * M)  # remind-60 at 04:00 fails on alice's only channel
    [escalated] = chain.to("/bob")
    assert escalated.key == f"{incident}:statement:0:remind-60:bob"
    assert escalated.title.startswith("【升级·值班员值班员甲无法送达】首次权威信息发布 还剩 60 分钟")
    assert escalated.stamp == T + 4 * H + 5 * M  # the tick after the failure, not a timeout later
    chain.run_until(T + 4 * H + 40 * M)
    assert chain.to("/carol") == []  # acknowledged: bob's copy does not climb for want of an ack
