"""incidents list, correct-t0, grade, publish: thin commands over ``services.incidents`` and
(publish) ``services.respond``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from yuqing.cli.alerts import SEVERITY_HELP, incidents_app
from yuqing.cli.app import console, fail, local_time, open_context, print_json, typed_config
from yuqing.core.clock import format_local
from yuqing.core.db import session_scope
from yuqing.services.incidents import CLOCK_KINDS


@incidents_app.command("list")
def incidents_list(
    all_: bool = typer.Option(False, "--all", help="包括已结束的事件"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """列出舆情事件：等级、T0 及来源、发现时间、文档数。"""
    from yuqing.services.incidents import list_incidents

    ctx = open_context()
    with session_scope(ctx.sessions, readonly=True) as session:
        rows = list_incidents(session, include_closed=all_)
    if as_json:
        print_json([{"id": r.id, "title": r.title, "severity": r.severity.value,
                     "status": r.status, "t0": r.t0.isoformat(), "t0_source": r.t0_source,
                     "detected_at": r.detected_at.isoformat(), "topic": r.topic,
                     "owning_section": r.owning_section,
                     "drill": r.drill, "documents": r.documents} for r in rows])
        return
    table = Table("编号", "标题", "等级", "主题", "主管科室", "T0", "发现", "文档", title="舆情事件")
    for r in rows:
        table.add_row(str(r.id), ("【演练】" if r.drill else "") + r.title[:30], r.severity.label,
                      r.topic or "—", r.owning_section or "—", format_local(r.t0, ctx.settings.tz),
                      format_local(r.detected_at, ctx.settings.tz), str(r.documents))
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
    from alerts.deadlines import IncidentError
    from yuqing.services.incidents import correct_t0

    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            done = correct_t0(session, typed_config(ctx), incident, local_time(t_event, ctx),
                              reason=reason, by=by, now=local_time(now, ctx))
    except IncidentError as exc:
        fail(str(exc))
    console.print(f"事件 #{incident} 的 T0 已更正为 {format_local(done.t0, ctx.settings.tz)}")


@incidents_app.command("grade")
def incidents_grade(
    incident: int = typer.Argument(..., help="事件编号"),
    severity: str = typer.Option(..., "--severity", help=SEVERITY_HELP),
    reason: str = typer.Option(..., "--reason", help="定级理由"),
    by: str = typer.Option(..., "--by", help="定级人"),
    now: str | None = typer.Option(None, "--now", help="以此时间为登记时间（补录、演练）"),
) -> None:
    """调整事件等级；升级后新等级的时限从同一 T0 起算。"""
    from alerts.deadlines import IncidentError
    from yuqing.services.incidents import grade, severity_of

    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            done = grade(session, typed_config(ctx), incident, severity_of(severity),
                         reason=reason, by=by, now=local_time(now, ctx))
    except IncidentError as exc:
        fail(str(exc))
    console.print(f"事件 #{incident} 已定为 {done.severity.label}")


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
    when = local_time(at, ctx, "--at") if at else local_time(now, ctx)
    try:
        line = record_publication(ctx.sessions, incident, ClockKind(kind), by, at=when,
                                  url=url, now=local_time(now, ctx), channels=channels, file=file)
    except RESPOND_ERRORS as exc:
        fail(str(exc))
    console.print(f"已登记事件 #{incident} 的发布：{format_local(when, ctx.settings.tz)}"
                  f"（回应 #{line.id}，留证 SHA-256 {line.sha256}）", markup=False)
