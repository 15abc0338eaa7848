"""``yuqing demo``: the whole flow on local demo sources."""

from __future__ import annotations

from rich.table import Table

from yuqing.cli.app import app, console, open_context
from yuqing.core.clock import format_local


@app.command()
def demo() -> None:
    """演示：从本地演示数据源采集、研判、生成事件与时限，并发出控制台通知。"""
    # Imported here: Scrapy and the analysis stack are slow to import for the other commands.
    from alerts.console import time_left
    from alerts.models import CLOCK_LABELS
    from analysis.models import Severity
    from yuqing.demo import run_demo

    ctx = open_context()
    console.print("[bold]yuqing 演示[/bold]：本地演示网站 → 采集 → 研判 → 事件 → 时限 → 通知")
    result = run_demo(ctx.settings, ctx.clock)
    now, tz = ctx.clock(), ctx.settings.tz
    crawl = Table(title="采集")
    for col in ("数据源", "页面", "新文档", "重复", "错误"):
        crawl.add_column(col)
    for run in result.crawl:
        crawl.add_row(run.source, str(run.pages), str(run.new), str(run.duplicates), str(run.errors))
    console.print(crawl)
    docs = Table(title=f"文档（{len(result.documents)} 篇）")
    for col in ("编号", "标题", "发布时间", "主题", "敏感", "等级"):
        docs.add_column(col)
    verdicts = {c.document_id: c for c in result.classifications}
    for doc in result.documents:
        c = verdicts[doc.id]
        docs.add_row(str(doc.id), doc.title[:30], format_local(doc.published_at, tz), c.topic,
                     "是" if c.sensitive else "否", Severity(c.severity).label)
    console.print(docs)
    clocks = Table(title=f"事件（{len(result.incidents)} 个）与时限（{len(result.deadlines)} 个）")
    for col in ("事件", "等级", "T0", "时限", "截止", "状态"):
        clocks.add_column(col)
    for d in result.deadlines:
        inc = next(i for i in result.incidents if i.id == d.incident_id)
        clocks.add_row(f"#{inc.id} {inc.title[:20]}", Severity(inc.severity).label,
                       format_local(inc.t0, tz), CLOCK_LABELS.get(d.kind, d.kind),
                       format_local(d.due_at, tz), time_left(d.due_at, now))
    console.print(clocks)
    for message in result.messages:
        console.rule("控制台通知")
        console.print(message, markup=False)
    console.print(f"数据库：{result.database_url}")
