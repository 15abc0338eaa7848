"""The daemon's jobs are derived from rows and rebuilt at start; a tick sweeps and delivers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.deadlines import report_incident
from alerts.models import Deadline, Notification
from alerts.policy import DEFAULT_POLICY
from alerts.scheduler import AlertDaemon, Election
from alerts.sweep import AlertSetup
from alerts.transports.apprise_transport import AppriseTransport
from analysis.models import Severity
from tests.alerts.conftest import T
from tests.alerts.receivers import Inbox
from yuqing.core.clock import ManualClock
from yuqing.core.db import session_scope


def daemon_for(factory: sessionmaker[Session], setup: AlertSetup,
               clock: ManualClock) -> AlertDaemon:
    return AlertDaemon(factory, setup, clock, AppriseTransport(), worker="t", poll_seconds=60)


def test_jobs_are_rebuilt_from_the_rows_and_never_dropped_as_misfired(
        factory: sessionmaker[Session], setup_for: AlertSetup) -> None:
    clock = ManualClock(T + timedelta(minutes=30))
    with session_scope(factory) as session:
        report_incident(session, title="网传某社区矫正对象脱管", severity=Severity.MAJOR,
                        t_event=T, urls=[], actor="alice", now=clock(), policy=DEFAULT_POLICY)
        rows = session.scalars(select(Deadline)).all()
    daemon = daemon_for(factory, setup_for, clock)
    assert daemon.reconcile() == len(rows)
    daemon.scheduler.start(paused=True)  # job defaults apply once the scheduler has started
    jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
    daemon.scheduler.shutdown(wait=False)
    assert {f"deadline-{r.id}" for r in rows} <= set(jobs)
    for job in jobs.values():
        assert job.misfire_grace_time is None and job.coalesce is True
    assert str(daemon.scheduler.timezone) == "Asia/Shanghai"


def test_a_tick_sweeps_and_delivers_to_the_receivers(
        factory: sessionmaker[Session], setup_for: AlertSetup, inbox: Inbox) -> None:
    clock = ManualClock(T + timedelta(minutes=30))
    with session_scope(factory) as session:
        incident = report_incident(session, title="网传某社区矫正对象脱管",
                                   severity=Severity.MAJOR, t_event=T, urls=[], actor="alice",
                                   now=clock(), policy=DEFAULT_POLICY)
    daemon = daemon_for(factory, setup_for, clock)
    first = daemon.tick()
    clock.advance(timedelta(hours=3, minutes=30))  # 12:00, the 60-minute reminder
    second = daemon.tick()
    assert (first.delivery.sent, second.delivery.sent) == (1, 2)  # + Bob: Alice never acked
    assert sorted(inbox.keys()) == [f"{incident.id}:graded-major:alice",  # type: ignore[type-var]
                                    f"{incident.id}:graded-major:bob",
                                    f"{incident.id}:statement:0:remind-60:alice"]
    with session_scope(factory) as session:
        assert set(session.scalars(select(Notification.status))) == {"sent"}


def test_only_one_daemon_is_elected_per_database(factory: sessionmaker[Session]) -> None:
    engine = factory.kw["bind"]
    first, second = Election(engine), Election(engine)
    try:
        assert first.try_acquire() is True
        assert second.try_acquire() is False
        first.release()
        assert second.try_acquire() is True
    finally:
        first.release()
        second.release()
