"""Units of work commit whole or not at all; times are stored as aware UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from analysis.incidents import open_incident
from analysis.models import Incident, Severity
from crawler.models import Document, Source
from yuqing.core.db import make_sessionmaker, session_scope
from yuqing.core.models import AuditEvent


def _source(now: datetime, name: str = "s") -> Source:
    return Source(name=name, kind="site", created_at=now, config={})


def test_a_failing_unit_of_work_rolls_back_completely(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    with pytest.raises(IntegrityError):
        with session_scope(sessions) as session:
            session.add(_source(now, "first"))
            session.flush()
            open_incident(session, title="t", severity=Severity.MAJOR, topic="exam",
                          documents=[], now=now)
            session.add(_source(now, "first"))  # duplicate name: the whole unit must go
            session.flush()
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 0
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_successful_unit_of_work_is_committed(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    with session_scope(sessions) as session:
        session.add(_source(now))
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 1


def test_it_round_trips_aware_times_as_utc(session: Session) -> None:
    beijing = datetime(2026, 11, 29, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    session.add(_source(beijing))
    session.flush()
    session.expire_all()
    stored = session.scalars(select(Source)).one().created_at
    assert stored.utcoffset() == timedelta(0)
    assert stored == beijing


def test_it_refuses_naive_times(session: Session) -> None:
    session.add(_source(datetime(2026, 11, 29, 8, 0)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_document_urls_are_unique(session: Session) -> None:
    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    for _ in range(2):
        session.add(Document(url="http://127.0.0.1/a", title="a", content="b", fetched_at=now,
                             content_hash="x" * 64))
    with pytest.raises(IntegrityError):
        session.flush()
