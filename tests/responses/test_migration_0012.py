"""Migration 0012 moves every clock publication into a published response: the clocks it met
stay met, on SQLite and PostgreSQL, and downgrading gives the rows back."""

from __future__ import annotations

from datetime import datetime, timezone

from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from alerts.deadlines import published_kinds
from alerts.models import ClockKind
from responses.models import Response, ResponseStep
from yuqing.core.db import make_engine
from yuqing.core.migrate import alembic_config

AT = datetime(2026, 11, 2, 5, 0, tzinfo=timezone.utc)


def test_old_publications_become_published_responses_that_still_meet_their_clocks(
        pg_or_sqlite_empty: str) -> None:
    url = pg_or_sqlite_empty
    command.upgrade(alembic_config(url), "0010")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO incidents (id, title, severity, status, detected_at, t0, t0_source, "
            "is_drill, policy_snapshot, created_at) VALUES (1, '网传法考泄题', 'major', 'open', "
            ":at, :at, 't_event', false, '{}', :at)"), {"at": AT})
        conn.execute(text(
            "INSERT INTO clock_publications (incident_id, kind, published_at, url, recorded_by) "
            "VALUES (1, 'statement', :at, 'https://sfj.example.gov.cn/1.html', 'alice'), "
            "(1, 'response', :at, NULL, 'bob')"), {"at": AT})
    command.upgrade(alembic_config(url), "head")
    with Session(engine) as session:
        rows = session.query(Response).order_by(Response.id).all()
        assert [(r.kind, r.clock_kind, r.state, r.published_at, r.published_url, r.published_by,
                 r.evidence_source) for r in rows] == [
            ("statement", "statement", "published", AT, "https://sfj.example.gov.cn/1.html",
             "alice", "migrated"),
            ("clarification", "response", "published", AT, None, "bob", "migrated")]
        assert session.query(ResponseStep).count() == 2
        assert published_kinds(session, 1) == [(ClockKind.STATEMENT, AT),
                                               (ClockKind.RESPONSE, AT)]
    command.downgrade(alembic_config(url), "0010")
    with engine.connect() as conn:
        back = conn.execute(text("SELECT kind, url, recorded_by FROM clock_publications "
                                 "ORDER BY id")).all()
    assert [tuple(r) for r in back] == [("statement", "https://sfj.example.gov.cn/1.html",
                                         "alice"), ("response", None, "bob")]
    engine.dispose()
