"""Analyse pending documents, and the pipeline that follows every crawl."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from alerts.intake import IntakeResult, analyse_and_start_clocks, report_blind_sources
from alerts.sweep import AlertSetup
from analysis.classify import Model
from yuqing.core.db import session_scope


def analyse_pending(session: Session, setup: AlertSetup, now: datetime,
                    model: Model | None = None) -> IntakeResult:
    """Classify new documents, group them into incidents, start or raise their clocks."""
    return analyse_and_start_clocks(session, setup, now, model)


@dataclass(frozen=True)
class AfterCrawl:
    blind_sources: int  # coverage gaps newly reported to the admin
    intake: IntakeResult


def after_crawl(sessions: sessionmaker[Session], setup: AlertSetup, now: datetime,
                wake: Callable[[], None] | None = None,
                configured: Collection[str] | None = None) -> AfterCrawl:
    """What follows a crawl: blind sources are reported (once per outage), new documents
    analysed (new and raised incidents get their clocks), then the alert loop is woken.
    Each step is its own unit of work; a failure rolls that step back whole and raises (the
    documents stay pending for the next run). ``configured``: the source names in the config
    (a removed source is not judged)."""
    try:
        with session_scope(sessions) as session:
            blind = report_blind_sources(session, setup, now, configured)
        with session_scope(sessions) as session:
            intake = analyse_pending(session, setup, now)
    finally:
        if wake is not None:
            wake()
    return AfterCrawl(blind, intake)
