"""Alert scheduler benchmark: 10,000 open incidents with their clocks, on SQLite and PostgreSQL.

Run: ``.venv/bin/python bench/alerts.py [--incidents 10000] [--no-postgres]``

For each backend (a throwaway SQLite file; a throwaway PostgreSQL database created next to
``YUQING_TEST_PG_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``):

* seed N open incidents (t_event spread over the last 30 hours; 20 % 特别重大, 50 % 重大,
  30 % 较大) with every deadline row the pure clocks derive, swept up to ``now``;
* **start-up reconciliation**: what ``yuqing run`` does at start — read every row that needs a
  wake-up and derive one APScheduler job per row (``AlertDaemon.reconcile``), then start the
  scheduler (APScheduler processes the pending jobs);
* **idle tick**: one tick when nothing is due (the indexed ``next_check_at`` query, escalations,
  the outbox query);
* **busy tick**: one tick ten minutes later, when the reminders and overdue notices of that
  window fall due: sweep + outbox rows + delivery. Delivery here goes to a transport that only
  counts (``CountingTransport``), so the figure is the database side; real channel latency
  comes on top (a loopback webhook delivery measures ≈ 5 ms each in the tests).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import Engine, create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from alerts.clocks import IncidentView, clocks_for, next_check_at  # noqa: E402
from alerts.models import Deadline, SeverityChange  # noqa: E402
from alerts.policy import DEFAULT_POLICY  # noqa: E402
from alerts.scheduler import AlertDaemon  # noqa: E402
from alerts.sweep import AlertSetup, sweep  # noqa: E402
from analysis.models import Incident, Severity  # noqa: E402
from yuqing.core.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from yuqing.core.migrate import upgrade  # noqa: E402

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=timezone.utc)  # 12:00 Beijing
PG_ADMIN = os.environ.get("YUQING_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SETUP = AlertSetup(roster={
    "people": {"duty": {"name": "值班员", "channels": ["json://127.0.0.1:9/duty"]},
               "head": {"name": "科长", "section": "办公室", "channels": ["json://127.0.0.1:9/h"]}},
    "sections": {"办公室": "head"},
    "shifts": [{"person": "duty", "start": "2026-11-01 00:00", "end": "2026-12-31 00:00"}]})


class CountingTransport:
    """Counts messages instead of sending them (the benchmark measures the database side)."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, url: str, title: str, body: str) -> None:
        self.sent += 1


@dataclass
class Row:
    backend: str
    incidents: int
    deadlines: int
    seed_s: float
    jobs: int
    reconcile_s: float
    start_s: float
    idle_tick_ms: float
    busy_sweep_ms: float
    busy_tick_ms: float
    busy_incidents: int
    busy_notifications: int


def seed(factory: sessionmaker[Session], n: int, rng: random.Random) -> int:
    """Insert n incidents and the deadline rows their clocks derive, as swept at NOW."""
    snapshot = DEFAULT_POLICY.model_dump(mode="json")
    severities = [Severity.CRITICAL] * 2 + [Severity.MAJOR] * 5 + [Severity.SERIOUS] * 3
    incidents, changes, deadlines = [], [], []
    for i in range(1, n + 1):
        t_event = NOW - timedelta(seconds=rng.randrange(30 * 3600))
        detected = t_event + timedelta(minutes=rng.randrange(5, 90))
        detected = min(detected, NOW)
        severity = rng.choice(severities)
        incidents.append(dict(id=i, title=f"基准事件 {i}", severity=severity.value, status="open",
                              t_event=t_event, detected_at=detected, graded_at=detected,
                              t0=t_event, t0_source="t_event", is_drill=False,
                              reported_by="bench", policy_snapshot=snapshot, created_at=detected))
        changes.append(dict(incident_id=i, severity=severity.value, at=detected, actor="bench"))
        view = IncidentView(t_detected=detected, severity_history=[(severity, detected)],
                            t_event=t_event)
        for clock in clocks_for(view, DEFAULT_POLICY, NOW):
            deadlines.append(dict(
                incident_id=i, kind=clock.kind.value, sequence=clock.sequence,
                severity=clock.severity.value, t0=clock.t0, due_at=clock.due_at,
                state=clock.state.value, created_at=detected, checked_at=NOW,
                started_at=clock.started_at, next_check_at=next_check_at([clock], NOW)))
    with session_scope(factory) as session:
        for table, rows in ((Incident, incidents), (SeverityChange, changes),
                            (Deadline, deadlines)):
            for start in range(0, len(rows), 2000):
                session.execute(insert(table), rows[start:start + 2000])
    return len(deadlines)


def measure(backend: str, url: str, n: int) -> Row:
    upgrade(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    try:
        started = time.perf_counter()
        deadlines = seed(factory, n, random.Random(42))
        seed_s = time.perf_counter() - started
        clock_now = [NOW]
        daemon = AlertDaemon(factory, SETUP, lambda: clock_now[0], CountingTransport(),
                             worker="bench", poll_seconds=3600)
        started = time.perf_counter()
        jobs = daemon.reconcile()
        reconcile_s = time.perf_counter() - started
        started = time.perf_counter()
        daemon.scheduler.start(paused=True)  # paused: measure the job store, fire nothing
        start_s = time.perf_counter() - started
        started = time.perf_counter()
        daemon.tick()
        idle_ms = (time.perf_counter() - started) * 1000
        clock_now[0] = NOW + timedelta(minutes=10)
        started = time.perf_counter()
        with session_scope(factory) as session:  # the sweep half of a tick, timed alone
            swept = sweep(session, clock_now[0], SETUP, limit=n)
        sweep_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        busy = daemon.tick()  # the rest: escalations (none yet) and delivering the outbox
        busy_ms = sweep_ms + (time.perf_counter() - started) * 1000
        daemon.scheduler.shutdown(wait=False)
        with session_scope(factory) as session:
            assert session.scalar(select(func.count()).select_from(Incident)) == n
        assert busy.sweep.notifications == 0  # the sweep above took them all
        return Row(backend, n, deadlines, seed_s, jobs, reconcile_s, start_s, idle_ms, sweep_ms,
                   busy_ms, swept.incidents, swept.notifications)
    finally:
        engine.dispose()


def postgres_url() -> tuple[Engine, str, str] | None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 3})
    name = f"yuqing_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any driver/connection failure: report and skip PostgreSQL
        print(f"PostgreSQL skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return None
    return admin, name, PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(measure("sqlite", f"sqlite:///{tmp}/bench.db", args.incidents))
    pg = None if args.no_postgres else postgres_url()
    if pg is not None:
        admin, name, url = pg
        try:
            rows.append(measure("postgresql", url, args.incidents))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print_table(rows)


def print_table(rows: list[Row]) -> None:
    head = ("backend", "incidents", "deadline rows", "seed s", "jobs", "reconcile s",
            "sched start s", "idle tick ms", "busy sweep ms", "busy tick ms", "busy: incidents",
            "busy: notes")
    cells = [(r.backend, f"{r.incidents:,}", f"{r.deadlines:,}", f"{r.seed_s:.1f}",
              f"{r.jobs:,}", f"{r.reconcile_s:.2f}", f"{r.start_s:.2f}",
              f"{r.idle_tick_ms:.1f}", f"{r.busy_sweep_ms:.0f}", f"{r.busy_tick_ms:.0f}",
              str(r.busy_incidents),
              str(r.busy_notifications)) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]
    print(" | ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("-|-".join("-" * w for w in widths))
    for c in cells:
        print(" | ".join(v.ljust(w) for v, w in zip(c, widths)))


if __name__ == "__main__":
    main()
