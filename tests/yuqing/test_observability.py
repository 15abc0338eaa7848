"""The daemon's status server over real HTTP on loopback: /metrics in Prometheus form with the
clocks the database holds, /healthz that fails when the scheduler stops beating or the database
stops answering."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from alerts.deadlines import report_incident
from alerts.policy import DEFAULT_POLICY
from analysis.models import Severity
from tests.alerts.conftest import T
from yuqing.core.clock import ManualClock
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.observability import Observability

H = timedelta(hours=1)


@pytest.fixture
def status(engine: Engine) -> Iterator[tuple[Observability, ManualClock, str]]:
    clock = ManualClock(T)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        report_incident(session, title="某公证处以房养老诈骗事件引发关注", severity=Severity.MAJOR,
                        t_event=T, urls=["https://example.org/notary/1"], actor="zhang",
                        now=T + 0.5 * H, policy=DEFAULT_POLICY)
    obs = Observability(sessions, clock, stale_after=timedelta(minutes=2))
    host, port = obs.serve("127.0.0.1", 0)
    yield obs, clock, f"http://{host}:{port}"
    obs.close()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_count_open_and_overdue_clocks_as_time_passes(
        status: tuple[Observability, ManualClock, str]) -> None:
    obs, clock, base = status
    clock.current = T + 4 * H
    code, body = _get(base + "/metrics")
    assert code == 200
    before = _samples(body)
    assert before[("yuqing_clocks_open", (("kind", "statement"),))] == 1
    assert before[("yuqing_clocks_overdue", (("kind", "statement"),))] == 0
    assert before[("yuqing_incidents_total", ())] == 1
    assert before[("yuqing_database_up", ())] == 1

    clock.current = T + 6 * H  # past the 5-hour statement, inside the 24-hour conference
    after = _samples(_get(base + "/metrics")[1])
    assert after[("yuqing_clocks_overdue", (("kind", "statement"),))] == 1
    assert after[("yuqing_clocks_overdue", (("kind", "press_conference"),))] == 0
    assert after[("yuqing_clocks_open", (("kind", "press_conference"),))] == 1


def test_crawls_are_counted_with_their_duration_and_outcome(
        status: tuple[Observability, ManualClock, str]) -> None:
    obs, _clock, base = status
    obs.crawls.crawled("bureau_site", seconds=12.5, new_documents=7, ok=True)
    obs.crawls.crawled("bureau_site", seconds=3.0, new_documents=0, ok=False)
    samples = _samples(_get(base + "/metrics")[1])
    assert samples[("yuqing_documents_fetched_total", (("source", "bureau_site"),))] == 7
    assert samples[("yuqing_crawls_total", (("outcome", "failed"), ("source", "bureau_site")))] == 1
    assert samples[("yuqing_crawl_duration_seconds_sum", (("source", "bureau_site"),))] == 15.5
    assert samples[("yuqing_crawl_duration_seconds_count", (("source", "bureau_site"),))] == 2


def test_healthz_needs_a_recent_beat_of_the_scheduler(
        status: tuple[Observability, ManualClock, str]) -> None:
    obs, clock, base = status
    code, body = _get(base + "/healthz")
    assert code == 503 and json.loads(body)["scheduler"]["alive"] is False

    obs.heartbeat.beat("standby", clock())
    code, body = _get(base + "/healthz")
    data = json.loads(body)
    assert code == 200 and data["ok"] and data["scheduler"]["role"] == "standby"
    assert data["database"] == {"ok": True}

    clock.advance(timedelta(minutes=3))  # the loop stopped beating
    assert _get(base + "/healthz")[0] == 503


def test_a_database_that_stops_answering_fails_healthz_and_metrics_still_answer() -> None:
    clock = ManualClock(T)
    dead = make_engine("postgresql://postgres@127.0.0.1:9/none", connect_args={
        "connect_timeout": 2})
    obs = Observability(make_sessionmaker(dead), clock)
    obs.heartbeat.beat("active", clock())
    host, port = obs.serve("127.0.0.1", 0)
    try:
        code, body = _get(f"http://{host}:{port}/healthz")
        data = json.loads(body)
        assert code == 503 and data["database"]["ok"] is False and data["database"]["error"]
        code, body = _get(f"http://{host}:{port}/metrics")
        assert code == 200 and _samples(body)[("yuqing_database_up", ())] == 0
        assert _get(f"http://{host}:{port}/nothing")[0] == 404
    finally:
        obs.close()
        dead.dispose()
