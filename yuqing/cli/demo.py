"""``yuqing demo``: the whole story on a simulated internet, with the real daemon."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.table import Table

from yuqing.cli.app import app, console, fail


@app.command()
def demo(
    quick: bool = typer.Option(False, "--quick", help="快速演示：更少的模拟步骤（测试用）"),
    serve: bool = typer.Option(False, "--serve", help="演示结束后打开工作台网页，用演示账号登录"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="--serve 的端口"),
) -> None:
    """演示：模拟网站上一起公证舆情从发帖、发酵到重大事件，预警、升级、审批发布与时效报告。"""
    # Imported here: Scrapy and the analysis stack are slow to import for the other commands.
    from yuqing.demo.run import PASSWORD, PEOPLE, Demo, DemoError

    console.print("[bold]yuqing 演示[/bold]：本地模拟互联网（新闻网站、RSS、微博接口、论坛、局网站）"
                  "→ yuqing run 定时采集 → 研判 → 事件与时限 → 通知、提醒、升级 → 回应审批发布 "
                  "→ 时效报告。模拟时间快进，约一天。")
    runner = Demo(Path("var/demo"), Path("var/reports"), quick=quick,
                  say=lambda line: console.print(line, markup=False, highlight=False,
                                                soft_wrap=True),
                  dashboard_url=f"http://127.0.0.1:{port}")
    try:
        outcome = runner.run()
    except DemoError as exc:
        fail(f"演示未完成 / demo failed: {exc}")
    clocks = Table(title="事件 #%s 的时限" % (runner.incident_id or "—"))
    for col in ("时限", "截止（北京时间）", "结果"):
        clocks.add_column(col)
    for row in outcome.clocks:
        clocks.add_row(*row)
    console.print(clocks)
    console.print(f"共收到通知 {len(outcome.notifications)} 条；事件 {outcome.incidents} 个；"
                  f"用时 {outcome.seconds:.0f} 秒。")
    console.rule("在哪里看")
    for path in outcome.reports:
        console.print(f"时效报告：{path}", soft_wrap=True)
    console.print(f"数据库：{outcome.database_url}　守护进程日志：{outcome.workdir / 'daemon.log'}"
                  f"　配置：{outcome.workdir / 'yuqing.yaml'}")
    users = "、".join(f"{key}（{name}）" for key, (name, _, _) in PEOPLE.items())
    console.print(f"工作台：yuqing demo --serve，账号 {users}，密码均为 {PASSWORD}", soft_wrap=True)
    if serve:
        _serve(runner, port)


def _serve(runner: object, port: int) -> None:
    """``yuqing serve`` on the demo's database and config."""
    from yuqing.cli.app import LogFormat
    from yuqing.cli.web import serve as serve_command
    from yuqing.demo.run import Demo

    assert isinstance(runner, Demo) and runner.ctx is not None
    settings = runner.ctx.settings
    os.environ.update(YUQING_DATABASE_URL=settings.database_url,
                      YUQING_CONFIG=str(settings.config_path),
                      YUQING_DASHBOARD_URL=runner.dashboard_url)
    console.print(f"工作台：{runner.dashboard_url}/ （按 Ctrl+C 结束；也可另行运行 "
                  f"YUQING_DATABASE_URL={settings.database_url} YUQING_CONFIG="
                  f"{settings.config_path} yuqing serve）", soft_wrap=True)
    serve_command(host="127.0.0.1", port=port, session_hours=12.0, log_format=LogFormat.text)
