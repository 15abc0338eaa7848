"""The sweep over real databases: outbox rows, downtime catch-up, acknowledgement, escalation."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.deadlines import IncidentError, change_severity, correct_t0, report_incident
from alerts.models import ClockKind, Deadline, Notification, T0Change
from alerts.policy import DEFAULT_POLICY
from alerts.sweep import AlertSetup, acknowledge, sweep
from analysis.models import Incident, Severity
from tests.alerts.conftest import T, roster_data
from tests.responses.publishing import record_publication
from yuqing.core.models import AuditEvent

H = timedelta(hours=1)
M = timedelta(minutes=1)
CHANNELS = {name: [f"json://127.0.0.1:9/{name}"] for name in ("alice", "bob", "carol", "dan")}
SETUP = AlertSetup(roster=roster_data(CHANNELS))


def report(session: Session, severity: Severity = Severity.MAJOR, at: datetime = T + 30 * M,
           t_event: datetime | None = T) -> Incident:
    return report_incident(session, title="某看守所在押人员非正常死亡引发网络关注",
                           severity=severity, t_event=t_event, urls=["https://example.org/1"],
                           actor="alice", now=at, policy=DEFAULT_POLICY)


def keys(session: Session, person: str | None = None) -> set[str]:
    found = set(session.scalars(select(Notification.idempotency_key)))
    return {k for k in found if person is None or k.endswith(f":{person}")}


def test_it_writes_one_outbox_row_per_step_and_recipient(session: Session) -> None:
    incident = report(session)
    sweep(session, T + 30 * M, SETUP)
    assert keys(session) == {f"{incident.id}:graded-major:alice"}
    sweep(session, T + 30 * M, SETUP)
    sweep(session, T + 4 * H, SETUP)
    assert keys(session, "alice") == {f"{incident.id}:graded-major:alice",
                                      f"{incident.id}:statement:0:remind-60:alice"}


def test_it_sends_nothing_before_a_step_is_due(session: Session) -> None:
    incident = report(session)
    sweep(session, T + 30 * M, SETUP)
    sweep(session, T + 4 * H - timedelta(seconds=1), SETUP)
    assert keys(session, "alice") == {f"{incident.id}:graded-major:alice"}


def test_after_downtime_only_the_latest_missed_reminder_is_sent(session: Session) -> None:
    incident = report(session)
    sweep(session, T + 30 * M, SETUP)
    sweep(session, T + 4 * H + 45 * M, SETUP)  # down across the 60- and 30-minute reminders
    assert keys(session, "alice") - {f"{incident.id}:graded-major:alice"} == {
        f"{incident.id}:statement:0:remind-30:alice"}


def test_after_downtime_every_overdue_notice_is_sent_and_reminders_are_moot(
        session: Session) -> None:
    incident = report(session)
    sweep(session, T + 30 * M, SETUP)
    sweep(session, T + 6 * H + 10 * M, SETUP)  # down from 08:30 to 14:10, statement due 13:00
    prefix = f"{incident.id}:statement:0:"
    assert {k for k in keys(session) if k.startswith(prefix)} == {
        prefix + "due:alice", prefix + "overdue-1:alice", prefix + "overdue-2:alice"}
    row = session.scalars(select(Deadline).where(Deadline.kind == "statement")).one()
    assert row.state == "overdue"
    assert row.next_check_at == T + 6 * H + 30 * M  # the third overdue notice


def test_a_clock_row_moves_only_once_for_one_moment(session: Session) -> None:
    incident = report(session)
    first = sweep(session, T + 4 * H, SETUP)
    second = sweep(session, T + 4 * H, SETUP)
    assert first.notifications == 2 and second.notifications == 0  # graded + remind-60
    assert second.incidents == 0  # next_check_at moved past now: nothing selected
    assert session.get(Incident, incident.id) is not None


def test_an_unacknowledged_alert_escalates_along_the_chain(session: Session) -> None:
    incident = report(session)
    sweep(session, T + 30 * M, SETUP)
    sweep(session, T + 44 * M, SETUP)
    assert f"{incident.id}:graded-major:bob" not in keys(session)
    sweep(session, T + 45 * M, SETUP)  # 15 minutes without acknowledgement
    assert f"{incident.id}:graded-major:bob" in keys(session)
    sweep(session, T + 60 * M, SETUP)
    assert f"{incident.id}:graded-major:carol" in keys(session)
    escalations = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "alert.escalate")).all()
    assert [e.details["to"] for e in escalations] == ["bob", "carol"]


def test_acknowledging_stops_escalation_for_lack_of_it_and_overdue_repeats(
        session: Session) -> None:
    incident = report(session)
    sweep(session, T + 30 * M, SETUP)
    sweep(session, T + 5 * H + 30 * M, SETUP)  # statement due and overdue-1 sent
    done = acknowledge(session, incident.id, "alice", T + 5 * H + 35 * M, SETUP.roster)
    assert done.notifications >= 1 and done.person == "alice"
    sweep(session, T + 7 * H, SETUP)
    sent = keys(session)
    assert f"{incident.id}:statement:0:overdue-1:alice" in sent
    assert not any("overdue-2" in k or "overdue-3" in k for k in sent)
    # escalated before the acknowledgement, not after it
    assert f"{incident.id}:graded-major:bob" in sent
    assert f"{incident.id}:statement:0:due:bob" not in sent
    assert not any(k.endswith(":carol") for k in sent)
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.ack")).one()


def test_an_overdue_legal_clock_escalates_after_the_acknowledgement_until_it_is_met(
        session: Session) -> None:
    incident = report(session)
    sweep(session, T + 30 * M, SETUP)
    sweep(session, T + 5 * H + 30 * M, SETUP)  # overdue-1 to alice
    acknowledge(session, incident.id, "alice", T + 5 * H + 35 * M, SETUP.roster)
    sweep(session, T + 5 * H + 45 * M, SETUP)
    escalated = session.scalars(select(Notification).where(
        Notification.idempotency_key == f"{incident.id}:statement:0:overdue-1:bob")).one()
    assert escalated.title.startswith("【升级·已超时】") and "未确认" not in escalated.title
    assert escalated.escalate_cause == "overdue"
    record_publication(session, incident.id, ClockKind.STATEMENT, T + 5 * H + 50 * M,
                       actor="office", now=T + 5 * H + 50 * M, url="https://sfj.example.gov.cn/x")
    sweep(session, T + 6 * H + 30 * M, SETUP)  # met late: no further rung hears of it
    assert not any(k.endswith(":carol") for k in keys(session))
    causes = [e.details["cause"] for e in session.scalars(select(AuditEvent).where(
        AuditEvent.action == "alert.escalate").order_by(AuditEvent.id))]
    assert causes == ["unacknowledged", "overdue"]  # graded-major before the ack, overdue-1


def test_an_empty_duty_slot_alerts_the_leader(session: Session) -> None:
    data = roster_data(CHANNELS)
    data["shifts"] = [{"person": "alice", "start": "2026-11-29 20:00", "end": "2026-11-30 08:00"}]
    incident = report(session)
    sweep(session, T + 30 * M, AlertSetup(roster=data))
    sent = keys(session)
    assert f"{incident.id}:graded-major:bob" in sent  # the alert goes one rung up
    assert any(k.startswith("roster-gap:") and k.endswith(":bob") for k in sent)


def test_raising_severity_starts_new_clocks_from_the_same_t0_overdue_at_once(
        session: Session) -> None:
    incident = report(session, severity=Severity.SERIOUS)
    sweep(session, T + 30 * M, SETUP)
    change_severity(session, incident.id, Severity.MAJOR, actor="bob", reason="转载量激增",
                    now=T + 6 * H)
    sweep(session, T + 6 * H, SETUP)
    statement = session.scalars(select(Deadline).where(Deadline.kind == "statement")).one()
    assert statement.due_at == T + 5 * H and statement.state == "overdue"
    assert f"{incident.id}:statement:0:overdue-2:alice" in keys(session)  # caught up at once
    assert f"{incident.id}:graded-major:alice" in keys(session)


def test_correcting_t0_needs_a_reason_and_keeps_the_old_values(session: Session) -> None:
    incident = report(session)
    sweep(session, T + 30 * M, SETUP)
    with pytest.raises(IncidentError):
        correct_t0(session, incident.id, T - 2 * H, actor="bob", reason=" ", now=T + H)
    correct_t0(session, incident.id, T - 2 * H, actor="bob", reason="当事人家属 06:00 发帖",
               now=T + H)
    sweep(session, T + H, SETUP)
    history = session.scalars(select(T0Change)).one()
    assert history.old_t0 == T and history.new_t0 == T - 2 * H
    assert history.old_due["statement:0"] == (T + 5 * H).isoformat()
    statement = session.scalars(select(Deadline).where(Deadline.kind == "statement")).one()
    assert statement.due_at == T + 3 * H
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "incident.t0")).one()


def test_a_statement_published_in_time_meets_its_clock_and_silences_it(session: Session) -> None:
    incident = report(session)
    sweep(session, T + 30 * M, SETUP)
    record_publication(session, incident.id, ClockKind.STATEMENT, T + 3 * H, actor="office",
                       now=T + 3 * H, url="https://sfj.example.gov.cn/x")
    sweep(session, T + 6 * H, SETUP)
    statement = session.scalars(select(Deadline).where(Deadline.kind == "statement")).one()
    assert statement.state == "met_on_time" and statement.next_check_at is None
    assert not any(":statement:" in k for k in keys(session))


def test_an_unhealthy_source_is_reported_to_the_admin_once_per_outage(session: Session) -> None:
    from alerts.sweep import source_unhealthy

    since = T - 3 * H
    assert source_unhealthy(session, SETUP, source="省司法厅网站", reason="连续 5 次超时",
                            since=since, now=T) == 1
    assert source_unhealthy(session, SETUP, source="省司法厅网站", reason="连续 6 次超时",
                            since=since, now=T + H) == 0
    note = session.scalars(select(Notification).where(Notification.kind == "source_down")).one()
    assert note.recipient == "dan" and "2026-11-29 05:00" in note.body


def _note(session: Session, key: str) -> Notification:
    return session.scalars(select(Notification).where(Notification.idempotency_key == key)).one()


def test_a_late_reminder_says_in_title_and_body_the_time_left_at_its_step(
        session: Session) -> None:
    incident = report(session)
    sweep(session, T + 30 * M, SETUP)
    sweep(session, T + 4 * H + 14 * M, SETUP)  # 14 minutes late for the 60-minute reminder
    note = _note(session, f"{incident.id}:statement:0:remind-60:alice")
    assert "还剩 60 分钟截止" in note.title
    assert "首次权威信息发布：截止 2026-11-29 13:00，剩余 1小时0分" in note.body
    assert "提醒事项：首次权威信息发布 还剩 60 分钟截止" in note.body


def test_a_reminder_caught_up_at_a_late_start_counts_its_real_time_left(session: Session) -> None:
    incident = report(session, at=T + 4 * H + 20 * M)  # reported 40 minutes before the due
    sweep(session, T + 4 * H + 20 * M, SETUP)
    note = _note(session, f"{incident.id}:statement:0:remind-60:alice")
    assert "还剩 40 分钟截止" in note.title and "剩余 40分" in note.body
    assert "60 分钟" not in note.title + note.body


def test_a_new_major_incident_is_swept_before_a_backlog_of_lesser_ones(session: Session) -> None:
    for i in range(6):
        report_incident(session, title=f"某社区调解纠纷引发讨论（{i}）", severity=Severity.SERIOUS,
                        t_event=T, urls=[f"https://bbs.example/{i}"], actor="alice", now=T + M,
                        policy=DEFAULT_POLICY)
    major = report(session, at=T + 2 * M)
    result = sweep(session, T + 3 * M, SETUP, limit=2)
    assert result.incidents == 2
    assert any(k.startswith(f"{major.id}:graded-major:") for k in keys(session))
