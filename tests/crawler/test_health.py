"""Source health: failures in a row and silence past the configured limit make a source
unhealthy; a success resets the count."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from crawler.health import record_run
from crawler.service import source_health
from crawler.sources import SourceConfig, sync_sources

T = datetime(2026, 11, 29, 0, 0, tzinfo=timezone.utc)


def _source(session: Session, **overrides: object) -> int:
    cfg = SourceConfig.model_validate({"name": "bureau", "kind": "site",
                                       "url": "http://127.0.0.1/", **overrides})
    return sync_sources(session, [cfg], T)[0].id


def test_failures_in_a_row_make_a_source_unhealthy_and_a_success_heals_it(
        session: Session) -> None:
    sid = _source(session, max_failures=2)
    first = record_run(session, sid, items=0, errors=1, pages=0, last_error="HTTP 500", now=T)
    assert first.healthy and first.consecutive_failures == 1
    second = record_run(session, sid, items=0, errors=1, pages=0, last_error="HTTP 500",
                        now=T + timedelta(hours=1))
    assert not second.healthy and second.last_error == "HTTP 500"
    healed = record_run(session, sid, items=3, errors=0, pages=4, last_error=None,
                        now=T + timedelta(hours=2))
    assert healed.healthy and healed.consecutive_failures == 0
    assert healed.last_success_at == T + timedelta(hours=2)


def test_silence_past_the_limit_is_unhealthy_even_without_errors(session: Session) -> None:
    sid = _source(session, silence_hours=6)
    record_run(session, sid, items=2, errors=0, pages=3, last_error=None, now=T)
    record_run(session, sid, items=0, errors=0, pages=3, last_error=None, now=T + timedelta(hours=5))
    by_name = {h.name: h for h in source_health(session, T + timedelta(hours=5))}
    assert by_name["bureau"].healthy
    later = {h.name: h for h in source_health(session, T + timedelta(hours=6, minutes=1))}
    assert not later["bureau"].healthy


def test_a_page_error_with_items_is_not_a_failed_run(session: Session) -> None:
    sid = _source(session)
    row = record_run(session, sid, items=5, errors=1, pages=6, last_error="timeout", now=T)
    assert row.consecutive_failures == 0 and row.last_error == "timeout"


def test_an_unhealthy_spell_is_recorded_as_a_coverage_gap_from_the_last_success(
        session: Session) -> None:
    from crawler.health import coverage_gaps, refresh_all

    sid = _source(session, max_failures=2)
    record_run(session, sid, items=4, errors=0, pages=4, last_error=None, now=T)
    for hour in (1, 2):
        record_run(session, sid, items=0, errors=1, pages=0, last_error="HTTP 503",
                   now=T + timedelta(hours=hour))
    gaps = coverage_gaps(session, T, T + timedelta(days=1))
    assert [(name, gap.started_at, gap.ended_at) for name, gap in gaps] == [("bureau", T, None)]
    assert "HTTP 503" in gaps[0][1].reason
    assert refresh_all(session, T + timedelta(hours=3)) == []  # still the same spell
    record_run(session, sid, items=1, errors=0, pages=1, last_error=None,
               now=T + timedelta(hours=4))
    closed = coverage_gaps(session, T, T + timedelta(days=1))[0][1]
    assert closed.ended_at == T + timedelta(hours=4)


def test_silence_opens_a_gap_when_health_is_refreshed(session: Session) -> None:
    from crawler.health import refresh_all

    sid = _source(session, silence_hours=6)
    record_run(session, sid, items=2, errors=0, pages=2, last_error=None, now=T)
    changes = refresh_all(session, T + timedelta(hours=7))
    assert [(c.source, c.healthy, c.since) for c in changes] == [("bureau", False, T)]
    assert "没有新内容" in changes[0].reason


def test_a_run_is_judged_by_the_pages_it_could_use_not_by_responses(session: Session) -> None:
    # The list page was read; three article pages failed and nothing new was found: the source
    # works (its errors are kept), whereas a run that could use no page at all failed.
    sid = _source(session, max_failures=1)
    read = record_run(session, sid, items=0, errors=3, pages=1, last_error="HTTP 500", now=T)
    assert read.consecutive_failures == 0 and read.last_success_at == T
    assert read.last_error == "HTTP 500"
    none = record_run(session, sid, items=0, errors=1, pages=0, last_error="feed truncated",
                      now=T + timedelta(hours=1))
    assert none.consecutive_failures == 1 and none.last_success_at == T and not none.healthy
