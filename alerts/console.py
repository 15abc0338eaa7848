"""Plain-text notification rendering and the console channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from alerts.models import CLOCK_LABELS, Deadline
from analysis.models import Incident, Severity
from yuqing.clock import format_local

T0_LABELS = {"t_event": "事件发生", "t_first_post": "首发帖文", "t_detected": "系统发现"}


def time_left(due: datetime, now: datetime) -> str:
    """``剩余 4小时10分`` or ``已超时 1小时5分``."""
    seconds = int((due - now).total_seconds())
    hours, minutes = divmod(abs(seconds) // 60, 60)
    span = f"{hours}小时{minutes}分" if hours else f"{minutes}分"
    return f"剩余 {span}" if seconds >= 0 else f"已超时 {span}"


def render_alert(incident: Incident, deadlines: Sequence[Deadline], now: datetime,
                 tz: ZoneInfo, links: Sequence[str] = ()) -> str:
    """The Chinese alert text for the duty officer."""
    lines = [
        f"【舆情预警】{incident.title}",
        f"等级：{Severity(incident.severity).label}　编号：{incident.id}",
        f"起算时间(T0)：{format_local(incident.t0, tz)}（{T0_LABELS.get(incident.t0_source, '')}）",
    ]
    for d in deadlines:
        label = CLOCK_LABELS.get(d.kind, d.kind)
        lines.append(f"· {label}：截止 {format_local(d.due_at, tz)}，{time_left(d.due_at, now)}")
    lines.extend(f"· 原文：{url}" for url in links[:3])
    return "\n".join(lines)
