"""Crawls dispatched to Scrapyd nodes (the Scrapy ecosystem's own crawl service).

With ``crawl.scrapyd_url`` set, ``yuqing run`` schedules each source's crawl as a Scrapyd job
instead of a local process: the job runs our spider with the source's configuration passed
along (``-a source={json}``: the node needs no config file) and stores into the shared database
(the ``YUQING_DATABASE_URL`` Scrapy setting of the job), so health, documents and dedup are the
same as a local crawl. The project reaches a node as an egg: ``yuqing scrapyd deploy`` builds it
from the installed packages and uploads it (``addversion.json``).

A node must have yuqing's dependencies installed (``pip install yuqing`` in Scrapyd's
environment): the egg carries our code, not the libraries.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from crawler.sources import SourceConfig

PROJECT = "yuqing"
PACKAGES = ("yuqing", "crawler", "analysis", "alerts", "responses", "migrations")
ROOT = Path(__file__).resolve().parent.parent
# Spider names by source kind (crawler.spiders), as ``scrapy crawl`` knows them.
SPIDER_OF_KIND = {"feed": "feed", "site": "site", "search": "search", "api": "api"}

_SETUP = """\
from setuptools import find_packages, setup

setup(
    name={project!r},
    version={version!r},
    packages=find_packages(include=[{includes}]),
    package_data={{"": ["*.yaml", "*.txt", "*.html", "*.json", "*.ini", "*.mako", "*.joblib",
                        "*.csv", "*.jsonl"]}},
    entry_points={{"scrapy": ["settings = crawler.scrapy_settings"]}},
    zip_safe=False,
)
"""


class ScrapydError(Exception):
    """A Scrapyd node refused or could not be reached; the message is one line."""


def build_egg(out_dir: Path, version: str) -> Path:
    """Build the project's egg for Scrapyd into ``out_dir`` (a copy of the packages is built in
    a temporary directory, so the checkout gains no build files)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="yuqing-egg-") as tmp:
        work = Path(tmp)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "fonts", "*.otf")
        for package in PACKAGES:
            shutil.copytree(ROOT / package, work / package, ignore=ignore)
        includes = ", ".join(f"{p!r}, '{p}.*'" for p in PACKAGES)
        (work / "setup.py").write_text(
            _SETUP.format(project=PROJECT, version=version, includes=includes), "utf-8")
        proc = subprocess.run([sys.executable, "setup.py", "-q", "bdist_egg", "-d", str(out_dir)],
                              cwd=work, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ScrapydError(f"egg 构建失败 / egg build failed: "
                               f"{(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
    eggs = sorted(out_dir.glob(f"{PROJECT}-{version}-*.egg"))
    if not eggs:
        raise ScrapydError(f"egg 构建失败 / no egg was written to {out_dir}")
    return eggs[-1]


@dataclass(frozen=True)
class JobOutcome:
    job: str
    state: str  # finished, killed (time limit), lost (the node forgot it)
    seconds: float


class Scrapyd:
    """A Scrapyd node's JSON API (``https://scrapyd.readthedocs.io/en/latest/api.html``)."""

    def __init__(self, url: str, *, timeout: float = 30, project: str = PROJECT,
                 auth: tuple[str, str] | None = None) -> None:
        self.url, self.timeout, self.project, self.auth = url.rstrip("/"), timeout, project, auth

    def _call(self, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = requests.request(method, f"{self.url}/{endpoint}", timeout=self.timeout,
                                        auth=self.auth, **kwargs)
        except requests.RequestException as exc:
            raise ScrapydError(f"Scrapyd 无法访问 / Scrapyd at {self.url} unreachable: "
                               f"{type(exc).__name__}") from None
        try:
            data: dict[str, Any] = response.json()
        except ValueError:
            raise ScrapydError(f"Scrapyd {endpoint}: HTTP {response.status_code}, not JSON"
                               ) from None
        if data.get("status") != "ok":
            message = str(data.get("message", data)).strip().splitlines()
            raise ScrapydError(f"Scrapyd {endpoint}: {message[-1] if message else data}")
        return data

    def status(self) -> dict[str, Any]:
        return self._call("GET", "daemonstatus.json")

    def deploy(self, egg: Path, version: str) -> list[str]:
        """Upload the egg as ``version``; returns the spiders the node found in it."""
        with open(egg, "rb") as handle:
            data = self._call("POST", "addversion.json",
                              data={"project": self.project, "version": version},
                              files={"egg": (egg.name, handle)})
        spiders = self._call("GET", "listspiders.json", params={"project": self.project})
        del data
        return [str(s) for s in spiders.get("spiders", [])]

    def schedule(self, source: SourceConfig, database_url: str,
                 settings: dict[str, object] | None = None) -> str:
        """Start one crawl of ``source`` on the node; returns the job id."""
        spider = SPIDER_OF_KIND.get(source.kind)
        if spider is None:
            raise ScrapydError(f"source {source.name!r}: kind {source.kind!r} is not crawled "
                               "by a spider")
        pairs = [("project", self.project), ("spider", spider),
                 ("source", source.model_dump_json(exclude_none=True)),
                 ("setting", f"YUQING_DATABASE_URL={database_url}"),
                 ("setting", f"ROBOTSTXT_OBEY={source.obey_robots}")]
        pairs += [("setting", f"{k}={v}") for k, v in (settings or {}).items()]
        return str(self._call("POST", "schedule.json", data=pairs)["jobid"])

    def state(self, job: str) -> str | None:
        """pending, running or finished; None when the node does not know the job."""
        data = self._call("GET", "listjobs.json", params={"project": self.project})
        for state in ("pending", "running", "finished"):
            if any(entry.get("id") == job for entry in data.get(state, [])):
                return state
        return None

    def cancel(self, job: str, signal: str = "INT") -> None:
        """Stop a job: INT lets Scrapy close (storing what it fetched), KILL ends it."""
        self._call("POST", "cancel.json", data={"project": self.project, "job": job,
                                                 "signal": signal})

    def crawl(self, source: SourceConfig, database_url: str, *, time_limit: float,
              settings: dict[str, object] | None = None, poll: float = 2.0,
              grace: float = 5.0,
              monotonic: Callable[[], float] = time.monotonic,
              sleep: Callable[[float], None] = time.sleep) -> JobOutcome:
        """Schedule a crawl and wait for its end; at ``time_limit`` seconds it is asked to stop,
        and killed ``grace`` seconds later if it has not."""
        started = monotonic()
        job = self.schedule(source, database_url, settings)
        while True:
            state = self.state(job)
            elapsed = monotonic() - started
            if state == "finished":
                return JobOutcome(job, "finished", elapsed)
            if state is None:
                return JobOutcome(job, "lost", elapsed)
            if elapsed >= time_limit:
                self._stop(job, grace, poll, monotonic, sleep)
                return JobOutcome(job, "killed", monotonic() - started)
            sleep(poll)

    def _stop(self, job: str, grace: float, poll: float, monotonic: Callable[[], float],
              sleep: Callable[[float], None]) -> None:
        self.cancel(job, "INT")
        stop_by = monotonic() + grace
        while monotonic() < stop_by:
            if self.state(job) in ("finished", None):
                return
            sleep(poll)
        self.cancel(job, "KILL")  # a download that hangs keeps Scrapy from closing


def source_argument(value: str) -> SourceConfig:
    """A source passed on the command line as JSON (``-a source={...}``)."""
    try:
        return SourceConfig.model_validate(json.loads(value))
    except ValueError as exc:
        raise ValueError(f"-a source: not a valid source configuration: {exc}") from None
