"""The audit chain verifies when untouched and names the first altered or removed row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from tests.conftest import CliResult
from yuqing.core import audit
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.core.migrate import upgrade

T = datetime(2026, 11, 29, 0, 0, tzinfo=timezone.utc)


def _write_log(url: str, rows: int = 5) -> None:
    upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    for i in range(rows):
        with session_scope(sessions) as session:
            audit.record(session, actor="alice", action="incident.ack", object_type="incident",
                         object_id=i, details={"note": f"第{i}次确认"}, now=T + timedelta(minutes=i))
    engine.dispose()


def _verify(url: str) -> audit.VerifyResult:
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        result = audit.verify(session)
    engine.dispose()
    return result


def _execute(url: str, sql: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


def test_it_verifies_an_untouched_log(db_url: str) -> None:
    _write_log(db_url)
    result = _verify(db_url)
    assert result.ok and result.checked == 5


def test_cli_names_the_row_edited_in_the_database(
        run_cli: Callable[..., CliResult], sqlite_url: str) -> None:
    _write_log(sqlite_url)
    assert run_cli("audit", "verify", env={"YUQING_DATABASE_URL": sqlite_url}).code == 0
    _execute(sqlite_url, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    result = run_cli("audit", "verify", "--json", env={"YUQING_DATABASE_URL": sqlite_url})
    assert result.code == 1
    assert '"bad_seq": 3' in result.stdout
    assert "altered" in result.stdout


def test_it_names_a_removed_row(db_url: str) -> None:
    _write_log(db_url)
    _execute(db_url, "DELETE FROM audit_events WHERE seq = 2")
    result = _verify(db_url)
    assert not result.ok and result.bad_seq == 2
    assert result.problem is not None and "removed" in result.problem


def test_it_notices_rows_cut_from_the_end(db_url: str) -> None:
    _write_log(db_url)
    _execute(db_url, "DELETE FROM audit_events WHERE seq = 5")
    result = _verify(db_url)
    assert not result.ok and result.bad_seq == 5


def test_details_edited_in_place_are_caught(db_url: str) -> None:
    _write_log(db_url)
    _execute(db_url, "UPDATE audit_events SET details = '{\"note\": \"x\"}' WHERE seq = 4")
    result = _verify(db_url)
    assert not result.ok and result.bad_seq == 4
