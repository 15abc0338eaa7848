"""Timeliness report benchmark: one year, 10,000 incidents and 1,000,000 documents on SQLite.

Run: ``.venv/bin/python bench/report.py [--incidents 10000] [--documents 1000000] [--rebuild]``

The data is built once into ``var/bench/report-<incidents>-<documents>.db`` (rebuilt when absent
or with ``--rebuild``; a few minutes) and reused. It holds, for 2026:

* N incidents, T0 spread over the year (5 % 特别重大, 25 % 重大, 40 % 较大, 30 % 一般), detection a
  few minutes to a few hours after T0 (3 % after a day), topics over the bureau's business;
* their deadline rows as the pure clocks derive them at the end of the year, with publications
  (statements mostly within 5 h, some late, 10 % never; press conferences for 重大 and up;
  持续发布 for half of those), acknowledgements, grading history and a notification each;
* M documents (title, short body, URL, publish time, hash), a third of them linked to incidents,
  the first of each incident's documents at its first-post time.

It then times ``build_report`` for the whole year and each renderer, and prints a table. The
target is under 10 s for the .docx (data + Word).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from alerts.clocks import IncidentView, clocks_for  # noqa: E402
from alerts.models import (Acknowledgement, ClockKind, Deadline, Notification,  # noqa: E402
                           SeverityChange)
from alerts.policy import DEFAULT_POLICY  # noqa: E402
from analysis.models import Incident, IncidentDocument, Severity  # noqa: E402
from crawler.models import Document, Source  # noqa: E402
from responses.models import Response  # noqa: E402
from responses.procedure import KIND_OF_CLOCK  # noqa: E402
from responses.render import FORMATS, render  # noqa: E402
from responses.report import TOPIC_LABELS, Period, build_report  # noqa: E402
from yuqing.core.clock import SHANGHAI  # noqa: E402
from yuqing.core.db import make_engine  # noqa: E402
from yuqing.core.migrate import upgrade  # noqa: E402

YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))
AS_OF = datetime(2027, 1, 5, 9, 0, tzinfo=SHANGHAI).astimezone(timezone.utc)
START = datetime(2026, 1, 1, tzinfo=SHANGHAI).astimezone(timezone.utc)
SEVERITIES = ([Severity.CRITICAL] * 5 + [Severity.MAJOR] * 25 + [Severity.SERIOUS] * 40
              + [Severity.GENERAL] * 30)
TOPICS = [t for t in TOPIC_LABELS if t != "other"]
CHUNK = 20_000


def _hours(rng: random.Random, typical: float) -> timedelta:
    return timedelta(hours=rng.expovariate(1 / typical))


def _publications(rng: random.Random, i: int, t0: datetime,
                  severity: Severity) -> list[tuple[ClockKind, datetime]]:
    urgent = severity.rank >= Severity.MAJOR.rank
    first_kind = ClockKind.STATEMENT if urgent else ClockKind.RESPONSE
    if severity is Severity.GENERAL or rng.random() < 0.10:
        return []
    first = t0 + _hours(rng, 3.5 if urgent else 30)
    found = [(first_kind, first)]
    if urgent and rng.random() < 0.8:
        found.append((ClockKind.PRESS_CONFERENCE, t0 + _hours(rng, 18)))
    if urgent and rng.random() < 0.5:
        at = first
        for _ in range(rng.randrange(1, 4)):
            at += _hours(rng, 20)
            found.append((ClockKind.FOLLOW_UP, at))
    return [(kind, at) for kind, at in found if at < AS_OF]


def _incident(rng: random.Random, i: int, rows: dict[str, list[dict[str, Any]]]) -> None:
    t0 = START + timedelta(seconds=rng.randrange(365 * 86400))
    lag = timedelta(days=1, hours=rng.random() * 48) if rng.random() < 0.03 else _hours(rng, 1.2)
    detected = t0 + lag + timedelta(minutes=3)
    severity = rng.choice(SEVERITIES)
    rows["incidents"].append(dict(
        id=i, title=f"基准事件 {i}", topic=rng.choice(TOPICS), severity=severity.value,
        status="closed", t_first_post=t0, detected_at=detected, graded_at=detected, t0=t0,
        t0_source="t_first_post", is_drill=False, policy_snapshot={}, created_at=detected))
    rows["grades"].append(dict(incident_id=i, severity=severity.value, at=detected,
                               actor="system", reason="系统研判"))
    published = _publications(rng, i, t0, severity)
    rows["publications"] += [dict(incident_id=i, kind=KIND_OF_CLOCK[k].value, clock_kind=k.value,
                                  state="published", title="", body="", channels=["website"],
                                  confidential_ok=True, approved_by="leader",
                                  approved_at=at - timedelta(hours=1), published_at=at,
                                  published_url=f"https://sfj.example.gov.cn/xwfb/{i}/"
                                                f"{k.value}-{n}.html",
                                  published_by="officer", snapshot_sha256="0" * 64,
                                  evidence_source="fetched", created_at=at, updated_at=at)
                             for n, (k, at) in enumerate(published)]
    if rng.random() < 0.9:
        rows["acks"].append(dict(incident_id=i, user=f"officer{i % 7}",
                                 at=detected + _hours(rng, 0.3)))
    rows["notifications"].append(dict(
        idempotency_key=f"bench:{i}", incident_id=i, recipient=f"officer{i % 7}",
        channel="json://127.0.0.1:9/", step="statement:0:due", status="sent",
        scheduled_at=detected, sent_at=detected, kind="step"))
    view = IncidentView(t_detected=detected, severity_history=[(severity, detected)],
                        t_first_post=t0, responses=published,
                        closed_at=min(AS_OF, t0 + timedelta(days=3)))
    rows["deadlines"] += [dict(
        incident_id=i, kind=c.kind.value, sequence=c.sequence, severity=c.severity.value,
        t0=c.t0, due_at=c.due_at, met_at=c.met_at, state=c.state.value, created_at=detected,
        checked_at=AS_OF, started_at=c.started_at) for c in clocks_for(view, DEFAULT_POLICY,
                                                                       AS_OF)]


def _insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(table), rows[start:start + CHUNK])


def _documents(session: Session, rng: random.Random, n_docs: int,
               incidents: list[dict[str, Any]]) -> None:
    """Documents in chunks: every incident gets its first post, a third are linked."""
    session.execute(insert(Source), [dict(id=1, name="bench", kind="feed", config={},
                                          created_at=START)])
    linked_share = 3
    for start in range(0, n_docs, CHUNK):
        docs, links = [], []
        for d in range(start + 1, min(n_docs, start + CHUNK) + 1):
            k = d // linked_share  # the k-th linked document: round one is each first post
            owner = incidents[(k - 1) % len(incidents)] if d % linked_share == 0 else None
            first = owner is not None and k <= len(incidents)
            at = (owner["t0"] if owner is not None and first else
                  START + timedelta(seconds=rng.randrange(365 * 86400)))
            docs.append(dict(id=d, source_id=1, url=f"https://news.example.com/a/{d}",
                             title=f"网帖 {d}", content="正文" * 20, published_at=at,
                             fetched_at=at + timedelta(minutes=10), platform="web",
                             content_hash=hashlib.sha256(str(d).encode()).hexdigest()))
            if owner is not None:
                links.append(dict(incident_id=owner["id"], document_id=d, added_at=at))
        session.execute(insert(Document), docs)
        session.execute(insert(IncidentDocument), links)


def build(path: Path, n_incidents: int, n_docs: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    url = f"sqlite:///{tmp}"
    upgrade(url)
    rng = random.Random(2026)
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "incidents", "grades", "publications", "acks", "notifications", "deadlines")}
    for i in range(1, n_incidents + 1):
        _incident(rng, i, rows)
    engine = make_engine(url)
    with Session(engine) as session:
        for table, key in ((Incident, "incidents"), (SeverityChange, "grades"),
                           (Response, "publications"), (Acknowledgement, "acks"),
                           (Notification, "notifications"), (Deadline, "deadlines")):
            _insert(session, table, rows[key])
        _documents(session, rng, n_docs, rows["incidents"])
        session.commit()
    engine.dispose()
    tmp.rename(path)


def measure(path: Path) -> None:
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        counts = {name: session.scalar(select(func.count()).select_from(table)) for name, table
                  in (("incidents", Incident), ("documents", Document),
                      ("deadlines", Deadline), ("publications", Response))}
        started = time.perf_counter()
        report = build_report(session, YEAR, now=AS_OF)
        build_s = time.perf_counter() - started
    engine.dispose()
    print(f"data: {counts}; late list {len(report.late)}, follow-up gaps "
          f"{len(report.follow_up_gaps)}, timeline events "
          f"{sum(len(t.events) for t in report.timelines)}")
    print(f"{'format':<7}{'data s':>9}{'render s':>10}{'total s':>9}{'size MB':>9}")
    for fmt in FORMATS:
        started = time.perf_counter()
        data = render(report, fmt, "https://yuqing.example.gov.cn")
        render_s = time.perf_counter() - started
        print(f"{fmt:<7}{build_s:>9.2f}{render_s:>10.2f}{build_s + render_s:>9.2f}"
              f"{len(data) / 1e6:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    path = REPO_ROOT / "var" / "bench" / f"report-{args.incidents}-{args.documents}.db"
    if args.rebuild or not path.exists():
        started = time.perf_counter()
        build(path, args.incidents, args.documents)
        print(f"built {path} in {time.perf_counter() - started:.0f} s")
    measure(path)


if __name__ == "__main__":
    main()
