"""The crawl side of ``yuqing run``: each source on its own schedule, never overlapping.

A crawl runs as a ``yuqing crawl --source NAME`` subprocess (Scrapy's reactor starts once per
process, and a crashed crawl must not take the scheduler with it); after each one, ``after``
runs the follow-up work (source health, analysis, clocks) and wakes the alert loop.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from crawler.sources import SourceConfig
from yuqing.clock import SHANGHAI

log = logging.getLogger(__name__)

CRAWL_TIMEOUT_SECONDS = 30 * 60


class CrawlJobs:
    def __init__(self, sources: Sequence[SourceConfig], after: Callable[[str], None],
                 now: Callable[[], datetime], env: dict[str, str] | None = None) -> None:
        self.sources = [s for s in sources if s.kind != "import"]
        self.after = after
        self.now = now
        self.env = env
        # coalesce + max_instances=1: a slow crawl is never run twice at once, and missed runs
        # (the process was down) collapse into one.
        self.scheduler = BackgroundScheduler(timezone=SHANGHAI, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})

    def start(self) -> int:
        for source in self.sources:
            self.scheduler.add_job(self.crawl, "interval", args=[source.name],
                                   minutes=source.every_minutes, id=f"crawl-{source.name}",
                                   next_run_time=self.now(), replace_existing=True)
        self.scheduler.start()
        return len(self.sources)

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def crawl(self, name: str) -> None:
        command = [sys.executable, "-m", "yuqing.cli", "crawl", "--source", name, "--json"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=self.env,
                                  timeout=CRAWL_TIMEOUT_SECONDS, check=False)
            if done.returncode != 0:
                log.error("crawl of %s failed (exit %d): %s", name, done.returncode,
                          done.stderr.strip()[-500:])
        except subprocess.TimeoutExpired:
            log.error("crawl of %s exceeded %d s and was stopped", name, CRAWL_TIMEOUT_SECONDS)
        self.after(name)
