"""演练 (drill): a marked synthetic 重大 incident run through the real chain on simulated time.

The drill reports an incident whose 5-hour statement falls due one hour from now, then walks a
private simulated clock through the moments that matter — the new-incident notice and the
60-minute reminder at once, escalation after the acknowledgement timeout, the 30-minute
reminder — sweeping and delivering through the real channels at each, and measures how long each
delivery took in real time. Only the drill incident is swept, so no other clock moves early; the
incident is closed at the end and, being marked ``is_drill``, never counts in statistics.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.deadlines import close_incident, policy_of, report_incident
from alerts.models import Notification
from alerts.notify import DeliveryPolicy, deliver_due
from alerts.sweep import AlertSetup, sweep
from alerts.transports import Transport
from analysis.models import Severity
from yuqing.core.clock import ManualClock
from yuqing.core.db import session_scope


@dataclass(frozen=True)
class DrillLine:
    at_offset_minutes: int  # simulated minutes after the drill started
    step: str
    recipient: str
    kind: str
    status: str
    seconds: float  # real time from the simulated moment to the end of its deliveries
    error: str | None


@dataclass(frozen=True)
class DrillReport:
    incident_id: int
    lines: tuple[DrillLine, ...]


def run_drill(factory: sessionmaker[Session], setup: AlertSetup, transport: Transport,
              now: datetime, *, actor: str, delivery: DeliveryPolicy = DeliveryPolicy(),
              timer: Callable[[], float] = time.monotonic) -> DrillReport:
    clock = ManualClock(now)
    with session_scope(factory) as session:
        incident = report_incident(
            session, title="【演练】模拟重大舆情事件", severity=Severity.MAJOR,
            t_event=now - timedelta(hours=4), urls=(), actor=actor, now=now,
            policy=setup.policy, is_drill=True)
        incident_id = incident.id
        timeout = policy_of(incident, setup.policy).ack_timeout_minutes
    lines: list[DrillLine] = []
    seen: set[int] = set()
    for minutes in (0, timeout, 30):
        clock.current = now + timedelta(minutes=minutes)
        started = timer()
        with session_scope(factory) as session:
            sweep(session, clock(), setup, only_incident=incident_id)
        deliver_due(factory, clock, transport, setup, worker="drill", policy=delivery,
                    only_incident=incident_id)
        lines.extend(_lines(factory, incident_id, minutes, timer() - started, seen))
    _close(factory, incident_id, clock(), actor)
    return DrillReport(incident_id, tuple(lines))


def _lines(factory: sessionmaker[Session], incident_id: int, minutes: int, seconds: float,
           seen: set[int]) -> list[DrillLine]:
    """The notifications this phase settled (sent or given up), not reported before."""
    with session_scope(factory) as session:
        notes = session.scalars(select(Notification).where(
            Notification.incident_id == incident_id, Notification.status != "pending")
            .order_by(Notification.id)).all()
        fresh = [n for n in notes if n.id not in seen]
        seen.update(n.id for n in fresh)
        return [DrillLine(minutes, n.step, n.recipient, n.kind, n.status, round(seconds, 3),
                          n.error) for n in fresh]


def _close(factory: sessionmaker[Session], incident_id: int, now: datetime, actor: str) -> None:
    with session_scope(factory) as session:
        close_incident(session, incident_id, actor=actor, reason="演练结束 / drill finished",
                       now=now)
