"""The alert daemon: APScheduler only wakes things up; the database holds the truth.

At start the daemon elects itself (a PostgreSQL advisory lock, or a lock file next to a SQLite
database), marks deliveries interrupted by a crash as ``unknown`` (never resent), and derives one
date job per deadline row from its indexed ``next_check_at`` (plus retries and escalations from
the outbox). Every job just wakes the loop, which runs one tick: ``sweep`` at ``now=clock()``,
then deliver the outbox. Because the sweep fires the steps in ``(checked_at, now]`` of each row,
a step that fell while the process was down fires on start (the latest missed reminder, every
overdue notice); because each step is an outbox row with a UNIQUE idempotency key, claimed by
compare-and-set, no step is delivered twice, even by two daemons on one PostgreSQL database.

APScheduler 3.x pitfalls (DESIGN §9): the default ``misfire_grace_time`` silently drops a date
job whose time passed while the process was down, so every job gets ``misfire_grace_time=None``
and ``coalesce=True``; the zone is explicit, since 3.x otherwise takes the host's.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from alerts.models import Deadline, Notification
from alerts.notify import DeliveryPolicy, DeliveryStats, deliver_due, recover_interrupted
from alerts.sweep import AlertSetup, SweepResult, sweep
from alerts.transports import Transport
from yuqing.core.clock import SHANGHAI
from yuqing.core.db import session_scope

log = logging.getLogger(__name__)

ADVISORY_KEY = 0x79757169  # "yuqi": one active alert scheduler per PostgreSQL database
STANDBY_LOG_EVERY = 600  # election tries (one a second) between "standing by" lines
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}


class Election:
    """Hold the scheduler lock for the life of the process; the OS or server frees it on death."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            conn = self._conn or self.engine.connect()
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                    {"k": ADVISORY_KEY}).scalar())
            conn.commit()
            self._conn = conn
            return got
        path = Path(str(self.engine.url.database or "memory") + ".scheduler.lock")
        handle = self._file or path.open("a", encoding="utf-8")
        self._file = handle
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            # A session-level advisory lock lives as long as the server connection: discard
            # it instead of returning it, still locked, to the pool.
            self._conn.invalidate()
            self._conn.close()
            self._conn = None
        if self._file is not None:
            self._file.close()
            self._file = None


def wake_times(session: Session, now: datetime) -> Iterable[tuple[str, datetime]]:
    """(job id, run date) for every row that needs the daemon at some time."""
    for deadline_id, at in session.execute(select(Deadline.id, Deadline.next_check_at).where(
            Deadline.next_check_at.is_not(None))):
        yield f"deadline-{deadline_id}", at
    for note_id, at in session.execute(select(Notification.id, Notification.next_attempt_at)
                                       .where(Notification.next_attempt_at.is_not(None))):
        yield f"deliver-{note_id}", at
    for note_id, at in session.execute(select(Notification.id, Notification.escalate_at)
                                       .where(Notification.escalate_at.is_not(None))):
        yield f"escalate-{note_id}", at


@dataclass
class TickResult:
    now: datetime
    sweep: SweepResult
    delivery: DeliveryStats
    began: float = 0.0  # time.monotonic() when the tick began


@dataclass
class AlertDaemon:
    factory: sessionmaker[Session]
    setup: AlertSetup
    clock: Callable[[], datetime]
    transport: Transport
    worker: str = field(default_factory=lambda: f"pid-{os.getpid()}")
    poll_seconds: float = 15.0
    elect: bool = True
    delivery: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    on_tick: Callable[[TickResult], None] | None = None
    on_active: Callable[[], None] | None = None  # once elected: what only the active one runs
    # Each tick after the sweep, before delivery (scheduled reports enqueue their copies here,
    # on the same clock); it must not raise.
    before_delivery: Callable[[datetime], None] | None = None
    scheduler: BackgroundScheduler = field(init=False)
    wake: threading.Event = field(default_factory=threading.Event, init=False)

    def __post_init__(self) -> None:
        self.scheduler = BackgroundScheduler(timezone=SHANGHAI, job_defaults=dict(JOB_DEFAULTS))

    def reconcile(self) -> int:
        """Rebuild the jobs from the database; returns how many were scheduled."""
        self.scheduler.remove_all_jobs()
        with session_scope(self.factory) as session:
            times = list(wake_times(session, self.clock()))
        for job_id, at in times:
            self._arm(job_id, at)
        self.scheduler.add_job(self.wake.set, "interval", seconds=self.poll_seconds, id="poll",
                               replace_existing=True)
        return len(times)

    def _arm(self, job_id: str, at: datetime) -> None:
        self.scheduler.add_job(self.wake.set, "date", run_date=at, id=job_id,
                               replace_existing=True)

    def tick(self) -> TickResult:
        """One pass: sweep until nothing is due, then deliver the outbox."""
        began = time.monotonic()
        now = self.clock()
        total = SweepResult()
        while True:
            with session_scope(self.factory) as session:
                result = sweep(session, now, self.setup)
            total.incidents += result.incidents
            total.notifications += result.notifications
            total.escalations += result.escalations
            for row in result.changed:
                if row.next_check_at is not None and self.scheduler.running:
                    self._arm(f"deadline-{row.id}", row.next_check_at)
            if result.incidents < 500:
                break
        if self.before_delivery is not None:
            self.before_delivery(now)
        stats = DeliveryStats()
        while True:  # deliver everything due now, in batches
            batch = deliver_due(self.factory, self.clock, self.transport, self.setup,
                                worker=self.worker, policy=self.delivery)
            stats.processed += batch.processed
            stats.sent += batch.sent
            stats.failed_attempts += batch.failed_attempts
            stats.gave_up += batch.gave_up
            if batch.processed < 200:
                break
        tick = TickResult(now, total, stats, began)
        if self.on_tick is not None:
            self.on_tick(tick)
        return tick

    def start(self, stop: threading.Event) -> Election | None:
        """Wait to be elected (unless ``elect`` is off), recover, rebuild the jobs, start."""
        election: Election | None = None
        if self.elect:
            election = Election(self.factory.kw["bind"])
            tries = 0
            while not election.try_acquire():
                if tries % STANDBY_LOG_EVERY == 0:  # at once, then every ten minutes
                    log.info("standing by: another scheduler is active on this database; "
                             "taking over when it stops")
                tries += 1
                if stop.wait(1.0):
                    return election
            if tries:
                log.info("taking over as the active scheduler")
            with session_scope(self.factory) as session:
                lost = recover_interrupted(session, self.clock(), self.setup)
            if lost:
                log.warning("%d deliveries were interrupted by a crash; marked unknown and "
                            "reported to the admin", lost)
        jobs = self.reconcile()
        self.scheduler.start()
        log.info("alert scheduler started with %d jobs", jobs)
        if self.on_active is not None:
            self.on_active()
        return election

    def _tick_safely(self) -> None:
        try:
            self.tick()
        except OperationalError as exc:
            # SQLite "database is locked" when a CLI command wrote meanwhile, or a dropped
            # PostgreSQL connection: the unit of work rolled back, so simply try again soon.
            log.warning("tick failed, will retry: %s", str(exc).splitlines()[0])
            self.wake.set()

    def run(self, stop: threading.Event) -> None:
        """The daemon loop (``yuqing run``): tick whenever a job or the poll wakes us."""
        election = self.start(stop)
        self.wake.set()
        try:
            while not stop.is_set():
                self.wake.wait(self.poll_seconds)
                self.wake.clear()
                if not stop.is_set():
                    self._tick_safely()
        finally:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            if election is not None:
                election.release()


def file_clock(path: Path) -> Callable[[], datetime]:
    """A clock read from a file holding an ISO time (simulations and restart tests)."""
    def read() -> datetime:
        from yuqing.core.clock import parse_local

        return parse_local(path.read_text(encoding="utf-8").strip())
    return read


def job_count(daemon: AlertDaemon) -> int:
    jobs: list[Any] = daemon.scheduler.get_jobs()
    return len(jobs)
