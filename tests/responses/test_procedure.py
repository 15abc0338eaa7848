"""The response procedure through the service, on SQLite and PostgreSQL, with the bureau's pages
served on 127.0.0.1 for the evidence: draft → submitted → office review (保密审查) → leader
approval → published; refusals change nothing; a fetch failure closes nothing."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.deadlines import report_incident, sync_incident
from alerts.models import Deadline
from alerts.policy import DEFAULT_POLICY
from analysis.models import Severity
from crawler.sources import SourceConfig, sync_sources
from crawler.store import Item, store_items
from responses.evidence import EvidenceError
from responses.models import Response, ResponseStep
from responses.procedure import ProcedureError
from responses.report import Period, build_report
from responses.timeliness import Cause, Outcome
from tests.crawler import loopback
from yuqing.core.clock import SHANGHAI
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.core.models import AuditEvent
from yuqing.core.users import add_user
from yuqing.services import respond

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI).astimezone(timezone.utc)  # Mon 09:00 Beijing
H = timedelta(hours=1)
STATEMENT_TEXT = ("关于网传我市法律职业资格考试考场泄题的情况通报：11月2日，有网民发帖称我市某考点"
                  "试题泄露。市司法局高度重视，立即会同公安机关核查。经查，该考点试卷保密措施落实到位，"
                  "网传“泄题”系考后截图拼接，相关人员已被依法处理。")
PRESS_TEXT = "市司法局就法律职业资格考试考场秩序问题举行新闻发布会，通报核查结果并答记者问。"
PEOPLE = {"zhou": "section", "wu": "office", "qian": "leader", "liu": "duty_officer"}


def page(title: str, body: str) -> bytes:
    return (f"<html><head><meta charset='utf-8'><title>{title}_市司法局</title></head><body>"
            f"<h1>{title}</h1><div class='info'>来源：市司法局</div><div class='content'>"
            f"<p>{body}</p></div></body></html>").encode()


STATEMENT_PAGE = page("关于网传法考考场泄题的情况通报", STATEMENT_TEXT)
PRESS_PAGE = page("市司法局召开新闻发布会", PRESS_TEXT)


@pytest.fixture
def bureau() -> Iterator[loopback.Server]:
    server = loopback.start({"/xwfb/statement.html": loopback.static(STATEMENT_PAGE),
                             "/xwfb/fabuhui.html": loopback.static(PRESS_PAGE),
                             "/xwfb/gone.html": loopback.status(404)})
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        for name, role in PEOPLE.items():
            add_user(session, name, role, "correct horse battery", actor="admin", now=T0)
    yield factory
    engine.dispose()


def _incident(sessions: sessionmaker[Session]) -> int:
    with session_scope(sessions) as session:
        incident = report_incident(session, title="网传我市法考考场泄题", severity=Severity.MAJOR,
                                   t_event=T0, urls=[], actor="liu", now=T0 + H,
                                   policy=DEFAULT_POLICY)
        incident.topic = "exam"
        return incident.id


def _approved(sessions: sessionmaker[Session], incident: int, kind: str, text: str,
              drafted: datetime, approved: datetime) -> int:
    with session_scope(sessions) as session:
        rid = respond.draft(session, incident, kind, text, "zhou", drafted).id
        respond.submit(session, rid, "zhou", drafted + 10 * timedelta(minutes=1))
        respond.review(session, rid, "wu", approved - 30 * timedelta(minutes=1),
                       confidential_ok=True)
        line = respond.approve(session, rid, "qian", approved)
    assert line.state == "approved" and line.confidential_ok
    return rid


def _state(sessions: sessionmaker[Session], rid: int) -> tuple[str, int, int]:
    with session_scope(sessions, readonly=True) as session:
        row = session.get(Response, rid)
        assert row is not None
        return (row.state, session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
                session.scalar(select(func.count()).select_from(ResponseStep)) or 0)


def test_a_major_incident_answered_through_the_procedure_is_reported_on_time_and_late(
        sessions: sessionmaker[Session], bureau: loopback.Server) -> None:
    incident = _incident(sessions)
    statement = _approved(sessions, incident, "statement", STATEMENT_TEXT, T0 + 2 * H, T0 + 3 * H)
    published = respond.publish(sessions, statement, "wu", at=T0 + 4 * H,
                                url=f"{bureau.base}/xwfb/statement.html",
                                channels=["website", "wechat"], now=T0 + 4 * H)
    assert published.sha256 == hashlib.sha256(STATEMENT_PAGE).hexdigest()
    press = _approved(sessions, incident, "press_conference", PRESS_TEXT, T0 + 10 * H, T0 + 20 * H)
    respond.publish(sessions, press, "zhou", at=T0 + 30 * H, url=f"{bureau.base}/xwfb/fabuhui.html",
                    channels=["press_conference"], now=T0 + 30 * H + 5 * timedelta(minutes=1))
    with session_scope(sessions) as session:
        row = session.get(Response, statement)
        assert row is not None and row.snapshot is not None
        assert gzip.decompress(row.snapshot) == STATEMENT_PAGE and row.evidence_source == "fetched"
        from analysis.models import Incident
        sync_incident(session, session.get(Incident, incident), T0 + 48 * H, fire=False)
        clocks = {d.kind: d for d in session.scalars(select(Deadline).where(
            Deadline.incident_id == incident, Deadline.sequence == 0))}
        assert clocks["statement"].state == "met_on_time"
        assert clocks["statement"].met_at == T0 + 4 * H
        assert clocks["press_conference"].state == "met_late"
        report = build_report(session, Period(T0.date(), T0.date()), now=T0 + 48 * H)
    kinds = {k.kind: k for k in report.kinds}
    assert (kinds["statement"].on_time, kinds["statement"].late) == (1, 0)
    assert (kinds["press_conference"].on_time, kinds["press_conference"].late) == (0, 1)
    assert report.overall.on_time_rate == 0.5
    [late] = report.late
    assert (late.kind, late.outcome, late.causes) == ("press_conference", Outcome.LATE,
                                                      (Cause.PUBLISHED_LATE,))
    assert late.evidence == f"{bureau.base}/xwfb/fabuhui.html"
    [timeline] = report.timelines
    events = {(e.at, e.what): e for e in timeline.events}
    approval = events[(T0 + 3 * H, f"回应 #{statement}（权威信息发布）：领导审批")]
    assert (approval.detail, approval.link) == ("qian", f"/responses/{statement}")
    assert events[(T0 + 4 * H, "发布：首次权威信息发布")].link == (
        f"{bureau.base}/xwfb/statement.html")
    steps = [s.action for s in respond_lines(sessions, incident)[0].steps]
    assert steps == ["draft", "submit", "review", "approve", "publish"]


def respond_lines(sessions: sessionmaker[Session], incident: int) -> list[respond.ResponseLine]:
    with session_scope(sessions, readonly=True) as session:
        return respond.responses_of(session, incident)


def test_an_approval_after_the_due_is_the_cause_of_a_late_press_conference(
        sessions: sessionmaker[Session], bureau: loopback.Server) -> None:
    incident = _incident(sessions)
    press = _approved(sessions, incident, "press_conference", PRESS_TEXT, T0 + 10 * H, T0 + 25 * H)
    respond.publish(sessions, press, "wu", at=T0 + 26 * H, url=f"{bureau.base}/xwfb/fabuhui.html",
                    channels=[], now=T0 + 26 * H)
    with session_scope(sessions, readonly=True) as session:
        report = build_report(session, Period(T0.date(), T0.date()), now=T0 + 27 * H)
    late = {c.kind: c for c in report.late}
    assert late["press_conference"].causes == (Cause.APPROVAL_LATE,)


def test_publishing_an_unapproved_draft_is_refused_before_any_fetch(
        sessions: sessionmaker[Session], bureau: loopback.Server) -> None:
    incident = _incident(sessions)
    with session_scope(sessions) as session:
        rid = respond.draft(session, incident, "statement", STATEMENT_TEXT, "zhou", T0 + 2 * H).id
    before = _state(sessions, rid)
    with pytest.raises(ProcedureError, match="不能发布.*approved by a leader first"):
        respond.publish(sessions, rid, "wu", at=T0 + 3 * H,
                        url=f"{bureau.base}/xwfb/statement.html", channels=[], now=T0 + 3 * H)
    assert _state(sessions, rid) == before
    assert bureau.hits == {}  # refused before the page was fetched


def test_approving_without_the_confidentiality_review_is_refused(
        sessions: sessionmaker[Session]) -> None:
    incident = _incident(sessions)
    with session_scope(sessions) as session:
        rid = respond.draft(session, incident, "statement", STATEMENT_TEXT, "zhou", T0 + 2 * H).id
        respond.submit(session, rid, "zhou", T0 + 2 * H)
    before = _state(sessions, rid)
    with pytest.raises(ProcedureError, match="保密审查"):
        with session_scope(sessions) as session:
            respond.review(session, rid, "wu", T0 + 3 * H, confidential_ok=False)
    with pytest.raises(ProcedureError, match="pass office review and the confidentiality"):
        with session_scope(sessions) as session:
            respond.approve(session, rid, "qian", T0 + 3 * H)
    assert _state(sessions, rid) == before == ("submitted", before[1], before[2])


@pytest.mark.parametrize(("person", "action"), [("liu", "approve"), ("wu", "approve"),
                                                ("zhou", "review"), ("nobody", "approve")])
def test_a_step_by_someone_whose_role_does_not_allow_it_is_refused(
        sessions: sessionmaker[Session], person: str, action: str) -> None:
    incident = _incident(sessions)
    with session_scope(sessions) as session:
        rid = respond.draft(session, incident, "statement", STATEMENT_TEXT, "zhou", T0 + 2 * H).id
        respond.submit(session, rid, "zhou", T0 + 2 * H)
        if action == "approve":
            respond.review(session, rid, "wu", T0 + 2 * H, confidential_ok=True)
    before = _state(sessions, rid)
    with pytest.raises(ProcedureError) as refused:
        with session_scope(sessions) as session:
            if action == "approve":
                respond.approve(session, rid, person, T0 + 3 * H)
            else:
                respond.review(session, rid, person, T0 + 3 * H, confidential_ok=True)
    message = str(refused.value)
    assert ("无权" in message or "人员未知" in message) and "\n" not in message
    assert _state(sessions, rid) == before


def test_a_rejection_sends_the_draft_back_with_its_comment_and_clears_the_review(
        sessions: sessionmaker[Session]) -> None:
    incident = _incident(sessions)
    with session_scope(sessions) as session:
        rid = respond.draft(session, incident, "statement", STATEMENT_TEXT, "zhou", T0 + 2 * H).id
        respond.submit(session, rid, "zhou", T0 + 2 * H)
        respond.review(session, rid, "wu", T0 + 2 * H, confidential_ok=True)
        line = respond.reject(session, rid, "qian", "请补充核查的时间节点", T0 + 3 * H)
    assert (line.state, line.comment, line.confidential_ok) == ("draft", "请补充核查的时间节点",
                                                                False)
    with session_scope(sessions) as session:
        assert respond.submit(session, rid, "zhou", T0 + 4 * H).state == "submitted"
    with pytest.raises(ProcedureError, match="意见"):
        with session_scope(sessions) as session:
            respond.reject(session, rid, "wu", "  ", T0 + 4 * H)


def test_a_failed_fetch_publishes_nothing_and_closes_no_clock(
        sessions: sessionmaker[Session], bureau: loopback.Server) -> None:
    incident = _incident(sessions)
    rid = _approved(sessions, incident, "statement", STATEMENT_TEXT, T0 + 2 * H, T0 + 3 * H)
    before = _state(sessions, rid)
    with pytest.raises(EvidenceError, match="HTTP 404"):
        respond.publish(sessions, rid, "wu", at=T0 + 4 * H, url=f"{bureau.base}/xwfb/gone.html",
                        channels=[], now=T0 + 4 * H)
    assert _state(sessions, rid) == before == ("approved", before[1], before[2])
    with session_scope(sessions, readonly=True) as session:
        met = session.scalars(select(Deadline.met_at).where(
            Deadline.incident_id == incident)).all()
    assert met and all(m is None for m in met)


def test_a_decision_not_to_publish_needs_its_reason_and_filing_and_waives_the_clocks(
        sessions: sessionmaker[Session]) -> None:
    incident = _incident(sessions)
    with pytest.raises(ProcedureError, match="备案"):
        with session_scope(sessions) as session:
            respond.draft(session, incident, "not_published", "涉及未成年人隐私，不予公开。",
                          "zhou", T0 + 2 * H, reason="涉及个人隐私")
    with session_scope(sessions) as session:
        rid = respond.draft(session, incident, "not_published", "涉及未成年人隐私，不予公开。",
                            "zhou", T0 + 2 * H, reason="涉及个人隐私",
                            filing="已报市政府办公厅备案（2026-11-02）").id
        respond.submit(session, rid, "zhou", T0 + 2 * H)
        respond.review(session, rid, "wu", T0 + 2 * H, confidential_ok=True)
        assert respond.approve(session, rid, "qian", T0 + 3 * H).state == "filed"
        reasons = session.scalars(select(Deadline.waived_reason).where(
            Deadline.incident_id == incident)).all()
    assert reasons and all(r and "涉及个人隐私" in r for r in reasons)


def test_a_candidate_from_the_bureaus_own_site_is_confirmed_with_its_crawl_snapshot(
        sessions: sessionmaker[Session]) -> None:
    incident = _incident(sessions)
    url = "https://sfj.example.gov.cn/tzgg/t20261102_1.html"
    with session_scope(sessions) as session:
        [source] = sync_sources(session, [SourceConfig(
            name="bureau_site", kind="site", url="http://127.0.0.1/", own_channel=True)], T0)
        store_items(session, source.id, [Item(
            url=url, title="关于网传法考考场泄题的情况通报", content=STATEMENT_TEXT,
            published_at=T0 + 3 * H, raw=STATEMENT_PAGE)], T0 + 3 * H + timedelta(minutes=20))
    with session_scope(sessions) as session:
        from crawler.models import Document
        doc = session.scalars(select(Document).where(Document.url == url)).one()
        with pytest.raises(ProcedureError, match="无权"):
            respond.confirm_candidate(session, incident, doc.id, "liu", T0 + 4 * H)
        line = respond.confirm_candidate(session, incident, doc.id, "wu", T0 + 4 * H)
        confirmed = doc.id
    with pytest.raises(ProcedureError, match="已确认"):
        with session_scope(sessions) as session:
            respond.confirm_candidate(session, incident, confirmed, "wu", T0 + 4 * H)
    assert (line.state, line.published_at, line.url, line.evidence) == (
        "published", T0 + 3 * H, url, "crawl")
    assert line.sha256 == hashlib.sha256(STATEMENT_PAGE).hexdigest()
    with session_scope(sessions) as session:
        from analysis.models import Incident
        sync_incident(session, session.get(Incident, incident), T0 + 5 * H, fire=False)
        statement = session.scalars(select(Deadline).where(
            Deadline.incident_id == incident, Deadline.kind == "statement")).one()
    assert (statement.state, statement.met_at) == ("met_on_time", T0 + 3 * H)


def test_a_follow_up_restarts_the_cadence_and_an_uploaded_file_can_be_the_evidence(
        sessions: sessionmaker[Session], bureau: loopback.Server, tmp_path: Path) -> None:
    incident = _incident(sessions)
    statement = _approved(sessions, incident, "statement", STATEMENT_TEXT, T0 + 2 * H, T0 + 3 * H)
    respond.publish(sessions, statement, "wu", at=T0 + 4 * H,
                    url=f"{bureau.base}/xwfb/statement.html", channels=["website"],
                    now=T0 + 4 * H)
    follow = _approved(sessions, incident, "follow_up", "调查组已完成现场核查，后续进展将及时发布。",
                       T0 + 12 * H, T0 + 18 * H)
    saved = tmp_path / "进展通报.html"
    saved.write_bytes(PRESS_PAGE)
    line = respond.publish(sessions, follow, "zhou", at=T0 + 20 * H,
                           url="https://sfj.example.gov.cn/xwfb/jinzhan.html",
                           channels=["weibo"], now=T0 + 20 * H, file=saved)
    assert (line.evidence, line.sha256) == ("file", hashlib.sha256(PRESS_PAGE).hexdigest())
    assert "/xwfb/jinzhan.html" not in bureau.hits  # the file stood in for the fetch
    with session_scope(sessions) as session:
        from analysis.models import Incident
        sync_incident(session, session.get(Incident, incident), T0 + 21 * H, fire=False)
        follow_ups = [(d.sequence, d.due_at, d.state) for d in session.scalars(
            select(Deadline).where(Deadline.incident_id == incident,
                                   Deadline.kind == "follow_up").order_by(Deadline.sequence))]
    assert follow_ups == [(1, T0 + 28 * H, "met_on_time"), (2, T0 + 44 * H, "pending")]


def test_a_revocation_explains_a_published_response_of_the_same_incident(
        sessions: sessionmaker[Session], bureau: loopback.Server) -> None:
    incident = _incident(sessions)
    statement = _approved(sessions, incident, "statement", STATEMENT_TEXT, T0 + 2 * H, T0 + 3 * H)
    text = "此前发布的情况通报中考点名称有误，现予撤销并重新发布。"
    with pytest.raises(ProcedureError, match="--corrects"):
        with session_scope(sessions) as session:  # the statement is not published yet
            respond.draft(session, incident, "revocation", text, "zhou", T0 + 5 * H,
                          corrects=statement)
    respond.publish(sessions, statement, "wu", at=T0 + 4 * H,
                    url=f"{bureau.base}/xwfb/statement.html", channels=[], now=T0 + 4 * H)
    with session_scope(sessions) as session:
        line = respond.draft(session, incident, "revocation", text, "zhou", T0 + 5 * H,
                             corrects=statement)
        row = session.get(Response, line.id)
        assert row is not None and (row.corrects_id, row.clock_kind) == (statement, None)
