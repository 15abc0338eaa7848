"""Read-only views for the CLI and dashboard: the outbox with its attempts, the chain on duty."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.console import time_left
from alerts.models import ClockState, DeliveryAttempt, Notification
from alerts.notify import short_channel
from alerts.policy import Policy
from alerts.roster import Roster, chain, gap_around
from yuqing.core.clock import SHANGHAI, format_local, to_local


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in Beijing time with its offset (``2026-11-29T13:00:00+08:00``)."""
    return None if value is None else to_local(value, SHANGHAI).isoformat()


def list_notifications(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """The newest notifications first, each with every delivery attempt (failures included)."""
    notes = list(session.scalars(select(Notification).order_by(Notification.id.desc())
                                 .limit(limit)))
    attempts: dict[int, list[DeliveryAttempt]] = {}
    if notes:
        for row in session.scalars(select(DeliveryAttempt).where(
                DeliveryAttempt.notification_id.in_([n.id for n in notes]))
                .order_by(DeliveryAttempt.id)):
            attempts.setdefault(row.notification_id, []).append(row)
    return [_note_json(n, attempts.get(n.id, [])) for n in notes]


def _note_json(note: Notification, attempts: list[DeliveryAttempt]) -> dict[str, Any]:
    return {
        "id": note.id, "key": note.idempotency_key, "incident_id": note.incident_id,
        "kind": note.kind, "step": note.step, "recipient": note.recipient, "level": note.level,
        "status": note.status, "channel": short_channel(note.channel) if note.channel else None,
        "attempts": note.attempts, "error": note.error, "title": note.title,
        "scheduled_at": iso(note.scheduled_at), "sent_at": iso(note.sent_at),
        "acked_by": note.acked_by, "acked_at": iso(note.acked_at),
        "delivery": [{"channel": short_channel(a.channel), "number": a.number, "status": a.status,
                      "permanent": a.permanent, "error": a.error,
                      "started_at": iso(a.started_at), "finished_at": iso(a.finished_at)}
                     for a in attempts],
    }


def clock_left(state: str, due: datetime, met_at: datetime | None, at: datetime,
               tz: ZoneInfo = SHANGHAI) -> str:
    """The "time left" cell of a clock at ``at``: the time to its due, or when it was met."""
    if state in (ClockState.MET_ON_TIME, ClockState.MET_LATE) and met_at is not None:
        return f"已于 {format_local(met_at, tz)} 完成"
    if state == ClockState.WAIVED:
        return "—"
    return time_left(due, at)


def roster_now(roster: Roster, policy: Policy, now: datetime) -> dict[str, Any]:
    """Who gets the next alert at ``now``: the chain in order, and the duty gap if any."""
    rungs = chain(roster, now, policy.escalation)
    people = [{"role": r.role.value, "role_label": r.role.label, "person": r.person,
               "name": roster.people[r.person].name if r.person else None,
               "channels": [short_channel(c) for c in roster.people[r.person].channels]
               if r.person else []} for r in rungs]
    first = next((p for p in people if p["person"]), None)
    gap = None
    if not rungs or rungs[0].person is None:
        start, end = gap_around(roster, now)
        gap = {"from": iso(start), "until": iso(end)}
    return {"now": iso(now), "next_alert_to": first["person"] if first else None,
            "chain": people, "gap": gap, "admin": roster.admin}
