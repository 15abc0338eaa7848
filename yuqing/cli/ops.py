"""backup, restore."""

from __future__ import annotations

from pathlib import Path

import typer

from yuqing.cli.app import app, console, fail, open_context, print_json, typed_config
from yuqing.core.backup import BackupError, BackupResult, backup, restore


def _show(result: BackupResult, verb: str, as_json: bool) -> None:
    if as_json:
        print_json({"path": str(result.path), "bytes": result.bytes,
                    "revision": result.revision, "audit_rows": result.audit_rows})
        return
    console.print(f"{verb}：{result.path}（{result.bytes / 1_048_576:.1f} MB，数据库版本 "
                  f"{result.revision}，审计记录 {result.audit_rows} 条）", markup=False)


@app.command("backup")
def backup_command(
    out: Path = typer.Option(..., "--out", help="备份文件路径"),
    force: bool = typer.Option(False, "--force", help="覆盖已存在的备份文件"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """备份数据库（SQLite 在线备份，运行中也可执行；PostgreSQL 请用 pg_dump）。"""
    ctx = open_context()
    try:
        result = backup(ctx.settings.database_url, out, overwrite=force)
    except BackupError as exc:
        fail(str(exc))
    _show(result, "已备份", as_json)


@app.command("restore")
def restore_command(
    backup_file: Path = typer.Argument(..., help="yuqing backup 写出的备份文件"),
    force: bool = typer.Option(False, "--force", help="替换已存在的数据库（请先停止 yuqing run）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """从备份恢复 SQLite 数据库；恢复后请运行 yuqing audit verify 核验审计日志。"""
    ctx = open_context()
    try:
        result = restore(backup_file, ctx.settings.database_url, overwrite=force)
    except BackupError as exc:
        fail(str(exc))
    _show(result, "已恢复", as_json)
    if not as_json:
        console.print("下一步：yuqing audit verify 核验审计日志；yuqing init 可将旧备份升级到最新结构")


scrapyd_app = typer.Typer(help="Scrapyd 分布式采集节点。", no_args_is_help=True)
app.add_typer(scrapyd_app, name="scrapyd")


@scrapyd_app.command("deploy")
def scrapyd_deploy(
    url: str | None = typer.Option(None, "--url", help="Scrapyd 地址（默认 crawl.scrapyd_url）"),
    version: str | None = typer.Option(None, "--version", help="版本号（默认为时间戳）"),
) -> None:
    """构建本项目的 egg 并部署到 Scrapyd 节点。"""
    import time

    from crawler.scrapyd import ScrapydError
    from yuqing.services import scrapyd

    version = version or time.strftime("%Y%m%d%H%M%S")
    try:
        where, spiders = scrapyd.deploy(typed_config(open_context()), version, url)
    except ScrapydError as exc:
        fail(str(exc))
    console.print(f"已部署到 {where}：项目 yuqing 版本 {version}，爬虫 {', '.join(spiders)}",
                  markup=False)


@scrapyd_app.command("crawl")
def scrapyd_crawl(
    source: str = typer.Option(..., "--source", "-s", help="数据源名称"),
    url: str | None = typer.Option(None, "--url", help="Scrapyd 地址（默认 crawl.scrapyd_url）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """在 Scrapyd 节点上采集一个数据源，等待结束（超过时限则取消）。"""
    from crawler.scrapyd import ScrapydError
    from yuqing.core.settings import SettingsError
    from yuqing.services import scrapyd

    ctx = open_context()
    config = typed_config(ctx)
    try:
        [chosen] = config.sources_named([source])
        outcome = scrapyd.crawl(config, ctx.settings.database_url, chosen, url=url)
    except (SettingsError, ScrapydError) as exc:
        fail(str(exc))
    if as_json:
        print_json({"job": outcome.job, "state": outcome.state,
                    "seconds": round(outcome.seconds, 1)})
    else:
        console.print(f"Scrapyd 任务 {outcome.job}：{outcome.state}（{outcome.seconds:.1f} 秒）",
                      markup=False)
    if outcome.state != "finished":
        raise typer.Exit(1)
