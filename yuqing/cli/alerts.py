"""incidents report, clocks, ack, alerts, roster import|now, run, drill."""

from __future__ import annotations

from pathlib import Path

import typer

from yuqing.cli.app import (LogFormat, app, console, fail, local_time, log_format_option,
                            open_context, print_json, require_current_schema, typed_config)
from yuqing.core.db import session_scope

incidents_app = typer.Typer(help="舆情事件。", no_args_is_help=True)
roster_app = typer.Typer(help="值班表。", no_args_is_help=True)
app.add_typer(incidents_app, name="incidents")
app.add_typer(roster_app, name="roster")

SEVERITY_HELP = "等级：general, serious, major, critical"


@incidents_app.command("report")
def incidents_report(
    title: str = typer.Option(..., "--title", help="事件标题"),
    severity: str = typer.Option(..., "--severity", help=SEVERITY_HELP),
    t_event: str | None = typer.Option(None, "--t-event", help="事件发生时间（无时区按北京时间）"),
    urls: list[str] = typer.Option([], "--url", help="相关链接，可重复"),
    by: str = typer.Option("cli", "--by", help="上报人"),
    topic: str | None = typer.Option(None, "--topic",
                                     help="业务主题代码（如 notary、legal_aid），据此确定主管科室"),
    now: str | None = typer.Option(None, "--now", help="以此时间为上报时间（演练、补录）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """人工上报舆情事件，并按时限策略开始计时。"""
    from alerts.deadlines import IncidentError
    from yuqing.services import incidents

    ctx = open_context()
    try:
        grade = incidents.severity_of(severity)
        event = local_time(t_event, ctx) if t_event else None
        with session_scope(ctx.sessions) as session:
            done = incidents.report(session, typed_config(ctx), title=title, severity=grade,
                                    t_event=event, urls=urls, by=by, now=local_time(now, ctx),
                                    topic=topic)
    except IncidentError as exc:
        fail(str(exc))
    if as_json:
        print_json({"id": done.incident_id})
    else:
        console.print(done.incident_id)


@app.command("clocks")
def clocks(
    now: str | None = typer.Option(None, "--now", help="按此时刻计算状态（无时区按北京时间）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """列出未结事件的各项时限：T0 及来源、截止时间、状态、剩余时间。"""
    from rich.table import Table

    from alerts.console import T0_LABELS
    from alerts.deadlines import list_clocks
    from alerts.models import CLOCK_LABELS, CLOCK_STATE_LABELS
    from alerts.views import clock_left, iso
    from yuqing.core.clock import format_local

    ctx = open_context()
    at = local_time(now, ctx)
    with session_scope(ctx.sessions) as session:
        lines = list_clocks(session, at, ctx.clock(), typed_config(ctx).policy)
    if as_json:
        print_json([{**line.as_json(), "t0": iso(line.t0), "due_at": iso(line.due_at),
                     "met_at": iso(line.met_at)} for line in lines])
        return
    table = Table("事件", "时限", "T0（来源）", "截止", "状态", "剩余")
    for line in lines:
        table.add_row(f"#{line.incident_id} {line.title[:16]}",
                      CLOCK_LABELS.get(line.kind, line.kind) + (
                          f"#{line.sequence}" if line.sequence else ""),
                      f"{format_local(line.t0)}（{T0_LABELS.get(line.t0_source, '')}）",
                      format_local(line.due_at), CLOCK_STATE_LABELS.get(line.state, line.state),
                      clock_left(line.state, line.due_at, line.met_at, at, ctx.settings.tz))
    console.print(table)


@app.command("ack")
def ack(
    incident: int = typer.Argument(..., help="事件编号"),
    by: str = typer.Option(..., "--by", help="确认人：值班表中的人员（代号或姓名）或用户名"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """确认收到预警：该事件此后不再因未确认而升级，提醒改发确认人（超时仍升级）。"""
    from alerts.deadlines import IncidentError
    from yuqing.services.incidents import acknowledge

    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            done = acknowledge(session, typed_config(ctx), incident, by=by, now=ctx.clock())
    except IncidentError as exc:
        fail(str(exc))
    if as_json:
        print_json({"incident_id": incident, "acknowledged": done.notifications,
                    "by": done.person})
    else:
        console.print(f"已确认事件 #{incident} 的 {done.notifications} 条通知（{done.person}）；"
                      f"此后该事件不再因未确认而升级")


@app.command("alerts")
def alerts(
    limit: int = typer.Option(100, "--limit", help="最多显示条数"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """列出通知（含发送失败、重试与备用渠道）。"""
    from rich.table import Table

    from alerts.views import list_notifications

    ctx = open_context()
    with session_scope(ctx.sessions) as session:
        notes = list_notifications(session, limit)
    if as_json:
        print_json(notes)
        return
    table = Table("编号", "事件", "事项", "接收人", "状态", "渠道", "尝试", "错误")
    for n in notes:
        table.add_row(str(n["id"]), str(n["incident_id"] or "—"), n["step"], n["recipient"],
                      n["status"], n["channel"] or "—", str(n["attempts"]),
                      (n["error"] or "")[:40])
    console.print(table)


@roster_app.command("import")
def roster_import(
    file: Path = typer.Argument(..., help="值班表文件（YAML 或 CSV）"),
    by: str = typer.Option("cli", "--by", help="导入人"),
) -> None:
    """导入值班表（替换当前值班表），并据此建立或更新人员记录。"""
    from alerts.roster import RosterError
    from yuqing.services.people import import_roster_file

    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            done = import_roster_file(session, file, actor=by, now=ctx.clock())
    except RosterError as exc:
        fail(str(exc))
    console.print(f"已导入值班表：{done.people} 人，{done.shifts} 个班次")


@roster_app.command("now")
def roster_now(
    now: str | None = typer.Option(None, "--now", help="查询此时刻（无时区按北京时间）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """当前值班与升级链：下一条预警发给谁。"""
    from alerts.roster import current_roster
    from alerts.views import roster_now as view

    ctx = open_context()
    config = typed_config(ctx)
    at = local_time(now, ctx)
    with session_scope(ctx.sessions) as session:
        data = view(current_roster(session, config.roster), config.policy, at)
    if as_json:
        print_json(data)
        return
    if data["gap"]:
        console.print(f"[red]值班空缺[/red]：{data['gap']['from'] or '—'} 至 "
                      f"{data['gap']['until'] or '—'}，预警将转至上一级")
    console.print(f"下一条预警发给：{data['next_alert_to'] or '无人（请导入值班表）'}")
    for rung in data["chain"]:
        console.print(f"· {rung['role_label']}：{rung['name'] or '空缺'} "
                      f"{' '.join(rung['channels'])}", markup=False)


@app.command("run")
def run(
    clock_file: Path | None = typer.Option(None, "--clock-file", hidden=True,
                                           help="从文件读取当前时间（模拟与测试）"),
    heartbeat: Path | None = typer.Option(None, "--heartbeat", hidden=True,
                                          help="每次处理完写入所用时间"),
    poll: float = typer.Option(15.0, "--poll", help="轮询间隔（秒）"),
    elect: bool = typer.Option(True, "--elect/--no-elect", help="多实例时只让一个调度器工作"),
    worker: str | None = typer.Option(None, "--worker", help="实例名"),
    crawl: bool = typer.Option(True, "--crawl/--no-crawl", help="按各数据源的周期定时采集"),
    status_port: int | None = typer.Option(None, "--status-port",
                                           help="在 127.0.0.1 的此端口提供 /healthz 与 /metrics"),
    log_format: LogFormat = log_format_option(),
) -> None:
    """常驻进程：定时采集、研判、时限检查、提醒、升级与通知发送。"""
    import logging

    from yuqing import daemon, logs
    from yuqing.cli.app import require_valid_config

    report = require_valid_config()  # refuse to start on anything a command would reject
    ctx = open_context()
    require_current_schema(ctx)
    logs.configure(log_format.value)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run otherwise
    for problem in report.warnings:
        if problem.path != "roster.admin":  # judged by the daemon on the roster in force
            logging.getLogger(__name__).warning("config: %s: %s", problem.path, problem.message)
    typed_config(ctx)
    daemon.run(ctx, daemon.RunOptions(clock_file, heartbeat, poll, elect, worker, crawl,
                                      status_port))


@app.command("drill")
def drill(
    by: str = typer.Option("drill", "--by", help="演练发起人"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """演练：生成带标记的模拟重大事件，经真实渠道走完通知、提醒、升级，并报告各步耗时。"""
    from dataclasses import asdict

    from rich.table import Table

    from alerts.drill import run_drill
    from alerts.transports.apprise_transport import AppriseTransport

    ctx = open_context()
    report = run_drill(ctx.sessions, typed_config(ctx).alerts, AppriseTransport(), ctx.clock(),
                       actor=by)
    if as_json:
        print_json({"incident_id": report.incident_id,
                    "steps": [asdict(line) for line in report.lines]})
        return
    table = Table("模拟时刻", "事项", "接收人", "类型", "状态", "耗时(秒)", "错误")
    for line in report.lines:
        table.add_row(f"+{line.at_offset_minutes}分", line.step, line.recipient, line.kind,
                      line.status, f"{line.seconds:.3f}", (line.error or "")[:40])
    console.print(f"演练事件 #{report.incident_id}（不计入统计，已关闭）")
    console.print(table)
