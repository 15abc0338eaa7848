"""Retrain the classifier on the corpus and the officers' feedback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from analysis.feedback import export_feedback
from analysis.train import train_model
from yuqing.core.db import session_scope


@dataclass(frozen=True)
class Retrained:
    report: dict[str, Any]  # the training report (``analysis.train.train_model``)
    feedback_items: int  # officers' verdicts exported into the corpus first


def retrain(sessions: sessionmaker[Session], corpus: Path, *, force: bool,
            now: datetime) -> Retrained:
    """Export the feedback into ``corpus``, then train; the new version becomes active only if
    not worse in cross-validation, unless ``force`` (``CorpusError``: no real corpus)."""
    with session_scope(sessions) as session:
        exported = export_feedback(session, corpus)
    return Retrained(train_model(corpus, force=force, now=now), exported)
