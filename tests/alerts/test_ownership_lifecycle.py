"""谁主管谁负责 and the incident's life, over real databases: an incident escalates to the head
of the section that owns its topic; closing stops its reminders and escalations, reopening
resumes them, and both are audited with the person who did it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.deadlines import IncidentError, report_incident
from alerts.models import ClockKind, Notification
from alerts.policy import DEFAULT_POLICY
from alerts.roster import import_roster, parse_roster
from alerts.sweep import AlertSetup, acknowledge, sweep
from analysis.incidents import IncidentTerms, open_incident
from analysis.models import Incident, Severity
from tests.responses.publishing import record_publication
from analysis.ownership import DEFAULT_OWNERSHIP, TOPICS, load_ownership
from tests.alerts.conftest import T
from yuqing.core.models import AuditEvent
from yuqing.core.people import PeopleError, PermissionDenied, UnknownPerson
from yuqing.services.lifecycle import close, reopen

H = timedelta(hours=1)
M = timedelta(minutes=1)
NOTARY = "律师公证工作管理科"


def two_sections() -> dict[str, Any]:
    """Alice (办公室) on duty; Bob heads 办公室, Zhou heads 律师公证工作管理科; Carol deputy."""
    people = {key: {"name": name, "section": section, "channels": [f"json://127.0.0.1:9/{key}"]}
              for key, name, section in (("alice", "值班员甲", "办公室"), ("bob", "科长乙", "办公室"),
                                         ("zhou", "周科长", NOTARY), ("carol", "副局长丙", None),
                                         ("dan", "管理员丁", None))}
    return {"people": people, "sections": {"办公室": "bob", NOTARY: "zhou"},
            "deputy_leader": "carol", "admin": "dan",
            "shifts": [{"person": "alice", "start": "2026-11-28 20:00",
                        "end": "2026-11-30 20:00"}]}


SETUP = AlertSetup(roster=two_sections())


def reported(session: Session, topic: str | None) -> Incident:
    return report_incident(session, title="网传某公证处违规办理继承公证引发家属维权",
                           severity=Severity.MAJOR, t_event=T, urls=[], actor="alice",
                           now=T + 30 * M, policy=DEFAULT_POLICY, topic=topic)


def escalated_to(session: Session, incident: Incident) -> list[str]:
    return [e.details["to"] for e in session.scalars(select(AuditEvent).where(
        AuditEvent.action == "alert.escalate", AuditEvent.object_id == str(incident.id))
        .order_by(AuditEvent.id))]


def test_a_notary_incident_escalates_to_the_notary_sections_head(session: Session) -> None:
    incident = reported(session, "notary")
    assert incident.owning_section == NOTARY
    sweep(session, T + 30 * M, SETUP)
    sweep(session, T + 45 * M, SETUP)  # 15 minutes without acknowledgement
    assert escalated_to(session, incident) == ["zhou"]  # not bob, the duty officer's head


def test_a_topic_whose_section_has_no_head_falls_back_to_the_duty_officers(
        session: Session) -> None:
    incident = reported(session, "exam")  # 法律职业资格管理处: nobody heads it on this roster
    assert incident.owning_section == "法律职业资格管理处"
    sweep(session, T + 30 * M, SETUP)
    sweep(session, T + 45 * M, SETUP)
    assert escalated_to(session, incident) == ["bob"]


def test_analysis_opens_incidents_with_their_owner_and_the_policy_snapshot(
        session: Session) -> None:
    terms = IncidentTerms({"ack_timeout_minutes": 5}, load_ownership({"notary": "公证科"}))
    incident = open_incident(session, title="网传公证员收取高额费用", severity=Severity.SERIOUS,
                             topic="notary", documents=[], now=T, terms=terms)
    assert incident.owning_section == "公证科"
    assert incident.policy_snapshot == {"ack_timeout_minutes": 5}


def test_the_ownership_map_refuses_an_unknown_topic_and_knows_every_classifier_topic() -> None:
    from analysis.classify import TOPICS as CLASSIFIER_TOPICS

    assert TOPICS == CLASSIFIER_TOPICS
    assert set(DEFAULT_OWNERSHIP.root) == set(TOPICS)
    with pytest.raises(ValueError, match="notry"):
        load_ownership({"notry": "公证科"})
    assert load_ownership({}).section_for("lawyer") == NOTARY
    assert load_ownership({}).section_for(None) is None


def people_imported(session: Session) -> None:
    import_roster(session, parse_roster(two_sections()), source="test", actor="dan", now=T)


def test_the_life_open_acknowledged_responding_closed_and_reopened(session: Session) -> None:
    people_imported(session)
    incident = reported(session, "notary")
    assert incident.status == "open"
    acknowledge(session, incident.id, "alice", T + 40 * M, SETUP.roster)
    assert incident.status == "acknowledged"
    record_publication(session, incident.id, ClockKind.STATEMENT, T + 3 * H, actor="alice",
                       now=T + 3 * H, url="https://sfj.example.gov.cn/xwfb/2.html")
    assert incident.status == "responding"
    done = close(session, incident.id, by="周科长", reason="已发布权威信息，舆情平息", now=T + 4 * H)
    assert (done.status, done.by) == ("closed", "zhou")
    assert (incident.closed_at, incident.closed_by) == (T + 4 * H, "zhou")
    assert incident.close_reason == "已发布权威信息，舆情平息"
    back = reopen(session, incident.id, by="alice", reason="当事人家属再次发帖", now=T + 5 * H)
    assert back.status == "acknowledged" and incident.closed_at is None
    actions = [(e.action, e.actor) for e in session.scalars(select(AuditEvent).where(
        AuditEvent.object_id == str(incident.id), AuditEvent.action.in_(
            ["incident.close", "incident.reopen"])).order_by(AuditEvent.id))]
    assert actions == [("incident.close", "zhou"), ("incident.reopen", "alice")]


def test_closing_stops_reminders_and_escalations_and_reopening_resumes_them(
        session: Session) -> None:
    people_imported(session)
    incident = reported(session, "notary")
    sweep(session, T + 30 * M, SETUP)  # graded-major to alice, escalates at T+45
    close(session, incident.id, by="alice", reason="误报：系演练信息", now=T + 40 * M)
    sweep(session, T + 5 * H + 30 * M, SETUP)  # past the escalation and the statement's due
    assert {k for k in session.scalars(select(Notification.idempotency_key))} == {
        f"{incident.id}:graded-major:alice"}
    assert escalated_to(session, incident) == []
    reopen(session, incident.id, by="alice", reason="经核实并非演练", now=T + 5 * H + 40 * M)
    sweep(session, T + 5 * H + 40 * M, SETUP)
    sent = set(session.scalars(select(Notification.idempotency_key)))
    assert escalated_to(session, incident) == ["zhou"]  # the held escalation goes on
    assert f"{incident.id}:statement:0:overdue-1:alice" in sent  # the clock runs again


@pytest.mark.parametrize(("by", "error"), [("路人甲", UnknownPerson), ("dan", PermissionDenied)])
def test_closing_by_an_unknown_person_or_a_wrong_role_changes_nothing(
        session: Session, by: str, error: type[PeopleError]) -> None:
    people_imported(session)
    incident = reported(session, "notary")
    with pytest.raises(error) as raised:
        close(session, incident.id, by=by, reason="已处置", now=T + H)
    assert "\n" not in str(raised.value) and by in str(raised.value)
    assert incident.status == "open" and incident.closed_at is None


def test_closing_needs_a_reason_and_an_open_incident(session: Session) -> None:
    people_imported(session)
    incident = reported(session, None)
    with pytest.raises(IncidentError, match="理由"):
        close(session, incident.id, by="alice", reason="  ", now=T + H)
    close(session, incident.id, by="alice", reason="已处置", now=T + H)
    with pytest.raises(IncidentError, match="已关闭"):
        close(session, incident.id, by="alice", reason="再关一次", now=T + 2 * H)
