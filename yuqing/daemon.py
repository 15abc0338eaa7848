"""The crawl side of ``yuqing run``: each source on its own schedule, never overlapping.

A crawl runs as a ``yuqing crawl --source NAME`` subprocess (Scrapy's reactor starts once per
process, and a crashed crawl must not take the scheduler with it); after each one, ``after``
runs the follow-up work (source health, analysis, clocks) and wakes the alert loop.

A crawl child dies with the daemon, even a SIGKILLed one: the child asks Linux for SIGKILL when
its parent ends (``prctl(PR_SET_PDEATHSIG)``) and, as a fallback elsewhere, watches that its
parent is still the one that started it. Across processes (a restarted daemon, ``yuqing crawl``
by hand) the crawl lease of each source (``crawler.lease``) keeps one crawl of a source at a time.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from yuqing.core.clock import SHANGHAI

if TYPE_CHECKING:
    from crawler.sources import SourceConfig

log = logging.getLogger(__name__)

CRAWL_TIMEOUT_SECONDS = 30 * 60
STOP_GRACE_SECONDS = 5.0  # a stopping crawl's time to store what it fetched
PARENT_ENV = "YUQING_PARENT_PID"  # set for a crawl child: the daemon's pid
BUSY_EXIT = 3  # `yuqing crawl` exit status when a source is being crawled by another process
PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 1.0


class CrawlJobs:
    def __init__(self, sources: Sequence[SourceConfig], after: Callable[[str], None],
                 now: Callable[[], datetime], env: dict[str, str] | None = None) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        self.sources = [s for s in sources if s.kind != "import"]
        self.after = after
        self.now = now
        self.env = env
        self.children: dict[str, subprocess.Popen[str]] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        # coalesce + max_instances=1: a slow crawl is never run twice at once by this process,
        # and missed runs (the process was down) collapse into one.
        self.scheduler = BackgroundScheduler(timezone=SHANGHAI, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})

    def start(self) -> int:
        for source in self.sources:
            self.scheduler.add_job(self.crawl, "interval", args=[source.name],
                                   minutes=source.every_minutes, id=f"crawl-{source.name}",
                                   next_run_time=self.now(), replace_existing=True)
        self.scheduler.start()
        return len(self.sources)

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Start no more crawls; ask the running ones to stop (they store what they fetched),
        kill those still running after ``grace`` seconds."""
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
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
        code = self._run_child(name)
        if self.stopping.is_set():
            return  # stopped on purpose: the next start crawls again
        if code == BUSY_EXIT:
            log.info("crawl of %s skipped: another process is crawling it", name)
            return
        self.after(name)

    def _run_child(self, name: str) -> int | None:
        command = [sys.executable, "-m", "yuqing.cli", "crawl", "--source", name, "--json"]
        env = {**(self.env if self.env is not None else os.environ), PARENT_ENV: str(os.getpid())}
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
        with self.lock:
            self.children[name] = proc
        try:
            _, err = proc.communicate(timeout=CRAWL_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            log.error("crawl of %s exceeded %d s and was stopped", name, CRAWL_TIMEOUT_SECONDS)
            return None
        finally:
            with self.lock:
                self.children.pop(name, None)
        if proc.returncode not in (0, BUSY_EXIT) and not self.stopping.is_set():
            log.error("crawl of %s failed (exit %d): %s", name, proc.returncode,
                      err.strip()[-500:])
        return proc.returncode


def follow_parent() -> None:
    """In a crawl child of the daemon (``YUQING_PARENT_PID`` set): end when the daemon ends,
    however it ends. Elsewhere nothing happens."""
    wanted = os.environ.get(PARENT_ENV, "")
    if not wanted.isdigit():
        return
    parent = int(wanted)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # The daemon may have died before prctl took effect; and where prctl is missing, a watcher
    # notices that the process was handed to another parent.
    _die_if_orphaned(parent)
    threading.Thread(target=_watch_parent, args=(parent,), name="parent-watch",
                     daemon=True).start()


def _die_if_orphaned(parent: int) -> None:
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)


def _watch_parent(parent: int) -> None:
    stop = threading.Event()
    while not stop.wait(WATCH_SECONDS):
        _die_if_orphaned(parent)
