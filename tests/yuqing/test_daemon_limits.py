"""A crawl that hangs is stopped at its source's time limit while the clocks' notifications
keep arriving; the status server answers on its local port meanwhile."""

from __future__ import annotations

import json
import socket
import urllib.request
from datetime import timedelta
from pathlib import Path


from alerts.deadlines import report_incident
from alerts.policy import DEFAULT_POLICY
from analysis.models import Severity
from tests.alerts.conftest import T
from tests.alerts.receivers import Inbox, Webhook
from tests.yuqing import harness
from yuqing.core.db import make_engine, make_sessionmaker, session_scope


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_hanging_crawl_is_stopped_at_its_limit_while_alerts_are_delivered(
        tmp_path: Path, webhook: Webhook, inbox: Inbox) -> None:
    gate = harness.Gate()  # never opened during the crawl: every article request hangs
    server = harness.site(5, gate)
    source = {**harness.site_source(server), "time_limit_minutes": 0.1}  # 6 seconds
    url = harness.daemon_world(tmp_path, source, webhook.url, T)
    port = _free_port()
    daemon = harness.Daemon(tmp_path, harness.cli_env(tmp_path, url),
                            extra=("--status-port", str(port)))
    daemon.start()
    try:
        harness.wait_until(lambda: gate.waiting >= 1, "the daemon's crawl to hang on an article")
        [child] = harness.children_of(daemon.pid)

        engine = make_engine(url)  # a major incident while the crawl hangs
        with session_scope(make_sessionmaker(engine)) as session:
            incident = report_incident(session, title="某监狱服刑人员脱逃引发关注",
                                       severity=Severity.MAJOR, t_event=T, urls=[],
                                       actor="zhang", now=T + timedelta(minutes=1),
                                       policy=DEFAULT_POLICY)
        engine.dispose()
        harness.write_clock(tmp_path / "clock", T + timedelta(minutes=2))
        daemon.wait_caught_up(T + timedelta(minutes=2))
        harness.wait_until(lambda: f"{incident.id}:graded-major:zhang" in inbox.keys(),
                           "the duty officer's alert")
        assert child in harness.children_of(daemon.pid), "the alert came while the crawl hung"

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            health = json.loads(answer.read())
        assert health["ok"] and health["scheduler"]["role"] == "active"

        daemon.wait_for_log("stopped at its time limit of 6 s", timeout=60)
        harness.wait_until(lambda: child not in harness.children_of(daemon.pid),
                           "the hung crawl to be gone")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            metrics = answer.read().decode()
        assert 'yuqing_crawls_total{outcome="failed",source="bureau_site"} 1.0' in metrics
    finally:
        gate.open.set()
        daemon.stop()
        harness.stop_server(server)
