"""Crawl sources: in this process (``yuqing crawl``), or one source isolated in a child process
with a time limit (``yuqing run``). Either way a source is crawled by one process at a time (its
lease in the database, ``crawler.lease``), and search sources carry their scheme's queries
(``services.config``), as ``scrapy crawl <spider> -a source=NAME`` does too.

An isolated crawl runs ``python -m yuqing.services.crawl NAME`` (Scrapy's reactor starts once per
process, and a crashed crawl must not take the scheduler with it). That child dies with the
process that started it, even a SIGKILLed one: it asks Linux for SIGKILL when its parent ends
(``prctl(PR_SET_PDEATHSIG)``) and, as a fallback elsewhere, watches that its parent is still the
one that started it.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from yuqing.core.db import session_scope

if TYPE_CHECKING:
    from crawler.runner import Progress, SourceRun
    from crawler.sources import CrawlSettings, SourceConfig

CRAWL_TIMEOUT_SECONDS = 30 * 60
PARENT_ENV = "YUQING_PARENT_PID"  # set for a crawl child: the pid of the process it belongs to
# Set for a crawl child of a daemon on a simulated clock (``yuqing run --clock-file``): the child
# crawls at that file's time.
CLOCK_FILE_ENV = "YUQING_CLOCK_FILE"
BUSY_EXIT = 3  # exit status of a crawl that found a source being crawled by another process
FAILED_EXIT = 1  # a source failed (counted toward its max_failures)
PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 1.0


@dataclass(frozen=True)
class CrawlResult:
    runs: list[SourceRun] = field(default_factory=list)
    busy: dict[str, str] = field(default_factory=dict)  # source → the process crawling it

    @property
    def failed(self) -> list[SourceRun]:
        return [run for run in self.runs if run.failed]

    @property
    def exit_code(self) -> int:
        """0, ``FAILED_EXIT`` when a source failed, else ``BUSY_EXIT`` when one was busy."""
        return FAILED_EXIT if self.failed else BUSY_EXIT if self.busy else 0


def crawl_sources(sessions: sessionmaker[Session], database_url: str,
                  sources: list[SourceConfig], politeness: CrawlSettings, *,
                  clock: Callable[[], datetime], fixed_now: datetime | None = None,
                  log: bool = False, progress: Progress | None = None) -> CrawlResult:
    """Crawl the sources whose lease this process gets, in this process (blocking); the others
    are reported busy. ``fixed_now``: the crawl's time (drills, back-fills, tests)."""
    from crawler.lease import LeaseKeeper
    from crawler.runner import run_crawl
    from crawler.service import stored_urls

    overrides = politeness.scrapy_overrides()
    if not log:  # failures are in the result, one line each, without Twisted tracebacks
        overrides["LOG_ENABLED"] = False
    if fixed_now is not None:
        overrides["YUQING_NOW"] = fixed_now.isoformat()
    with LeaseKeeper(sessions, [s.name for s in sources], clock) as leases:
        mine = [s for s in sources if s.name in leases.held]
        runs: list[SourceRun] = []
        if mine:
            with session_scope(sessions) as session:
                known = stored_urls(session, [s.name for s in mine])
            runs = run_crawl(database_url, mine, overrides, known_urls=known, progress=progress)
    return CrawlResult(runs, dict(leases.busy))


@dataclass(frozen=True)
class IsolatedCrawl:
    source: str
    code: int | None  # the child's exit status; None: stopped at the time limit
    error: str = ""  # the end of the child's stderr when it failed

    @property
    def busy(self) -> bool:
        return self.code == BUSY_EXIT


def crawl_isolated(name: str, *, env: dict[str, str] | None = None,
                   timeout: float = CRAWL_TIMEOUT_SECONDS,
                   started: Callable[[subprocess.Popen[str]], None] | None = None
                   ) -> IsolatedCrawl:
    """Crawl one source in a child process that ends with this one, within ``timeout``
    seconds. ``started`` gets the child (to stop it early); settings and config come from
    ``env`` (default: this process's environment), read by the child as any entry point."""
    command = [sys.executable, "-m", "yuqing.services.crawl", name]
    child_env = {**(env if env is not None else os.environ), PARENT_ENV: str(os.getpid())}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env)
    if started is not None:
        started(proc)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return IsolatedCrawl(name, None, f"exceeded {timeout:.0f} s and was stopped")
    return IsolatedCrawl(name, proc.returncode, "" if proc.returncode == 0 else err.strip()[-500:])


def follow_parent() -> None:
    """In a crawl child (``YUQING_PARENT_PID`` set): end when the parent ends, however it
    ends. Elsewhere nothing happens."""
    wanted = os.environ.get(PARENT_ENV, "")
    if not wanted.isdigit():
        return
    parent = int(wanted)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # The parent may have died before prctl took effect; and where prctl is missing, a watcher
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


def _child_main(argv: list[str]) -> int:
    """The isolated crawl of one source: JSON summary on stdout, the status as exit code."""
    from yuqing.context import AppContext
    from yuqing.core.settings import SettingsError

    follow_parent()
    try:
        ctx = AppContext.from_env()
        sources = ctx.typed.sources_named(argv[:1])
    except SettingsError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    fixed_now = None  # the lease stays on the machine's clock: it is about live processes
    if clock_file := os.environ.get(CLOCK_FILE_ENV):
        from alerts.scheduler import file_clock

        fixed_now = file_clock(Path(clock_file))()
    result = crawl_sources(ctx.sessions, ctx.settings.database_url, sources, ctx.typed.crawl,
                           clock=ctx.clock, fixed_now=fixed_now)
    sys.stdout.write(json.dumps({"runs": [asdict(r) for r in result.runs], "busy": result.busy},
                                ensure_ascii=False) + "\n")
    for run in result.failed:
        sys.stderr.write(f"crawl of {run.source} failed: {run.last_error or 'unknown error'}\n")
    return result.exit_code


if __name__ == "__main__":
    raise SystemExit(_child_main(sys.argv[1:]))
