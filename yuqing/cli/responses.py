"""report and disclosures: thin commands over ``responses.report`` and the disclosure tracker."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from yuqing.cli.app import app, console, fail, local_time, open_context, print_json
from yuqing.core.clock import to_local
from yuqing.context import AppContext
from yuqing.core.db import session_scope

if TYPE_CHECKING:
    from responses.workdays import ChineseWorkCalendar

disclosures_app = typer.Typer(help="政务公开事项（长期、定期、即时公开）的时限跟踪。")
app.add_typer(disclosures_app, name="disclosures")

HOLIDAYS_HELP = "节假日与调休补充文件（YAML），覆盖随附文件；也可用环境变量 YUQING_HOLIDAYS"


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"日期格式错误 / {name}: not a date: {text!r} (expected e.g. 2026-11-30)")


def _calendar(paths: list[Path]) -> ChineseWorkCalendar:
    from responses.workdays import CalendarError, make_calendar

    try:
        return make_calendar(paths)
    except CalendarError as exc:
        fail(str(exc))


def _today(ctx: AppContext, now: str | None) -> date:
    return to_local(local_time(now, ctx), ctx.settings.tz).date()


@app.command("report")
def report(
    from_: str = typer.Option(..., "--from", help="统计起始日期（北京时间，含当日）"),
    to: str = typer.Option(..., "--to", help="统计截止日期（北京时间，含当日）"),
    fmt: str = typer.Option("docx", "--format", help="docx, xlsx, html, csv"),
    out: Path = typer.Option(..., "--out", help="输出文件"),
    now: str | None = typer.Option(None, "--now", help="按此时刻统计（默认现在）"),
) -> None:
    """生成舆情回应时效报告：按时率、发布用时、逾期清单与原因、事件时间线。"""
    from responses.render import FORMATS
    from responses.report import Period
    from yuqing.services.report import write_report

    if fmt not in FORMATS:
        fail(f"格式无效 / unknown format {fmt!r}: expected {', '.join(FORMATS)}")
    ctx = open_context()
    try:
        period = Period(_date(from_, "--from"), _date(to, "--to"), ctx.settings.tz)
    except ValueError as exc:
        fail(f"参数错误 / {exc}")
    with session_scope(ctx.sessions) as session:
        done = write_report(session, period, out, fmt, now=local_time(now, ctx),
                            ownership=ctx.typed.ownership,
                            dashboard_url=ctx.settings.dashboard_url)
    rate = done.on_time_rate
    shown = "—" if rate is None else f"{rate * 100:.1f}%"
    console.print(f"已生成报告：{out}（{period.label}，事件 {done.incidents} 起，按时率 {shown}）",
                  markup=False)


@disclosures_app.callback(invoke_without_command=True)
def disclosures(
    typer_ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", help="列出全部事项（默认只列待公开与逾期）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
    now: str | None = typer.Option(None, "--now", help="按此日期判断（默认今天）"),
    holidays: list[Path] = typer.Option([], "--holidays", envvar="YUQING_HOLIDAYS",
                                        help=HOLIDAYS_HELP),
) -> None:
    """列出待公开和逾期未公开的政务公开事项。"""
    if typer_ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from responses.disclosure_service import list_items

    ctx = open_context()
    calendar = _calendar(holidays)
    with session_scope(ctx.sessions) as session:
        lines = list_items(session, _today(ctx, now), calendar, only_owed=not all_)
    if as_json:
        print_json([line.as_json() for line in lines])
        return
    table = Table("编号", "事项", "类型", "科室", "应公开日期", "状态", "公开至")
    for line in lines:
        o = line.obligation
        kind = line.kind.label + (f"（{line.cadence.label}）" if line.cadence else "")
        until = ("长期" if o.published_on and o.display_until is None
                 else (o.display_until.isoformat() if o.display_until else "—"))
        table.add_row(str(line.id), line.title[:30], kind, line.section or "—",
                      o.due_on.isoformat(), o.state.label, until)
    console.print(table)


@disclosures_app.command("add")
def disclosures_add(
    title: str = typer.Option(..., "--title", help="事项名称"),
    kind: str = typer.Option(..., "--kind", help="long_term, periodic, immediate"),
    decided: str = typer.Option(..., "--decided", help="形成或决定公开的日期"),
    cadence: str | None = typer.Option(None, "--cadence", help="定期公开的周期：quarterly, half_yearly"),
    section: str | None = typer.Option(None, "--section", help="责任科室"),
    by: str = typer.Option(..., "--by", help="登记人"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """登记公开事项；打印其编号。"""
    from responses.disclosure_service import DisclosureError, add_item

    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            item_id = add_item(session, title=title, kind=kind, cadence=cadence,
                               decided_on=_date(decided, "--decided"), section=section,
                               actor=by, now=ctx.clock()).id
    except DisclosureError as exc:
        fail(str(exc))
    if as_json:
        print_json({"id": item_id})
    else:
        console.print(item_id)


@disclosures_app.command("publish")
def disclosures_publish(
    item: int = typer.Argument(..., help="事项编号"),
    on: str = typer.Option(..., "--on", help="公开日期"),
    url: str = typer.Option(..., "--url", help="公开地址"),
    by: str = typer.Option(..., "--by", help="登记人"),
) -> None:
    """登记事项已公开（日期与地址）。"""
    from responses.disclosure_service import DisclosureError, record_publication

    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            record_publication(session, item, _date(on, "--on"), url, actor=by,
                               now=ctx.clock())
    except DisclosureError as exc:
        fail(str(exc))
    console.print(f"已登记事项 #{item} 于 {on} 公开")


@disclosures_app.command("change")
def disclosures_change(
    item: int = typer.Argument(..., help="事项编号"),
    on: str = typer.Option(..., "--on", help="内容变更日期"),
    by: str = typer.Option(..., "--by", help="登记人"),
) -> None:
    """登记长期公开事项的内容变更：须在 5 个工作日内重新公开。"""
    from responses.disclosure_service import DisclosureError, record_change

    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            record_change(session, item, _date(on, "--on"), actor=by, now=ctx.clock())
    except DisclosureError as exc:
        fail(str(exc))
    console.print(f"已登记事项 #{item} 于 {on} 变更")
