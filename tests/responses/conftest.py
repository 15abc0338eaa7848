"""A month of incidents built through the real services, for the timeliness report.

November 2026, T0s in Beijing time:

- A 重大 (exam): event Mon 11-02 09:00, reported 10:00; statement published 13:00 (T0+4h, on
  time), press conference 11-03 15:00 (T0+30h, late: published late); no 持续发布 after the
  statement, so follow-up #1 (due T0+4h+24h) is overdue. Acknowledged by alice at 10:30.
- B 较大 (legal_aid): event 11-09 09:00, reported only 11-11 11:00 (after the 48 h response
  clock); response published 11-11 12:00: late, detected late. Its first post is a stored
  document.
- C 一般 → 重大 (notary): event 11-16 09:00, reported 10:00 as 一般, graded 重大 at 15:00 (after
  the 5 h statement due): statement overdue, graded late; press conference due 11-17 09:00,
  overdue; follow-up #1 (from the unmet statement's due) overdue; nothing published.
- D 重大 drill (演练) on 11-20, and E 重大 in October: neither counts.

The report is asked at ``AS_OF`` (12-01 09:00), after a sweep-like sync of every clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from alerts.deadlines import change_severity, report_incident, sync_incident
from alerts.models import ClockKind
from alerts.policy import DEFAULT_POLICY
from alerts.roster import parse_roster
from alerts.sweep import acknowledge
from analysis.models import Incident, IncidentDocument, Severity
from crawler.models import Document
from responses.report import Period
from tests.responses.publishing import record_publication
from yuqing.core.clock import SHANGHAI

PERIOD = Period(datetime(2026, 11, 1).date(), datetime(2026, 11, 30).date())
AS_OF = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI).astimezone(timezone.utc)
STATEMENT_URL = "https://sfj.example.gov.cn/xwfb/20261102/statement.html"
PRESS_URL = "https://sfj.example.gov.cn/xwfb/20261103/fabuhui.html"
RESPONSE_URL = "https://sfj.example.gov.cn/hygq/20261111/huiying.html"
FIRST_POST_URL = "https://bbs.example.com/thread/88231"
SECTIONS = {"exam": "法律职业资格管理处", "legal_aid": "公共法律服务处"}
ROSTER = parse_roster({"people": {"alice": {"name": "值班员甲", "section": "办公室",
                                           "roles": ["duty_officer"]}}})


def bj(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(timezone.utc)


@dataclass(frozen=True)
class Month:
    a: int
    b: int
    c: int
    drill: int
    october: int


def _report(session: Session, title: str, severity: Severity, t_event: datetime,
            now: datetime, topic: str, drill: bool = False) -> Incident:
    incident = report_incident(session, title=title, severity=severity, t_event=t_event,
                               urls=[], actor="alice", now=now, policy=DEFAULT_POLICY,
                               is_drill=drill)
    incident.topic = topic
    incident.owning_section = SECTIONS.get(topic)  # stored as the ownership map had it
    return incident


def _publish(session: Session, incident: Incident, kind: ClockKind, at: datetime,
             url: str) -> None:
    record_publication(session, incident.id, kind, at, actor="alice", now=at, url=url)


def _first_post(session: Session, incident: Incident, at: datetime) -> None:
    doc = Document(url=FIRST_POST_URL, title="网帖", content="正文", published_at=at,
                   fetched_at=at + timedelta(minutes=5), content_hash="h" * 64)
    session.add(doc)
    session.flush()
    session.add(IncidentDocument(incident_id=incident.id, document_id=doc.id, added_at=at))
    incident.t_first_post = at


@pytest.fixture
def month(session: Session) -> Month:
    return build_month(session)


def build_month(session: Session) -> Month:
    a = _report(session, "法考考场疑似泄题引发热议", Severity.MAJOR, bj(11, 2, 9), bj(11, 2, 10),
                "exam")
    acknowledge(session, a.id, "alice", bj(11, 2, 10, 30), ROSTER)
    _publish(session, a, ClockKind.STATEMENT, bj(11, 2, 13), STATEMENT_URL)
    _publish(session, a, ClockKind.PRESS_CONFERENCE, bj(11, 3, 15), PRESS_URL)
    b = _report(session, "法律援助热线长期无人接听", Severity.SERIOUS, bj(11, 9, 9), bj(11, 11, 11),
                "legal_aid")
    _first_post(session, b, bj(11, 9, 20))
    _publish(session, b, ClockKind.RESPONSE, bj(11, 11, 12), RESPONSE_URL)
    c = _report(session, "公证处收费争议", Severity.GENERAL, bj(11, 16, 9), bj(11, 16, 10), "notary")
    change_severity(session, c.id, Severity.MAJOR, actor="bob", reason="转载量激增",
                    now=bj(11, 16, 15))
    drill = _report(session, "【演练】模拟事件", Severity.MAJOR, bj(11, 20, 9), bj(11, 20, 9),
                    "exam", drill=True)
    october = _report(session, "十月事件", Severity.MAJOR, bj(10, 20, 9), bj(10, 20, 9), "prison")
    for incident in (a, b, c, drill, october):
        sync_incident(session, incident, AS_OF, fire=False)
    session.flush()
    return Month(a.id, b.id, c.id, drill.id, october.id)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def pg_or_sqlite_empty(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """An empty database of each kind, not migrated."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return str(request.getfixturevalue("pg_url"))
