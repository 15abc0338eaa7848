"""incidents close, incidents reopen: thin commands over ``yuqing.services.lifecycle``."""

from __future__ import annotations

import typer

from yuqing.cli.alerts import incidents_app
from yuqing.cli.app import local_time
from yuqing.cli.app import console, fail, open_context, print_json
from yuqing.core.db import session_scope

_STATUS = {"open": "待确认", "acknowledged": "已确认", "responding": "回应中", "closed": "已关闭"}


@incidents_app.command("close")
def incidents_close(
    incident: int = typer.Argument(..., help="事件编号"),
    by: str = typer.Option(..., "--by", help="关闭人（人员代号或姓名）"),
    reason: str = typer.Option(..., "--reason", help="关闭理由（记入审计日志）"),
    now: str | None = typer.Option(None, "--now", help="以此时间为关闭时间（补录、演练）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """关闭事件：其时限不再提醒，通知不再升级；可重新打开。"""
    from alerts.deadlines import IncidentError
    from yuqing.services.lifecycle import close

    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            done = close(session, incident, by=by, reason=reason, now=local_time(now, ctx))
    except IncidentError as exc:
        fail(str(exc))
    _show(done.incident_id, done.status, done.by, as_json)


@incidents_app.command("reopen")
def incidents_reopen(
    incident: int = typer.Argument(..., help="事件编号"),
    by: str = typer.Option(..., "--by", help="操作人（人员代号或姓名）"),
    reason: str = typer.Option(..., "--reason", help="重新打开的理由（记入审计日志）"),
    now: str | None = typer.Option(None, "--now", help="以此时间为操作时间（补录、演练）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """重新打开已关闭的事件：时限提醒与升级恢复。"""
    from alerts.deadlines import IncidentError
    from yuqing.services.lifecycle import reopen

    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            done = reopen(session, incident, by=by, reason=reason, now=local_time(now, ctx))
    except IncidentError as exc:
        fail(str(exc))
    _show(done.incident_id, done.status, done.by, as_json)


def _show(incident_id: int, status: str, by: str, as_json: bool) -> None:
    if as_json:
        print_json({"id": incident_id, "status": status, "by": by})
    else:
        console.print(f"事件 #{incident_id} 现为{_STATUS.get(status, status)}（{by}）")
