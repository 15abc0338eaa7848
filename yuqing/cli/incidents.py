"""incidents list, correct-t0, grade, publish: thin commands over ``alerts.deadlines`` and (publish)
``yuqing.services.respond``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import select

from yuqing.cli.alerts import SEVERITY_CODES, _time, incidents_app
from yuqing.cli.app import console, fail, open_context, print_json
from yuqing.core.clock import format_local
from yuqing.core.db import session_scope

CLOCK_KINDS = ("statement", "press_conference", "response", "follow_up")


@incidents_app.command("list")
def incidents_list(
    all_: bool = typer.Option(False, "--all", help="包括已结束的事件"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """列出舆情事件：等级、T0 及来源、发现时间、文档数。"""
    from sqlalchemy import func

    from analysis.models import Incident, IncidentDocument, Severity

    ctx = open_context()
    with session_scope(ctx.sessions) as session:
        query = (select(Incident, func.count(IncidentDocument.document_id))
                 .outerjoin(IncidentDocument, IncidentDocument.incident_id == Incident.id)
                 .group_by(Incident.id).order_by(Incident.id))
        if not all_:
            query = query.where(Incident.status == "open")
        rows = [(i.id, i.title, i.severity, i.status, i.t0, i.t0_source, i.detected_at, i.topic,
                 i.is_drill, n) for i, n in session.execute(query).tuples()]
    if as_json:
        print_json([{"id": r[0], "title": r[1], "severity": r[2], "status": r[3],
                     "t0": r[4].isoformat(), "t0_source": r[5], "detected_at": r[6].isoformat(),
                     "topic": r[7], "drill": r[8], "documents": r[9]} for r in rows])
        return
    table = Table(title="舆情事件")
    for col in ("编号", "标题", "等级", "主题", "T0", "发现", "文档"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r[0]), ("【演练】" if r[8] else "") + r[1][:30], Severity(r[2]).label,
                      r[7] or "—", format_local(r[4], ctx.settings.tz),
                      format_local(r[6], ctx.settings.tz), str(r[9]))
    console.print(table)


@incidents_app.command("correct-t0")
def incidents_correct_t0(
    incident: int = typer.Argument(..., help="事件编号"),
    t_event: str = typer.Option(..., "--t-event", help="事件实际发生时间（无时区按北京时间）"),
    reason: str = typer.Option(..., "--reason", help="更正理由（记入审计日志）"),
    by: str = typer.Option(..., "--by", help="更正人"),
    now: str | None = typer.Option(None, "--now", help="以此时间为登记时间（补录、演练）"),
) -> None:
    """更正事件起算时间 T0；原 T0 与原截止时间保留在历史中。"""
    from alerts.deadlines import IncidentError, correct_t0

    ctx = open_context()
    when = _time(t_event, ctx)
    try:
        with session_scope(ctx.sessions) as session:
            row = correct_t0(session, incident, when, actor=by, reason=reason, now=_time(now, ctx))
            shown = format_local(row.t0, ctx.settings.tz)
    except IncidentError as exc:
        fail(str(exc))
    console.print(f"事件 #{incident} 的 T0 已更正为 {shown}")


@incidents_app.command("grade")
def incidents_grade(
    incident: int = typer.Argument(..., help="事件编号"),
    severity: str = typer.Option(..., "--severity", help="general, serious, major, critical"),
    reason: str = typer.Option(..., "--reason", help="定级理由"),
    by: str = typer.Option(..., "--by", help="定级人"),
    now: str | None = typer.Option(None, "--now", help="以此时间为登记时间（补录、演练）"),
) -> None:
    """调整事件等级；升级后新等级的时限从同一 T0 起算。"""
    from alerts.deadlines import IncidentError, change_severity
    from analysis.models import Severity

    if severity not in SEVERITY_CODES:
        fail(f"等级无效 / unknown severity {severity!r}: expected {', '.join(SEVERITY_CODES)}")
    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            change_severity(session, incident, Severity(severity), actor=by, reason=reason,
                            now=_time(now, ctx))
    except IncidentError as exc:
        fail(str(exc))
    console.print(f"事件 #{incident} 已定为 {Severity(severity).label}")


@incidents_app.command("publish")
def incidents_publish(
    incident: int = typer.Argument(..., help="事件编号"),
    kind: str = typer.Option(..., "--kind", help="statement, press_conference, response, follow_up"),
    url: str = typer.Option(..., "--url", help="发布地址（系统抓取留证，作为时限达成的依据）"),
    by: str = typer.Option(..., "--by", help="登记人（政务公开办公室或业务科室的用户）"),
    at: str | None = typer.Option(None, "--at", help="发布时间（默认现在；无时区按北京时间）"),
    now: str | None = typer.Option(None, "--now", help="以此时间为登记时间（补录、演练）"),
    channels: list[str] = typer.Option([], "--channel", help="发布渠道，可重复：website, "
                                       "wechat, weibo, press_conference, media"),
    file: Path | None = typer.Option(None, "--file", help="以上传文件留证（不抓取地址）"),
) -> None:
    """补录已发布的回应（权威信息、发布会、回应、持续发布）：抓取留证后关闭相应时限。"""
    from alerts.models import ClockKind
    from yuqing.services.respond import RESPOND_ERRORS, record_publication

    if kind not in CLOCK_KINDS:
        fail(f"类型无效 / unknown kind {kind!r}: expected {', '.join(CLOCK_KINDS)}")
    ctx = open_context()
    when = _time(at, ctx) if at else _time(now, ctx)
    try:
        line = record_publication(ctx.sessions, incident, ClockKind(kind), by, at=when,
                                  url=url, now=_time(now, ctx), channels=channels, file=file)
    except RESPOND_ERRORS as exc:
        fail(str(exc))
    console.print(f"已登记事件 #{incident} 的发布：{format_local(when, ctx.settings.tz)}"
                  f"（回应 #{line.id}，留证 SHA-256 {line.sha256}）", markup=False)
