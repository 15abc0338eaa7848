"""The walking skeleton: local source → crawl → documents → classification → incident →
deadlines → console notification. Each step calls the application service the daemon uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.console import render_alert
from alerts.models import Deadline
from alerts.sweep import AlertSetup
from analysis.models import Classification, Incident, IncidentDocument
from crawler.models import Document
from crawler.runner import SourceRun
from crawler.sources import CrawlSettings, Selectors, SourceConfig
from yuqing.core.clock import Clock
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.demo_server import DemoSite
from yuqing.core.migrate import upgrade
from yuqing.core.settings import Settings
from yuqing.services.analyse import analyse_pending
from yuqing.services.crawl import crawl_sources

DEMO_DB = Path("var/demo.db")


@dataclass
class DemoResult:
    database_url: str
    crawl: list[SourceRun]
    documents: list[Document] = field(default_factory=list)
    classifications: list[Classification] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def demo_source(base_url: str) -> SourceConfig:
    return SourceConfig(
        name="demo_news", kind="site", url=f"{base_url}/index.html", platform="news",
        selectors=Selectors(links="ul.news-list a::attr(href)", title="h1.title",
                            published_at="div.meta", content="div.article"),
    )


def run_demo(settings: Settings, clock: Clock, db_path: Path = DEMO_DB) -> DemoResult:
    """Run the whole flow on a fresh SQLite file and return what each step produced."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db_path}"
    upgrade(url)
    sessions = make_sessionmaker(make_engine(url))
    with DemoSite(clock()) as site:
        crawl = crawl_sources(sessions, url, [demo_source(site.base_url)],
                              CrawlSettings(autothrottle=False), clock=clock)
    result = DemoResult(database_url=url, crawl=crawl.runs)
    with session_scope(sessions) as session:
        analyse(session, result, clock(), settings)
    return result


def analyse(session: Session, result: DemoResult, now: datetime, settings: Settings) -> None:
    """The real analysis and alert intake on what was crawled, then the first notification."""
    setup = AlertSetup(dashboard_url=settings.dashboard_url, tz=settings.tz)
    intake = analyse_pending(session, setup, now)
    result.documents = list(session.scalars(select(Document).order_by(Document.published_at)))
    result.classifications = list(session.scalars(select(Classification)))
    for incident_id in intake.opened:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        clocks = list(session.scalars(select(Deadline).where(
            Deadline.incident_id == incident.id, Deadline.sequence == 0)
            .order_by(Deadline.due_at)))
        links = session.scalars(select(Document.url).join(
            IncidentDocument, IncidentDocument.document_id == Document.id)
            .where(IncidentDocument.incident_id == incident.id)
            .order_by(IncidentDocument.rank)).all()
        result.incidents.append(incident)
        result.deadlines.extend(clocks)
        result.messages.append(render_alert(incident, clocks, now, settings.tz, links))
