"""Deliver the outbox: claim a notification, record the attempt, send, record the outcome.

Each delivery is three short units of work. (1) Claim with compare-and-set
(``UPDATE … WHERE id=? AND status='pending'``) and write the ``DeliveryAttempt`` row, committed
*before* sending. (2) Send, outside any transaction. (3) Record the outcome. A process killed
between (1) and (3) leaves the row ``sending``: the next leader marks it ``unknown`` and does not
send it again, because the message may already have arrived — a step is delivered at most once.

Failures: a transient error is retried on the same channel with exponential backoff
(``DeliveryPolicy``); a permanent one, or the retry budget spent, moves to the person's next
channel; when no channel is left the row is ``failed`` and escalates at once. A channel that
fails ``failing_threshold`` times in a row is reported to the admin once until it works again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from alerts.models import ChannelHealth, DeliveryAttempt, Notification
from alerts.roster import Roster, current_roster
from alerts.sweep import AlertSetup, enqueue, undelivered
from alerts.transports import AttachingTransport, NotificationError, Transport
from analysis.models import Incident, Severity
from yuqing.core.clock import format_local
from yuqing.core.db import session_scope


@dataclass(frozen=True)
class DeliveryPolicy:
    attempts_per_channel: int = 3
    backoff: timedelta = timedelta(seconds=20)  # 20 s, 40 s between tries of one channel
    failing_threshold: int = 3


@dataclass
class DeliveryStats:
    processed: int = 0
    sent: int = 0
    failed_attempts: int = 0
    gave_up: int = 0


def recover_interrupted(session: Session, now: datetime, setup: AlertSetup | None = None) -> int:
    """Rows left ``sending`` by a dead process: outcome unknown, never sent again. With
    ``setup``, the admin is told of each one, once (the outbox key holds the row's id): the
    recipient may or may not have the message, and a person must find out."""
    session.execute(update(DeliveryAttempt).where(DeliveryAttempt.status == "sending")
                    .values(status="unknown", finished_at=now,
                            error="进程在发送中途退出 / process died while sending")
                    .execution_options(synchronize_session=False))
    lost = list(session.scalars(select(Notification).where(Notification.status == "sending")))
    for note in lost:
        note.status, note.next_attempt_at = "unknown", None
        note.error = "发送结果未知（进程中断），为避免重复不再重发 / outcome unknown after a crash; not resent"
    session.flush()
    if setup is not None:
        roster = current_roster(session, setup.roster)
        for note in lost:
            if note.kind != "delivery_unknown":  # a lost notice about a lost notice stops here
                _report_unknown(session, roster, note, now, setup)
    return len(lost)


def _report_unknown(session: Session, roster: Roster, note: Notification, now: datetime,
                    setup: AlertSetup) -> int:
    about = f"事件 #{note.incident_id} 的" if note.incident_id is not None else ""
    return enqueue(session, roster, key=f"delivery-unknown:{note.id}:{roster.admin or '-'}",
                   recipient=roster.admin, incident_id=None, deadline_id=None,
                   step="delivery-unknown", kind="delivery_unknown", level=0,
                   title="【通知结果未知】", scheduled_at=now, now=now,
                   body=f"{about}通知「{note.title}」（编号 {note.id}，接收人 {note.recipient}，"
                        f"渠道 {short_channel(note.channel)}）发送时进程中断，无法确认对方是否收到；"
                        f"为避免重复，系统不会重发。请核实对方是否收到，必要时另行通知。\n"
                        f"中断发现时间：{format_local(now, setup.tz)}")


# Most urgent first, so a 重大 alert never waits behind a burst of routine ones: 特别重大, 重大,
# then notices to the admin (no incident: a source or channel down), then 较大 and 一般; within
# a rank, escalations before first notices, then the oldest.
_URGENCY = case(
    (Incident.severity == Severity.CRITICAL.value, 0),
    (Incident.severity == Severity.MAJOR.value, 1),
    (Notification.incident_id.is_(None), 2),
    (Incident.severity == Severity.SERIOUS.value, 3),
    else_=4)


def due_ids(session: Session, now: datetime, limit: int,
            only_incident: int | None = None) -> list[int]:
    """The outbox rows due at ``now``, most urgent first (``_URGENCY``)."""
    query = (select(Notification.id)
             .outerjoin(Incident, Incident.id == Notification.incident_id)
             .where(Notification.next_attempt_at <= now, Notification.status == "pending"))
    if only_incident is not None:
        query = query.where(Notification.incident_id == only_incident)
    return list(session.scalars(query.order_by(_URGENCY, Notification.level.desc(),
                                               Notification.next_attempt_at, Notification.id)
                                .limit(limit)))


def deliver_due(factory: sessionmaker[Session], clock: Callable[[], datetime],
                transport: Transport, setup: AlertSetup, *, worker: str,
                policy: DeliveryPolicy = DeliveryPolicy(), limit: int = 200,
                only_incident: int | None = None) -> DeliveryStats:
    """Deliver every outbox row whose time has come (at ``clock()``), one by one."""
    stats = DeliveryStats()
    with session_scope(factory) as session:
        ids = due_ids(session, clock(), limit, only_incident)
    stats.processed = len(ids)
    for notification_id in ids:
        deliver_one(factory, notification_id, clock, transport, setup, worker=worker,
                    policy=policy, stats=stats)
    return stats


def deliver_one(factory: sessionmaker[Session], notification_id: int,
                clock: Callable[[], datetime], transport: Transport, setup: AlertSetup, *,
                worker: str, policy: DeliveryPolicy, stats: DeliveryStats) -> None:
    with session_scope(factory) as session:
        claimed = _claim(session, notification_id, clock(), worker)
    if claimed is None:
        return  # another worker has it, or it is no longer due
    attempt_id, url, title, body, kind, key = claimed
    error: NotificationError | None = None
    try:
        files = setup.attachments(kind, key, url) if setup.attachments is not None else ()
        if files and isinstance(transport, AttachingTransport):
            transport.send_attached(url, title, body, files)
        else:
            transport.send(url, title, body)
    except NotificationError as exc:
        error = exc
    for retry in range(_RECORD_RETRIES):
        # The message is out: its outcome must be written. SQLite refuses a write whose read
        # snapshot went stale ("database is locked"); that unit of work is simply redone.
        try:
            with session_scope(factory) as session:
                roster = current_roster(session, setup.roster)
                _record(session, notification_id, attempt_id, error, clock(), roster, policy,
                        stats)
            return
        except OperationalError:
            if retry == _RECORD_RETRIES - 1:
                raise


_RECORD_RETRIES = 5


def _claim(session: Session, notification_id: int, now: datetime,
           worker: str) -> tuple[int, str, str, str, str, str] | None:
    won = session.execute(update(Notification).where(
        Notification.id == notification_id, Notification.status == "pending",
        Notification.next_attempt_at <= now)
        .values(status="sending", claimed_by=worker, attempts=Notification.attempts + 1,
                next_attempt_at=None).execution_options(synchronize_session=False))
    if getattr(won, "rowcount", 0) != 1:
        return None
    note = session.get(Notification, notification_id, populate_existing=True)
    assert note is not None
    attempt = DeliveryAttempt(notification_id=note.id, channel=note.channel,
                              number=note.attempts, status="sending", started_at=now)
    session.add(attempt)
    session.flush()
    return attempt.id, note.channel, note.title, note.body, note.kind, note.idempotency_key


def _record(session: Session, notification_id: int, attempt_id: int,
            error: NotificationError | None, now: datetime, roster: Roster,
            policy: DeliveryPolicy, stats: DeliveryStats) -> None:
    note = session.get(Notification, notification_id, populate_existing=True)
    attempt = session.get(DeliveryAttempt, attempt_id)
    assert note is not None and attempt is not None
    attempt.finished_at = now
    if error is None:
        attempt.status, note.status, note.sent_at = "sent", "sent", now
        _channel_ok(session, note.channel, now)
        stats.sent += 1
        return
    attempt.status, attempt.error, attempt.permanent = "failed", error.message, error.permanent
    note.error = f"{short_channel(note.channel)}: {error.message}"
    stats.failed_attempts += 1
    _channel_failed(session, note.channel, error.message, now, roster, policy)
    tries = session.scalar(select(func.count()).select_from(DeliveryAttempt).where(
        DeliveryAttempt.notification_id == note.id, DeliveryAttempt.channel == note.channel)) or 0
    if not error.permanent and tries < policy.attempts_per_channel:
        note.status = "pending"
        note.next_attempt_at = now + policy.backoff * (2 ** (tries - 1))
        return
    _next_channel(note, roster, now, stats)


def _next_channel(note: Notification, roster: Roster, now: datetime, stats: DeliveryStats) -> None:
    person = roster.people.get(note.recipient)
    channels = person.channels if person else ()
    index = note.channel_index + 1
    if index < len(channels):
        note.channel_index, note.channel = index, channels[index]
        note.status, note.next_attempt_at = "pending", now
        return
    note.status = "failed"
    stats.gave_up += 1
    if note.incident_id is not None:  # nobody could be told: go up the chain at once
        note.escalate_at, note.escalate_cause = now, undelivered(note.escalate_cause)


def short_channel(url: str) -> str:
    """A channel for display: scheme and host only (URLs may carry tokens)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/')[0].split('?')[0].rpartition('@')[2]}"


def _health(session: Session, channel: str) -> ChannelHealth:
    digest = hashlib.sha256(channel.encode("utf-8")).hexdigest()
    row = session.scalars(select(ChannelHealth).where(ChannelHealth.channel_hash == digest)).first()
    if row is None:
        row = ChannelHealth(channel_hash=digest, channel=short_channel(channel), consecutive_failures=0)
        session.add(row)
    return row


def _channel_ok(session: Session, channel: str, now: datetime) -> None:
    row = _health(session, channel)
    row.consecutive_failures, row.failing_since, row.reported_at = 0, None, None
    row.last_success_at = now


def _channel_failed(session: Session, channel: str, message: str, now: datetime,
                    roster: Roster, policy: DeliveryPolicy) -> None:
    row = _health(session, channel)
    row.consecutive_failures = (row.consecutive_failures or 0) + 1
    row.last_error = message
    row.failing_since = row.failing_since or now
    if row.consecutive_failures < policy.failing_threshold or row.reported_at is not None:
        return
    row.reported_at = now
    session.flush()
    enqueue(session, roster, key=f"channel-down:{row.channel_hash[:16]}:{row.failing_since:%Y%m%d%H%M%S}"
            f":{roster.admin or '-'}", recipient=roster.admin, incident_id=None,
            deadline_id=None, step="channel-down", kind="channel_down", level=0,
            title="【通知渠道故障】", scheduled_at=now, now=now,
            body=f"通知渠道 {row.channel} 已连续失败 {row.consecutive_failures} 次。"
                 f"最近错误：{message}\n请检查该渠道配置或接收端。")
