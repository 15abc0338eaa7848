"""crawl, sources, import, extract."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from yuqing.cli.app import (app, console, err_console, fail, open_context, print_json,
                            require_current_schema)
from yuqing.core.clock import format_local
from yuqing.core.db import session_scope
from yuqing.context import AppContext
from yuqing.core.settings import AppConfig, SettingsError

if TYPE_CHECKING:
    from crawler.runner import SourceRun
    from crawler.sources import SourceConfig


@app.command()
def crawl(
    source: list[str] = typer.Option([], "--source", "-s", help="只采集指定数据源（可多次）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
    now: str | None = typer.Option(None, "--now", hidden=True,
                                   help="以此时间为采集时间（演练、补录、测试；无时区按北京时间）"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="显示 Scrapy 的完整日志"),
) -> None:
    """采集：抓取配置中的数据源并入库，给出每个数据源的汇总；有数据源采集失败时退出码为 1。"""
    from crawler.lease import LeaseKeeper
    from crawler.service import configured_sources, crawl_settings
    from yuqing.daemon import BUSY_EXIT

    ctx = open_context()
    require_current_schema(ctx)
    try:
        sources = [_with_queries(s, ctx.config) for s in configured_sources(ctx.config, source)
                   if s.kind != "import"]
        overrides = crawl_settings(ctx.config).scrapy_overrides()
    except SettingsError as exc:
        fail(str(exc))
    if not sources:
        fail("没有可采集的数据源 / no crawlable sources configured")
    if not verbose:  # failures are reported below, one line each, without Twisted tracebacks
        overrides["LOG_ENABLED"] = False
    if now is not None:
        overrides["YUQING_NOW"] = _time_option(now, ctx, "--now").isoformat()
    with LeaseKeeper(ctx.sessions, [s.name for s in sources], ctx.clock) as leases:
        for name, holder in leases.busy.items():
            err_console.print(f"数据源 {name} 正在由另一进程采集（{holder}），本次跳过 / source "
                              f"{name!r} is being crawled by {holder}; skipped", markup=False)
        runs = _crawl(ctx, [s for s in sources if s.name in leases.held], overrides, as_json)
    _show_runs(runs, as_json)
    failed = [run for run in runs if run.failed]
    for run in failed:
        err_console.print(f"采集失败 {run.source}：{run.last_error or '未知错误'}",
                          markup=False, highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)
    if leases.busy:
        raise typer.Exit(BUSY_EXIT)


def _crawl(ctx: AppContext, sources: list[SourceConfig], overrides: dict[str, Any],
           as_json: bool) -> list[SourceRun]:
    from crawler.runner import run_crawl
    from crawler.service import stored_urls

    if not sources:
        return []
    with session_scope(ctx.sessions) as session:
        known = stored_urls(session, [s.name for s in sources])
    with _progress(sources, as_json) as advance:
        return run_crawl(ctx.settings.database_url, sources, overrides, known_urls=known,
                         progress=advance)


@contextmanager
def _progress(sources: list[SourceConfig], transient: bool) -> Iterator[Callable[[str, str], None]]:
    """A live line per source on a terminal's stderr (none when stderr is a pipe or a log:
    there it would only add lines around the failures); yields the progress callback."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"),
                  TextColumn("已抓取 {task.completed} 页"), TimeElapsedColumn(),
                  console=err_console, transient=transient,
                  disable=not err_console.is_terminal) as bar:
        tasks = {s.name: bar.add_task(f"采集 {s.name}", total=None) for s in sources}

        def advance(name: str, event: str) -> None:
            if event == "page":
                bar.advance(tasks[name])
            else:
                bar.update(tasks[name], description=f"完成 {name}")

        yield advance


def _show_runs(runs: list[SourceRun], as_json: bool) -> None:
    if as_json:
        print_json([run.__dict__ for run in runs])
        return
    table = Table(title="采集汇总")
    for col in ("数据源", "页面", "新文档", "重复", "转载", "错误", "最近错误"):
        table.add_column(col)
    for run in runs:
        table.add_row(run.source, str(run.pages), str(run.new), str(run.duplicates),
                      str(run.reprints), str(run.errors), run.last_error or "")
    console.print(table)


def _time_option(text: str, ctx: AppContext, option: str) -> datetime:
    """A time given on the command line (no zone: the configured zone), or exit naming it."""
    from yuqing.core.clock import parse_local

    try:
        return parse_local(text, ctx.settings.tz)
    except ValueError as exc:
        fail(f"{option} 时间格式错误 / {option}: {exc}")


def _with_queries(source: SourceConfig, config: AppConfig) -> SourceConfig:
    """A search source naming a keyword scheme gets that scheme's queries as its keywords."""
    if source.kind != "search" or not source.scheme:
        return source
    from analysis.schemes import SchemesSection, load_schemes_yaml, scheme_queries
    from yuqing.core.settings import section

    schemes = section(config, "schemes", SchemesSection, config.schemes).root or load_schemes_yaml()
    try:
        queries = scheme_queries(schemes, source.scheme)
    except KeyError:
        raise SettingsError(f"数据源 {source.name} 引用了不存在的监测方案 / source {source.name!r}: "
                            f"no scheme named {source.scheme!r}") from None
    return source.model_copy(update={"keywords": [*source.keywords, *queries]})


_STATUS = {"ok": "正常", "unhealthy": "[red]异常[/red]", "removed": "[dim]已移除[/dim]"}


@app.command()
def sources(
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
    now: str | None = typer.Option(None, "--now", help="按此时刻判断（无时区按北京时间）"),
) -> None:
    """数据源健康状况：最近成功、连续失败、最近错误、上次采集条数；已从配置删除的标为已移除。"""
    from crawler.service import configured_sources, source_health

    ctx = open_context()
    at = _time_option(now, ctx, "--now") if now is not None else ctx.clock()
    try:
        names = {s.name for s in configured_sources(ctx.config)}
    except SettingsError as exc:
        fail(str(exc))
    with session_scope(ctx.sessions) as session:
        rows = source_health(session, at, names)
    if as_json:
        print_json([{**row.__dict__, "status": row.status, "last_success_at":
                     row.last_success_at.isoformat() if row.last_success_at else None}
                    for row in rows])
        return
    table = Table(title="数据源状态")
    for col in ("数据源", "类型", "状态", "最近成功", "连续失败", "上次条数", "最近错误"):
        table.add_column(col)
    for row in rows:
        status = _STATUS.get(row.status) or (
            f"[yellow]失败 {row.consecutive_failures}/{row.max_failures}[/yellow]")
        table.add_row(row.name, row.kind, status, format_local(row.last_success_at, ctx.settings.tz),
                      str(row.consecutive_failures), str(row.items_last_run), row.last_error or "")
    console.print(table)


@app.command("import")
def import_file(
    path: Path = typer.Argument(..., help="CSV 或 XLSX 文件"),
    source: str = typer.Option(..., "--source", help="配置中 kind: import 的数据源名称"),
    as_of: str | None = typer.Option(None, "--as-of",
                                     help="导出时间：“昨天”“3小时前”等相对时间按此换算（默认按导入时间）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """导入 CSV/XLSX（12345 工单、留言板导出、人工上报的帖文）为文档。"""
    from crawler.imports import TableError, read_table, rows_to_items
    from crawler.service import configured_sources
    from crawler.sources import sync_sources
    from crawler.store import store_items

    ctx = open_context()
    now = ctx.clock()
    reference = _time_option(as_of, ctx, "--as-of") if as_of is not None else now
    if reference > now:
        fail(f"--as-of 晚于当前时间 / --as-of {format_local(reference, ctx.settings.tz)} "
             "is in the future")
    try:
        cfg = configured_sources(ctx.config, [source])[0]
        if cfg.kind != "import" or cfg.columns is None:
            fail(f"数据源 {source} 不是 import 类型 / source {source!r} is not of kind 'import'")
        table = read_table(path, cfg.columns.text)
        rows = rows_to_items(table, cfg.columns, cfg.name, reference)
    except (SettingsError, TableError, OSError) as exc:
        fail(f"导入失败 / import failed: {exc}")
    with session_scope(ctx.sessions) as session:
        row = sync_sources(session, [cfg], now)[0]
        stored = store_items(session, row.id, rows.items, now)
    summary = {"new": len(stored.new), "duplicates": stored.duplicates,
               "same_text": stored.same_text, "problems": rows.problems, "sheet": table.sheet,
               "reference_time": reference.isoformat(),
               "reference": "as_of" if as_of is not None else "import_time"}
    _show_import(summary, reference, ctx, as_json)


def _show_import(summary: dict[str, Any], reference: datetime, ctx: AppContext,
                 as_json: bool) -> None:
    if as_json:
        print_json(summary)
        return
    if summary["sheet"]:
        console.print(f"读取工作表「{summary['sheet']}」", markup=False)
    basis = "导出时间（--as-of）" if summary["reference"] == "as_of" else "导入时间"
    console.print(f"相对时间（昨天、3小时前等）按{basis} {format_local(reference, ctx.settings.tz)} 换算",
                  markup=False)
    console.print(f"新增 {summary['new']} 条（其中与已有文档内容相同、已关联 {summary['same_text']} 条），"
                  f"重复 {summary['duplicates']} 条，问题 {len(summary['problems'])} 条")
    for problem in summary["problems"]:
        console.print(f"  {problem}", markup=False)


@app.command()
def extract(
    target: str = typer.Argument(..., help="本地 HTML 文件路径"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
    now: str | None = typer.Option(None, "--now", help="以此时间为读取时间（无时区按北京时间）"),
) -> None:
    """从网页中提取标题、发布时间、作者和正文；晚于读取时间的发布时间照录并标出。"""
    from crawler.extract import draft_to_json, extract_file

    if target.startswith(("http://", "https://")):
        fail("请先用 yuqing crawl 采集网页；extract 读取本地文件 / extract reads a saved file")
    path = Path(target)
    if not path.is_file():
        fail(f"文件不存在 / no such file: {path}")
    ctx = open_context()
    at = _time_option(now, ctx, "--now") if now is not None else ctx.clock()
    data = draft_to_json(extract_file(path, at), at)
    if as_json:
        print_json(data)
        return
    for key, label in (("title", "标题"), ("published_at", "发布时间"), ("author", "作者")):
        console.print(f"{label}：{data[key] or '—'}{_time_note(data) if key == 'published_at' else ''}",
                      markup=False)
    console.print(data["content"] or "", markup=False)


def _time_note(data: dict[str, Any]) -> str:
    notes = (["仅日期"] if data["published_precision"] == "day" else []) + (
        ["晚于读取时间，照录并标记"] if data.get("published_in_future") else [])
    return f"（{'；'.join(notes)}）" if notes else ""
