"""Chinese notification text: the alert body, and the title of each notification step."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from alerts.models import CLOCK_LABELS, EscalationCause
from analysis.models import Incident, Severity
from yuqing.core.clock import format_local

T0_LABELS = {"t_event": "事件发生", "t_first_post": "首发帖文", "t_detected": "系统发现（未知事件时间）"}


class HasDue(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def due_at(self) -> datetime: ...


def span(seconds: int) -> str:
    """``4小时10分`` or ``46分`` for a number of seconds (its absolute value, whole minutes)."""
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{hours}小时{minutes}分" if hours else f"{minutes}分"


def time_left(due: datetime, now: datetime) -> str:
    """``剩余 4小时10分`` or ``已超时 1小时5分``."""
    seconds = int((due - now).total_seconds())
    return f"剩余 {span(seconds)}" if seconds >= 0 else f"已超时 {span(seconds)}"


def render_alert(incident: Incident, deadlines: Sequence[HasDue], now: datetime,
                 tz: ZoneInfo, links: Sequence[str] = ()) -> str:
    """The Chinese alert text for the duty officer."""
    lines = [
        f"【舆情预警】{incident.title}",
        f"等级：{Severity(incident.severity).label}　编号：{incident.id}"
        + ("　（演练）" if incident.is_drill else ""),
        f"起算时间(T0)：{format_local(incident.t0, tz)}（{T0_LABELS.get(incident.t0_source, '')}）",
    ]
    for d in deadlines:
        label = CLOCK_LABELS.get(d.kind, d.kind)
        lines.append(f"· {label}：截止 {format_local(d.due_at, tz)}，{time_left(d.due_at, now)}")
    lines.extend(f"· 原文：{url}" for url in links[:3])
    return "\n".join(lines)


def step_title(step_id: str, incident: Incident | None, *, left: timedelta | None = None) -> str:
    """The subject line of one notification step, e.g. ``首次权威信息发布 还剩 30 分钟截止``;
    ``left`` is the time to the clock's due at the step's time (a reminder says that)."""
    name = incident.title if incident is not None else ""
    return f"{describe_step(step_id, left)}：{name}".rstrip("：")


_ESCALATED = re.compile(r"^(【升级·[^】]*】)+")


def escalated_title(title: str, cause: EscalationCause, who: str) -> str:
    """The title of an escalated copy: why it went up (``who`` did not confirm or could not be
    reached, or the clock is overdue whoever confirmed), then the original step's title."""
    reason = {EscalationCause.OVERDUE: "已超时",
              EscalationCause.UNDELIVERED: f"{who}无法送达"}.get(cause, f"{who}未确认")
    return f"【升级·{reason}】{_ESCALATED.sub('', title)}"


def describe_step(step_id: str, left: timedelta | None = None) -> str:
    """Human words for a step id (``statement:0:remind-30``, ``graded-major``, ...). A reminder
    says ``left`` (whole minutes, as the body counts them) when given, else its nominal offset:
    a reminder moved to a clock's late start has less time than its id says."""
    if step_id.startswith("graded-"):
        severity = Severity(step_id.removeprefix("graded-"))
        return f"新{severity.label}舆情事件"
    parts = step_id.split(":")
    if len(parts) != 3:
        return step_id
    kind, sequence, what = parts
    label = CLOCK_LABELS.get(kind, kind) + (f"（第{sequence}次）" if sequence != "0" else "")
    if what.startswith("remind-"):
        minutes = what.removeprefix("remind-") if left is None else str(
            max(int(left.total_seconds()), 0) // 60)
        return f"{label} 还剩 {minutes} 分钟截止"
    if what == "due":
        return f"{label} 已到截止时间"
    return f"{label} 已超时（第 {what.removeprefix('overdue-')} 次提醒）"


def render_notification(incident: Incident, deadlines: Sequence[HasDue], now: datetime,
                        tz: ZoneInfo, *, step_id: str, key: str, links: Sequence[str],
                        dashboard_url: str | None, left: timedelta | None = None) -> str:
    """The full body at ``now`` (the step's time, so it agrees with the title): the alert, what
    this step is, how to acknowledge, and the dashboard link when a dashboard is configured."""
    lines = [
        render_alert(incident, deadlines, now, tz, links),
        f"提醒事项：{describe_step(step_id, left)}",
        f"确认收到：yuqing ack {incident.id} --by 值班表代号或用户名",
    ]
    if dashboard_url:
        lines.append(f"工作台：{dashboard_url.rstrip('/')}/incidents/{incident.id}")
    lines.append(f"消息编号：{key}")
    return "\n".join(lines)
