"""``yuqing run``: the alert scheduler and the scheduled crawls in one process.

Only the elected scheduler works: a standby waits for the election and does nothing else, and
the crawl jobs start once this process is the active one. Each crawl is the crawl service's
isolated child (``services.crawl.crawl_isolated``); after it, the after-crawl pipeline
(``services.analyse.after_crawl``) reports blind sources, analyses and wakes the alert loop.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError, OperationalError

from yuqing.core.clock import SHANGHAI
from yuqing.core.db import session_scope
from crawler.schedule import time_limit, trigger
from yuqing.services.crawl import (CLOCK_FILE_ENV, CRAWL_TIMEOUT_SECONDS, IsolatedCrawl,
                                   crawl_isolated)

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

    from alerts.scheduler import AlertDaemon, TickResult
    from crawler.sources import SourceConfig
    from yuqing.context import AppContext
    from yuqing.observability import CrawlMetrics, Observability

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 5.0  # a stopping crawl's time to store what it fetched


class CrawlJobs:
    """Each source on its own schedule, never overlapping; ``after`` follows every crawl."""

    def __init__(self, sources: Sequence[SourceConfig], after: Callable[[str], None],
                 now: Callable[[], datetime], env: dict[str, str] | None = None,
                 timeout: float = CRAWL_TIMEOUT_SECONDS,
                 dispatch: Callable[[SourceConfig, float], IsolatedCrawl] | None = None,
                 metrics: CrawlMetrics | None = None, clock_file: Path | None = None) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        self.sources = [s for s in sources if s.kind != "import"]
        self.by_name = {s.name: s for s in self.sources}
        self.dispatch = dispatch  # crawl elsewhere (a Scrapyd node) instead of a local child
        self.metrics = metrics
        self.after = after
        self.now = now
        self.env = env
        self.timeout = timeout
        self.children: dict[str, subprocess.Popen[str]] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        # coalesce + max_instances=1: a slow crawl is never run twice at once by this process,
        # and missed runs (the process was down) collapse into one.
        self.scheduler = BackgroundScheduler(timezone=SHANGHAI, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        # APScheduler fires on the machine's time; under a simulated clock the crawls follow
        # that clock instead (SimulatedCrawls), with the same triggers.
        self.simulated = SimulatedCrawls(self, clock_file) if clock_file is not None else None

    def start(self) -> int:
        if self.simulated is not None:
            self.simulated.start()
        else:
            for source in self.sources:  # its interval or cron, with jitter (crawler.schedule)
                self.scheduler.add_job(self.crawl, trigger(source), args=[source.name],
                                       id=f"crawl-{source.name}", next_run_time=self.now(),
                                       replace_existing=True)
        self.scheduler.start()
        log.info("crawling %d sources on their schedules", len(self.sources))
        return len(self.sources)

    def settled(self, tick: TickResult) -> bool:
        """Under a simulated clock: every crawl due by the tick's time had finished, with its
        analysis, when the tick began. On the machine's clock crawls are not waited for."""
        return self.simulated is None or self.simulated.settled(tick.now, tick.began)

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Start no more crawls; ask the running ones to stop (they store what they fetched),
        kill those still running after ``grace`` seconds."""
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.simulated is not None:
            self.simulated.stop()
        with self.lock:
            running = list(self.children.items())
        for name, proc in running:
            log.info("stopping the crawl of %s (pid %d)", name, proc.pid)
            proc.terminate()
        for name, proc in running:
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                log.warning("the crawl of %s did not stop within %.0f s; killed", name, grace)
                proc.kill()
                proc.wait()

    def crawl(self, name: str) -> None:
        if self.stopping.is_set():
            return

        def started(proc: subprocess.Popen[str]) -> None:
            with self.lock:
                self.children[name] = proc

        source = self.by_name[name]
        limit = min(self.timeout, time_limit(source).total_seconds())
        began = time.monotonic()
        try:
            if self.dispatch is not None:
                done = self.dispatch(source, limit)
            else:
                env = self.env
                if self.simulated is not None:  # the child crawls at the simulated time too
                    env = {**(env if env is not None else os.environ),
                           CLOCK_FILE_ENV: str(self.simulated.clock_file)}
                done = crawl_isolated(name, env=env, timeout=limit, started=started)
        finally:
            with self.lock:
                self.children.pop(name, None)
        seconds = time.monotonic() - began
        if self.metrics is not None:
            self.metrics.crawled(name, seconds=seconds, new_documents=0, ok=done.code == 0)
        if self.stopping.is_set():
            return  # stopped on purpose: the next start crawls again
        fields = {"source": name, "duration_s": round(seconds, 2), "exit_code": done.code}
        if done.busy:
            log.info("crawl of %s skipped: another process is crawling it", name,
                     extra={**fields, "outcome": "busy"})
            return
        if done.code is None:
            log.error("crawl of %s stopped at its time limit of %.0f s: %s", name, limit,
                      done.error, extra={**fields, "outcome": "time_limit"})
        elif done.code != 0:
            log.error("crawl of %s failed (exit %s): %s", name, done.code, done.error,
                      extra={**fields, "outcome": "failed"})
        else:
            log.info("crawl of %s finished in %.1f s", name, seconds,
                     extra={**fields, "outcome": "ok"})
        self.after(name)


class SimulatedCrawls:
    """The crawl schedule on a simulated clock (``yuqing run --clock-file``: tests, drills,
    the demo). Each source's own trigger (``crawler.schedule.trigger``) gives its fire times
    on that clock; a source whose time has come, however many times while the clock jumped,
    is crawled once (coalesced), never twice at once, as under APScheduler.

    ``settled(now)``: no crawl is running and none is due at ``now`` (its analysis done), so
    the daemon has done all the work up to ``now`` (the heartbeat's ``.settled`` file)."""

    def __init__(self, jobs: CrawlJobs, clock_file: Path, poll: float = 0.05) -> None:
        self.jobs = jobs
        self.poll = poll
        self.clock_file = clock_file
        self.triggers: dict[str, BaseTrigger] = {s.name: trigger(s) for s in jobs.sources}
        self.next_at: dict[str, datetime | None] = {}
        self.running: set[str] = set()
        self.lock = threading.Lock()
        self.settled_at = time.monotonic()  # when the last crawl (and its analysis) ended
        self.stop_event = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=max(1, len(jobs.sources)),
                                       thread_name_prefix="sim-crawl")
        self.thread = threading.Thread(target=self._loop, name="sim-crawls", daemon=True)

    def start(self) -> None:
        now = self.jobs.now()
        self.next_at = {name: now for name in self.triggers}  # each source once at start
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def settled(self, now: datetime, since: float) -> bool:
        """Every crawl due at ``now`` finished (with its analysis) before ``since``
        (``time.monotonic()``)."""
        with self.lock:
            if self.running or since < self.settled_at:
                return False
            return all(at is None or at > now for at in self.next_at.values())

    def _loop(self) -> None:
        while not self.stop_event.wait(self.poll):
            self.fire_due(self.jobs.now())

    def fire_due(self, now: datetime) -> None:
        for name, trig in self.triggers.items():
            with self.lock:
                due = self.next_at.get(name)
                if name in self.running or due is None or due > now:
                    continue
                following = trig.get_next_fire_time(due, now)
                while following is not None and following <= now:  # coalesce missed runs
                    following = trig.get_next_fire_time(following, now)
                self.next_at[name] = following
                self.running.add(name)
            self.pool.submit(self._crawl, name)

    def _crawl(self, name: str) -> None:
        try:
            self.jobs.crawl(name)
        except Exception:  # one source's failure must not stop the others' schedule
            log.exception("crawl of %s failed", name)
        finally:
            with self.lock:
                self.running.discard(name)
                self.settled_at = time.monotonic()


@dataclass
class RunOptions:
    clock_file: Path | None = None  # the time read from a file (simulations, tests)
    heartbeat: Path | None = None  # written with the time of each finished tick
    poll: float = 15.0
    elect: bool = True
    worker: str | None = None
    crawl: bool = True
    status_port: int | None = None  # /healthz and /metrics on 127.0.0.1 (yuqing.observability)


def run(ctx: AppContext, options: RunOptions, stop: threading.Event | None = None) -> None:
    """The daemon until ``stop`` is set (SIGTERM/SIGINT set it): wait to be elected, then
    crawl, analyse, run the clocks and send."""
    from alerts.scheduler import AlertDaemon, file_clock
    from alerts.transports.apprise_transport import AppriseTransport

    config = ctx.typed  # validated once; every tick and crawl uses these objects
    setup = config.alerts
    stop = stop or threading.Event()
    daemon = AlertDaemon(ctx.sessions, setup,
                         file_clock(options.clock_file) if options.clock_file else ctx.clock,
                         AppriseTransport(), worker=options.worker or f"pid-{os.getpid()}",
                         poll_seconds=options.poll, elect=options.elect)
    daemon.before_delivery = _each_tick(_report_job(ctx), SourceHealthCheck(ctx, daemon))
    _stop_on_signals(stop, daemon.wake)
    jobs: CrawlJobs | None = None
    daemon.on_tick = _heartbeat(options.heartbeat, lambda tick: jobs is None or jobs.settled(tick))
    status = _status_server(ctx, daemon, options, stop)
    if options.crawl and config.crawlable:
        jobs = _crawl_jobs(ctx, daemon, status.crawls if status else None, options.clock_file)

    def active() -> None:  # elected: only now does this process crawl, analyse and send
        _warn_without_admin(ctx, daemon)
        _audit_config(ctx, daemon.clock())
        if status is not None:
            status.heartbeat.beat("active", daemon.clock())
        if jobs is not None:
            jobs.start()
            _retention_job(ctx, jobs)

    daemon.on_active = active
    try:
        daemon.run(stop)
    finally:
        if jobs is not None:
            jobs.stop()
        if status is not None:
            status.close()
        log.info("stopped")


def _status_server(ctx: AppContext, daemon: AlertDaemon, options: RunOptions,
                   stop: threading.Event) -> Observability | None:
    """``/healthz`` and ``/metrics`` on a local port; the loop's ticks beat its heartbeat, and
    a standby beats as one while it waits."""
    if options.status_port is None:
        return None
    from yuqing.observability import Observability

    status = Observability(ctx.sessions, daemon.clock,
                           stale_after=timedelta(seconds=max(120.0, 4 * options.poll)))
    host, port = status.serve("127.0.0.1", options.status_port)
    log.info("status on http://%s:%d/healthz and /metrics", host, port)
    beat_tick = daemon.on_tick

    def on_tick(tick: TickResult) -> None:
        status.heartbeat.beat("active", tick.now)
        if beat_tick is not None:
            beat_tick(tick)

    daemon.on_tick = on_tick

    def standby_beat() -> None:
        while not stop.wait(min(30.0, options.poll)):
            role, _ = status.heartbeat.read()
            if role in ("starting", "standby"):
                status.heartbeat.beat("standby", daemon.clock())

    status.heartbeat.beat("standby", daemon.clock())
    threading.Thread(target=standby_beat, name="status-beat", daemon=True).start()
    return status


HEALTH_EVERY = timedelta(minutes=10)


class SourceHealthCheck:
    """Every ``HEALTH_EVERY`` on the daemon's clock, each configured source is judged again and
    an open coverage gap is reported to the admin (once per outage, ``alerts.intake``): a source
    gone silent is noticed even when no crawl of it runs (a cron that does not fire, a
    scheduler that stopped), not only after a crawl."""

    def __init__(self, ctx: AppContext, daemon: AlertDaemon) -> None:
        self.ctx = ctx
        self.daemon = daemon
        self.configured = ctx.typed.source_names
        self.last: datetime | None = None

    def __call__(self, now: datetime) -> None:
        if self.last is not None and now - self.last < HEALTH_EVERY:
            return
        from alerts.intake import report_blind_sources

        try:
            with session_scope(self.ctx.sessions) as session:
                reported = report_blind_sources(session, self.daemon.setup, now, self.configured)
        except OperationalError as exc:  # tried again at the next tick
            log.warning("source health check failed, will retry: %s", str(exc).splitlines()[0])
            return
        self.last = now
        if reported:
            log.info("source health check: %d coverage gaps reported to the admin", reported)


def _each_tick(*steps: Callable[[datetime], None] | None) -> Callable[[datetime], None]:
    """The steps of each tick after the sweep, in order (``AlertDaemon.before_delivery``)."""
    chosen = [step for step in steps if step is not None]

    def run(now: datetime) -> None:
        for step in chosen:
            step(now)
    return run


def _report_job(ctx: AppContext) -> Callable[[datetime], None] | None:
    """The config's weekly/monthly reports, checked each tick on the daemon's clock
    (``services.report.ScheduledReports``); None when no schedule is configured."""
    if not ctx.typed.reports.schedules:
        return None
    from yuqing.services.report import ScheduledReports

    return ScheduledReports(ctx.sessions, ctx.typed).run_safely


def _retention_job(ctx: AppContext, jobs: CrawlJobs) -> None:
    """Raw snapshots past ``crawl.keep_snapshots_days`` go every six hours (crawler.retention)."""
    days = ctx.typed.crawl.keep_snapshots_days
    if days is None:
        return
    from crawler.retention import prune_snapshots

    def prune() -> None:
        try:
            pruned = prune_snapshots(ctx.sessions, ctx.clock(), days)
        except OperationalError as exc:
            log.warning("snapshot retention failed, will retry: %s", str(exc).splitlines()[0])
            return
        if pruned.snapshots:
            log.info("retention: %d raw snapshots older than %s dropped", pruned.snapshots,
                     pruned.before.isoformat())

    jobs.scheduler.add_job(prune, "interval", hours=6, id="retention", next_run_time=ctx.clock(),
                           replace_existing=True)


def _crawl_jobs(ctx: AppContext, daemon: AlertDaemon, metrics: CrawlMetrics | None,
                clock_file: Path | None) -> CrawlJobs:
    from yuqing.services.analyse import after_crawl

    configured = ctx.typed.source_names  # a removed source is not judged

    def after(name: str) -> None:
        try:  # on the daemon's clock, like its ticks (a simulated one under --clock-file)
            after_crawl(ctx.sessions, daemon.setup, daemon.clock(), wake=daemon.wake.set,
                        configured=configured)
        except (OperationalError, IntegrityError) as exc:
            # Rolled back whole; the documents stay pending and the next run picks them up.
            log.warning("analysis after crawling %s failed, will retry: %s", name,
                        str(exc).splitlines()[0])

    return CrawlJobs(ctx.typed.crawlable, after, daemon.clock,
                     dispatch=_scrapyd_dispatch(ctx), metrics=metrics, clock_file=clock_file)


def _scrapyd_dispatch(ctx: AppContext) -> Callable[[SourceConfig, float], IsolatedCrawl] | None:
    """With ``crawl.scrapyd_url``, each crawl is a job on that Scrapyd node."""
    if ctx.typed.crawl.scrapyd_url is None:
        return None
    from crawler.scrapyd import ScrapydError
    from yuqing.services import scrapyd

    def dispatch(source: SourceConfig, limit: float) -> IsolatedCrawl:
        try:
            outcome = scrapyd.crawl(ctx.typed, ctx.settings.database_url, source, limit=limit)
        except ScrapydError as exc:
            return IsolatedCrawl(source.name, 1, str(exc))
        if outcome.state == "killed":
            return IsolatedCrawl(source.name, None, f"Scrapyd job {outcome.job} cancelled")
        return IsolatedCrawl(source.name, 0 if outcome.state == "finished" else 1,
                             "" if outcome.state == "finished" else f"job {outcome.state}")

    return dispatch


def _heartbeat(path: Path | None, settled: Callable[[TickResult], bool]
               ) -> Callable[[TickResult], None] | None:
    """The time of each finished tick written to ``path``; and to ``path`` + ``.settled`` once
    the crawls due by then have finished too, with their analysis (under a simulated clock,
    where a driver advancing the clock waits for the whole work of each step)."""
    if path is None:
        return None
    settled_path = path.with_name(path.name + ".settled")

    def write(target: Path, at: datetime) -> None:
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(at.isoformat(), encoding="utf-8")
        tmp.replace(target)

    def beat(tick: TickResult) -> None:
        write(path, tick.now)
        if settled(tick):
            write(settled_path, tick.now)
    return beat


def _stop_on_signals(stop: threading.Event, wake: threading.Event) -> None:
    """SIGTERM/SIGINT: take no more work; the unit of work under way finishes and commits.

    The handler only sets events: it runs between two bytecodes of the main thread, which may be
    half-way through writing a log line (a write to that stream from the handler would fail)
    or holding a lock; a watcher thread says what happened."""
    received: list[int] = []

    def handle(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()
        wake.set()  # the loop waits on this, not on ``stop``

    def announce() -> None:
        stop.wait()
        if received:
            log.info("received %s: stopping (finishing the current unit of work)",
                     signal.Signals(received[0]).name)

    threading.Thread(target=announce, name="stop-signal", daemon=True).start()
    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _audit_config(ctx: AppContext, now: datetime) -> None:
    """A config that differs from the last one recorded goes into the audit log."""
    from yuqing.services.config_audit import record_if_changed

    with session_scope(ctx.sessions) as session:
        if record_if_changed(session, ctx.config, now=now, by="yuqing run") is not None:
            log.info("config changed since the last record: audited (config.change)")


def _warn_without_admin(ctx: AppContext, daemon: AlertDaemon) -> None:
    """The admin receives source-down, channel-failure and unknown-delivery alerts: say so
    when the roster in force names none."""
    from alerts.roster import current_roster

    with session_scope(ctx.sessions, readonly=True) as session:
        roster = current_roster(session, daemon.setup.roster)
    if roster.admin is None:
        log.warning("the roster in force names no admin: source-down, channel-failure and "
                    "unknown-delivery alerts have no recipient (set roster.admin, or import a "
                    "roster with an admin)")
