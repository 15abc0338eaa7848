"""crawl, sources, import, extract."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from yuqing.cli.app import (app, console, err_console, fail, open_context, print_json,
                            require_current_schema)
from yuqing.clock import format_local
from yuqing.db import session_scope
from yuqing.settings import AppConfig, SettingsError

if TYPE_CHECKING:
    from crawler.runner import SourceRun
    from crawler.sources import SourceConfig
    from yuqing.context import AppContext


@app.command()
def crawl(
    source: list[str] = typer.Option([], "--source", "-s", help="只采集指定数据源（可多次）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """采集：抓取配置中的数据源并入库，最后给出每个数据源的汇总。"""
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
    with LeaseKeeper(ctx.sessions, [s.name for s in sources], ctx.clock) as leases:
        for name, holder in leases.busy.items():
            err_console.print(f"数据源 {name} 正在由另一进程采集（{holder}），本次跳过 / source "
                              f"{name!r} is being crawled by {holder}; skipped", markup=False)
        runs = _crawl(ctx, [s for s in sources if s.name in leases.held], overrides, as_json)
    if as_json:
        print_json([run.__dict__ for run in runs])
    else:
        _show_runs(runs)
    if leases.busy:
        raise typer.Exit(BUSY_EXIT)


def _crawl(ctx: AppContext, sources: list[SourceConfig], overrides: dict[str, object],
           as_json: bool) -> list[SourceRun]:
    from crawler.runner import run_crawl
    from crawler.service import stored_urls

    if not sources:
        return []
    with session_scope(ctx.sessions) as session:
        known = stored_urls(session, [s.name for s in sources])
    with Progress(SpinnerColumn(), TextColumn("{task.description}"),
                  TextColumn("已抓取 {task.completed} 页"), TimeElapsedColumn(),
                  console=err_console, transient=as_json) as bar:
        tasks = {s.name: bar.add_task(f"采集 {s.name}", total=None) for s in sources}

        def advance(name: str, event: str) -> None:
            if event == "page":
                bar.advance(tasks[name])
            else:
                bar.update(tasks[name], description=f"完成 {name}")

        return run_crawl(ctx.settings.database_url, sources, overrides, known_urls=known,
                         progress=advance)


def _show_runs(runs: list[SourceRun]) -> None:
    table = Table(title="采集汇总")
    for col in ("数据源", "页面", "新文档", "重复", "转载", "错误", "最近错误"):
        table.add_column(col)
    for run in runs:
        table.add_row(run.source, str(run.pages), str(run.new), str(run.duplicates),
                      str(run.reprints), str(run.errors), run.last_error or "")
    console.print(table)


def _with_queries(source: SourceConfig, config: AppConfig) -> SourceConfig:
    """A search source naming a keyword scheme gets that scheme's queries as its keywords."""
    if source.kind != "search" or not source.scheme:
        return source
    from analysis.schemes import SchemesSection, load_schemes_yaml, scheme_queries
    from yuqing.settings import section

    schemes = section(config, "schemes", SchemesSection, config.schemes).root or load_schemes_yaml()
    try:
        queries = scheme_queries(schemes, source.scheme)
    except KeyError:
        raise SettingsError(f"数据源 {source.name} 引用了不存在的监测方案 / source {source.name!r}: "
                            f"no scheme named {source.scheme!r}") from None
    return source.model_copy(update={"keywords": [*source.keywords, *queries]})


@app.command()
def sources(as_json: bool = typer.Option(False, "--json", help="以 JSON 输出")) -> None:
    """数据源健康状况：最近成功、连续失败、最近错误、上次采集条数。"""
    from crawler.service import source_health

    ctx = open_context()
    with session_scope(ctx.sessions) as session:
        rows = source_health(session, ctx.clock())
    if as_json:
        print_json([{**row.__dict__, "last_success_at": row.last_success_at.isoformat()
                     if row.last_success_at else None} for row in rows])
        return
    table = Table(title="数据源状态")
    for col in ("数据源", "类型", "状态", "最近成功", "连续失败", "上次条数", "最近错误"):
        table.add_column(col)
    for row in rows:
        table.add_row(row.name, row.kind, "正常" if row.healthy else "[red]异常[/red]",
                      format_local(row.last_success_at, ctx.settings.tz),
                      str(row.consecutive_failures), str(row.items_last_run), row.last_error or "")
    console.print(table)


@app.command("import")
def import_file(
    path: Path = typer.Argument(..., help="CSV 或 XLSX 文件"),
    source: str = typer.Option(..., "--source", help="配置中 kind: import 的数据源名称"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """导入 CSV/XLSX（12345 工单、留言板导出、人工上报的帖文）为文档。"""
    from crawler.imports import TableError, read_table, rows_to_items
    from crawler.service import configured_sources
    from crawler.sources import sync_sources
    from crawler.store import store_items

    ctx = open_context()
    try:
        cfg = configured_sources(ctx.config, [source])[0]
        if cfg.kind != "import" or cfg.columns is None:
            fail(f"数据源 {source} 不是 import 类型 / source {source!r} is not of kind 'import'")
        rows = rows_to_items(read_table(path), cfg.columns, cfg.name, ctx.clock())
    except (SettingsError, TableError, OSError) as exc:
        fail(f"导入失败 / import failed: {exc}")
    with session_scope(ctx.sessions) as session:
        row = sync_sources(session, [cfg], ctx.clock())[0]
        stored = store_items(session, row.id, rows.items, ctx.clock())
    summary = {"new": len(stored.new), "duplicates": stored.duplicates, "problems": rows.problems}
    if as_json:
        print_json(summary)
        return
    console.print(f"新增 {summary['new']} 条，重复 {summary['duplicates']} 条，问题 {len(rows.problems)} 条")
    for problem in rows.problems:
        console.print(f"  {problem}", markup=False)


@app.command()
def extract(
    target: str = typer.Argument(..., help="本地 HTML 文件路径"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """从网页中提取标题、发布时间、作者和正文。"""
    from crawler.extract import draft_to_json, extract_file

    if target.startswith(("http://", "https://")):
        fail("请先用 yuqing crawl 采集网页；extract 读取本地文件 / extract reads a saved file")
    path = Path(target)
    if not path.is_file():
        fail(f"文件不存在 / no such file: {path}")
    ctx = open_context()
    data = draft_to_json(extract_file(path, ctx.clock()))
    if as_json:
        print_json(data)
        return
    for key, label in (("title", "标题"), ("published_at", "发布时间"), ("author", "作者")):
        console.print(f"{label}：{data[key] or '—'}", markup=False)
    console.print(data["content"] or "", markup=False)
