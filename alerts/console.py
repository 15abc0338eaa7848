"""Chinese notification text: the alert body, and the title of each notification step."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from alerts.models import CLOCK_LABELS
from analysis.models import Incident, Severity
from yuqing.clock import format_local

T0_LABELS = {"t_event": "事件发生", "t_first_post": "首发帖文", "t_detected": "系统发现（未知事件时间）"}


class HasDue(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def due_at(self) -> datetime: ...


def time_left(due: datetime, now: datetime) -> str:
    """``剩余 4小时10分`` or ``已超时 1小时5分``."""
    seconds = int((due - now).total_seconds())
    hours, minutes = divmod(abs(seconds) // 60, 60)
    span = f"{hours}小时{minutes}分" if hours else f"{minutes}分"
    return f"剩余 {span}" if seconds >= 0 else f"已超时 {span}"


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


def step_title(step_id: str, incident: Incident | None, *, escalated_from: str | None = None) -> str:
    """The subject line of one notification step, e.g. ``首次权威信息发布 还剩 30 分钟截止``."""
    prefix = f"【升级·{escalated_from}未确认】" if escalated_from else ""
    name = incident.title if incident is not None else ""
    return f"{prefix}{describe_step(step_id)}：{name}".rstrip("：")


def describe_step(step_id: str) -> str:
    """Human words for a step id (``statement:0:remind-30``, ``graded-major``, ...)."""
    if step_id.startswith("graded-"):
        severity = Severity(step_id.removeprefix("graded-"))
        return f"新{severity.label}舆情事件"
    parts = step_id.split(":")
    if len(parts) != 3:
        return step_id
    kind, sequence, what = parts
    label = CLOCK_LABELS.get(kind, kind) + (f"（第{sequence}次）" if sequence != "0" else "")
    if what.startswith("remind-"):
        return f"{label} 还剩 {what.removeprefix('remind-')} 分钟截止"
    if what == "due":
        return f"{label} 已到截止时间"
    return f"{label} 已超时（第 {what.removeprefix('overdue-')} 次提醒）"


def render_notification(incident: Incident, deadlines: Sequence[HasDue], now: datetime,
                        tz: ZoneInfo, *, step_id: str, key: str, links: Sequence[str],
                        dashboard_url: str) -> str:
    """The full body: the alert, what this step is, how to acknowledge, and the dashboard."""
    return "\n".join([
        render_alert(incident, deadlines, now, tz, links),
        f"提醒事项：{describe_step(step_id)}",
        f"确认收到：yuqing ack {incident.id} --by 用户名",
        f"工作台：{dashboard_url.rstrip('/')}/incidents/{incident.id}",
        f"消息编号：{key}",
    ])
