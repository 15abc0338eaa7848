"""The timeliness report's figures, built from a month of incidents in a real database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from responses.report import ReportSources, Scope, build_report, read_publications
from responses.timeliness import Cause, Outcome
from tests.responses.conftest import (AS_OF, FIRST_POST_URL, PERIOD, PRESS_URL, RESPONSE_URL,
                                      STATEMENT_URL, Month, bj)


def test_it_counts_the_periods_incidents_by_severity_and_topic_without_drills(
        session: Session, month: Month) -> None:
    report = build_report(session, PERIOD, now=AS_OF)
    assert report.incidents == 3
    assert dict(report.by_severity_topic) == {("major", "exam"): 1, ("serious", "legal_aid"): 1,
                                              ("major", "notary"): 1}
    assert {t.incident_id for t in report.timelines} == {month.a, month.b, month.c}


def test_it_gives_each_clock_kind_its_outcomes_and_on_time_rate(
        session: Session, month: Month) -> None:
    report = build_report(session, PERIOD, now=AS_OF)
    kinds = {k.kind: (k.due, k.on_time, k.late, k.overdue) for k in report.kinds}
    assert kinds == {"statement": (2, 1, 0, 1), "press_conference": (2, 0, 1, 1),
                     "response": (1, 0, 1, 0), "follow_up": (2, 0, 0, 2)}
    assert report.kinds[0].on_time_rate == pytest.approx(0.5)
    assert (report.overall.due, report.overall.on_time) == (5, 1)  # 持续发布 apart
    assert report.kinds[0].link == "/clocks?from=2026-11-01&to=2026-11-30&kind=statement"


def test_it_measures_time_to_statement_detection_lag_and_acknowledgement(
        session: Session, month: Month) -> None:
    report = build_report(session, PERIOD, now=AS_OF)
    # A: statement at T0+4 h; B: response at T0+51 h; C: none.
    assert sorted(report.to_statement.values) == [4.0, 51.0]
    assert (report.to_statement.median, report.to_statement.p90) == (27.5, 51.0)
    assert report.without_statement == 1
    assert sorted(report.detection_lag.values) == [1.0, 1.0, 50.0]
    assert report.detection_lag.median == 1.0
    assert report.to_acknowledge.values == (0.5,)
    assert (report.press.required, report.press.held, report.press.held_on_time) == (2, 1, 0)


def test_the_late_list_names_section_officer_cause_and_evidence(
        session: Session, month: Month) -> None:
    report = build_report(session, PERIOD, now=AS_OF)
    late = {(c.incident_id, c.kind): c for c in report.late}
    assert set(late) == {(month.a, "press_conference"), (month.b, "response"),
                         (month.c, "statement"), (month.c, "press_conference")}
    press = late[(month.a, "press_conference")]
    assert (press.outcome, press.causes, press.section, press.officer, press.evidence) == (
        Outcome.LATE, (Cause.PUBLISHED_LATE,), "法律职业资格管理处", "alice", PRESS_URL)
    assert press.overrun_hours == pytest.approx(6.0)
    response = late[(month.b, "response")]
    assert (response.causes, response.section, response.evidence) == (
        (Cause.DETECTED_LATE,), "公共法律服务处", RESPONSE_URL)
    statement = late[(month.c, "statement")]
    assert (statement.outcome, statement.causes, statement.section, statement.officer) == (
        Outcome.OVERDUE, (Cause.GRADED_LATE,), "未指定", None)
    assert late[(month.c, "press_conference")].causes == (Cause.NOT_PUBLISHED,)
    # C's follow-up #1 runs from its unmet statement's due (T0+5 h), provisionally.
    assert [(g.incident_id, g.sequence, g.due_at) for g in report.follow_up_gaps] == [
        (month.a, 1, bj(11, 3, 13)), (month.c, 1, bj(11, 17, 14))]


def test_the_timeline_shows_t0_candidates_acknowledgement_and_publications_with_links(
        session: Session, month: Month) -> None:
    report = build_report(session, PERIOD, now=AS_OF)
    timelines = {t.incident_id: t for t in report.timelines}
    a = [(e.at, e.what, e.link) for e in timelines[month.a].events]
    assert (bj(11, 2, 9), "事件发生（T0 候选）", f"/incidents/{month.a}") in a
    assert (bj(11, 2, 10), "系统发现", f"/incidents/{month.a}") in a
    assert (bj(11, 2, 10, 30), "确认", f"/incidents/{month.a}#acknowledgements") in a
    assert (bj(11, 2, 13), "发布：首次权威信息发布", STATEMENT_URL) in a
    assert (bj(11, 3, 15), "发布：新闻发布会", PRESS_URL) in a
    assert [e.at for e in timelines[month.a].events] == sorted(e.at for e in
                                                               timelines[month.a].events)
    b = {e.what: e.link for e in timelines[month.b].events}
    assert b["首条网帖（T0 候选）"] == FIRST_POST_URL
    c = [e.what for e in timelines[month.c].events]
    assert "定级：一般" in c and "定级：重大" in c
    assert all(e.link for t in report.timelines for e in t.events)


def test_a_publication_not_yet_swept_still_meets_its_clock(session: Session,
                                                           month: Month) -> None:
    from tests.responses.publishing import record_publication
    from alerts.models import ClockKind

    record_publication(session, month.c, ClockKind.STATEMENT, bj(11, 20, 9), actor="alice",
                       now=bj(11, 20, 9), url="https://sfj.example.gov.cn/c.html")
    report = build_report(session, PERIOD, now=AS_OF)
    late = {(c.incident_id, c.kind): c for c in report.late}
    assert late[(month.c, "statement")].outcome is Outcome.LATE


def test_a_report_for_an_earlier_moment_knows_only_what_was_known_then(
        session: Session, month: Month) -> None:
    report = build_report(session, PERIOD, now=bj(11, 2, 12))
    statement = report.kinds[0]
    assert (statement.due, statement.pending) == (0, 1)  # A's statement not yet due, nor met
    assert report.to_statement.values == ()


def test_the_publication_and_approval_sources_plug_in(session: Session, month: Month) -> None:
    def approvals(session: Session, scope: Scope) -> dict[tuple[int, str], datetime]:
        return {(month.a, "press_conference"): bj(11, 3, 12)}  # approved after its 09:00 due

    sources = ReportSources(publications=read_publications, approvals=approvals)
    report = build_report(session, PERIOD, now=AS_OF, sources=sources)
    press = next(c for c in report.late if c.incident_id == month.a)
    assert press.causes == (Cause.APPROVAL_LATE,)


def test_the_trend_buckets_clocks_by_week(session: Session, month: Month) -> None:
    report = build_report(session, PERIOD, now=AS_OF)
    overall = {p.bucket.isoformat(): (p.due, p.on_time) for p in report.trend if p.kind is None}
    assert overall == {"2026-11-02": (2, 1), "2026-11-09": (1, 0), "2026-11-16": (2, 0)}
    assert report.as_of - AS_OF == timedelta(0)


def test_an_incident_stored_without_a_section_gets_its_topics_owner(session: Session,
                                                                    month: Month) -> None:
    from analysis.ownership import DEFAULT_OWNERSHIP

    report = build_report(session, PERIOD, now=AS_OF, ownership=DEFAULT_OWNERSHIP)
    sections = {c.incident_id: c.section for c in report.late}
    # A and B keep the section stored with them; C (stored without one) gets notary's owner.
    assert sections == {month.a: "法律职业资格管理处", month.b: "公共法律服务处",
                        month.c: "律师公证工作管理科"}
