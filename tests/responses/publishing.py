"""Record a publication the way an officer's 补录 does, for tests that need a clock met: a
published response with an uploaded file as its evidence (no fetch)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from alerts.models import ClockKind
from responses.evidence import Evidence
from responses.models import Response
from responses.procedure import KIND_OF_CLOCK, Actor
from responses.workflow import record

PAGE = ("<html><head><meta charset='utf-8'><title>情况通报_市司法局</title></head><body>"
        "<h1>关于网传事件的情况通报</h1><p>市司法局高度重视，已成立调查组核查。</p></body></html>")


def record_publication(session: Session, incident_id: int, kind: ClockKind,
                       published_at: datetime, *, actor: str, now: datetime,
                       url: str | None = None) -> Response:
    return record(session, incident_id, KIND_OF_CLOCK[kind],
                  Actor(actor, frozenset({"office"})), at=published_at,
                  url=url or "https://sfj.example.gov.cn/xwfb/1.html", channels=["website"],
                  evidence=Evidence(PAGE.encode(), "file"), now=now)
