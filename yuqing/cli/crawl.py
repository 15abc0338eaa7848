"""crawl, sources, import, extract."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from yuqing.cli.app import (app, console, err_console, fail, local_time, open_context,
                            print_json, require_current_schema, typed_config)
from yuqing.context import AppContext
from yuqing.core.clock import format_local
from yuqing.core.db import session_scope
from yuqing.core.settings import SettingsError

if TYPE_CHECKING:
    from crawler.runner import SourceRun
    from crawler.sources import SourceConfig
    from yuqing.services.imports import Imported


@app.command()
def crawl(
    source: list[str] = typer.Option([], "--source", "-s", help="只采集指定数据源（可多次）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
    now: str | None = typer.Option(None, "--now", hidden=True,
                                   help="以此时间为采集时间（演练、补录、测试；无时区按北京时间）"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="显示 Scrapy 的完整日志"),
) -> None:
    """采集：抓取配置中的数据源并入库，给出每个数据源的汇总；有数据源采集失败时退出码为 1。"""
    from yuqing.services.crawl import crawl_sources

    ctx = open_context()
    require_current_schema(ctx)
    config = typed_config(ctx)
    try:
        sources = [s for s in config.sources_named(source) if s.kind != "import"]
    except SettingsError as exc:
        fail(str(exc))
    if not sources:
        fail("没有可采集的数据源 / no crawlable sources configured")
    fixed = local_time(now, ctx, "--now") if now is not None else None
    with _progress(sources, as_json) as advance:
        result = crawl_sources(ctx.sessions, ctx.settings.database_url, sources, config.crawl,
                               clock=ctx.clock, fixed_now=fixed, log=verbose, progress=advance)
    for name, holder in result.busy.items():
        err_console.print(f"数据源 {name} 正在由另一进程采集（{holder}），本次跳过 / source "
                          f"{name!r} is being crawled by {holder}; skipped", markup=False)
    _show_runs(result.runs, as_json)
    for run in result.failed:
        err_console.print(f"采集失败 {run.source}：{run.last_error or '未知错误'}",
                          markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(result.exit_code)


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


_STATUS = {"ok": "正常", "unhealthy": "[red]异常[/red]", "removed": "[dim]已移除[/dim]"}


@app.command()
def sources(
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
    now: str | None = typer.Option(None, "--now", help="按此时刻判断（无时区按北京时间）"),
) -> None:
    """数据源健康状况：最近成功、连续失败、最近错误、上次采集条数；已从配置删除的标为已移除。"""
    from crawler.service import source_health

    ctx = open_context()
    at = local_time(now, ctx, "--now")
    names = typed_config(ctx).source_names
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
    from yuqing.services.imports import ImportFailed, import_file as run_import

    ctx = open_context()
    given = local_time(as_of, ctx, "--as-of") if as_of is not None else None
    try:
        cfg = typed_config(ctx).sources_named([source])[0]
        with session_scope(ctx.sessions) as session:
            done = run_import(session, cfg, path, now=ctx.clock(), as_of=given)
    except (SettingsError, ImportFailed) as exc:
        fail(str(exc) if isinstance(exc, ImportFailed) else f"导入失败 / import failed: {exc}")
    _show_import(done, ctx, as_json)


def _show_import(done: Imported, ctx: AppContext, as_json: bool) -> None:
    if as_json:
        print_json({"new": done.new, "duplicates": done.duplicates, "same_text": done.same_text,
                    "problems": done.problems, "sheet": done.sheet,
                    "reference_time": done.reference_time.isoformat(),
                    "reference": done.reference})
        return
    if done.sheet:
        console.print(f"读取工作表「{done.sheet}」", markup=False)
    basis = "导出时间（--as-of）" if done.reference == "as_of" else "导入时间"
    console.print(f"相对时间（昨天、3小时前等）按{basis} "
                  f"{format_local(done.reference_time, ctx.settings.tz)} 换算", markup=False)
    console.print(f"新增 {done.new} 条（其中与已有文档内容相同、已关联 {done.same_text} 条），"
                  f"重复 {done.duplicates} 条，问题 {len(done.problems)} 条")
    for problem in done.problems:
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
    at = local_time(now, ctx, "--now")
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
