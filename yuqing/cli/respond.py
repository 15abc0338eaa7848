"""respond draft|submit|review|reject|approve|publish|confirm-candidate and responses: thin
commands over ``yuqing.services.respond``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from sqlalchemy.orm import Session

from yuqing.cli.app import local_time as _time
from yuqing.cli.app import app, console, fail, open_context, print_json
from yuqing.core.clock import format_local
from yuqing.core.db import session_scope

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from yuqing.services.respond import ResponseLine

respond_app = typer.Typer(help="回应：起草、提交、审核、审批、发布（留证后关闭时限）。",
                          no_args_is_help=True)
app.add_typer(respond_app, name="respond")

T = TypeVar("T")
NOW_HELP = "以此时间为办理时间（补录、演练；无时区按北京时间）"
BY_HELP = "办理人（用户名）"


def _run(work: Callable[[Session], T]) -> T:
    """One unit of work; a refused step ends the command with its one line, nothing changed."""
    from yuqing.services.respond import RESPOND_ERRORS

    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            return work(session)
    except RESPOND_ERRORS as exc:
        fail(str(exc))


def _done(line_id: int, state_label: str) -> None:
    console.print(f"回应 #{line_id}：{state_label}", markup=False)


def _label(state: str) -> str:
    from responses.procedure import State

    return State(state).label


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: 无法读取回应正文（需 UTF-8 文本） / cannot read: {type(exc).__name__}")


@respond_app.command("draft")
def respond_draft(
    incident: int = typer.Argument(..., help="事件编号"),
    kind: str = typer.Option(..., "--kind", help="statement, press_conference, follow_up, "
                             "clarification, interview, not_published, correction, revocation"),
    text_file: Path = typer.Option(..., "--text-file", help="回应正文（UTF-8 文本文件）"),
    by: str = typer.Option(..., "--by", help="起草人（业务科室）"),
    title: str = typer.Option("", "--title", help="标题"),
    reason: str | None = typer.Option(None, "--reason", help="不予公开的理由"),
    filing: str | None = typer.Option(None, "--filing", help="不予公开的备案情况"),
    corrects: int | None = typer.Option(None, "--corrects", help="变更/撤销说明针对的回应编号"),
    now: str | None = typer.Option(None, "--now", help=NOW_HELP),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """起草回应（业务科室）；打印新回应的编号。"""
    from yuqing.services import respond

    ctx = open_context()
    body, when = _read_text(text_file), _time(now, ctx)
    line = _run(lambda s: respond.draft(s, incident, kind, body, by, when, title=title,
                                        reason=reason, filing=filing, corrects=corrects))
    if as_json:
        print_json({"id": line.id})
    else:
        console.print(line.id)


@respond_app.command("submit")
def respond_submit(
    response: int = typer.Argument(..., help="回应编号"),
    by: str = typer.Option(..., "--by", help=BY_HELP),
    now: str | None = typer.Option(None, "--now", help=NOW_HELP),
) -> None:
    """提交办公室审核。"""
    from yuqing.services import respond

    when = _time(now, open_context())
    line = _run(lambda s: respond.submit(s, response, by, when))
    _done(line.id, _label(line.state))


@respond_app.command("review")
def respond_review(
    response: int = typer.Argument(..., help="回应编号"),
    by: str = typer.Option(..., "--by", help=BY_HELP),
    confidential_ok: bool = typer.Option(False, "--confidential-ok", help="保密审查已通过"),
    now: str | None = typer.Option(None, "--now", help=NOW_HELP),
) -> None:
    """办公室审核通过（须记录保密审查通过）。"""
    from yuqing.services import respond

    when = _time(now, open_context())
    line = _run(lambda s: respond.review(s, response, by, when, confidential_ok=confidential_ok))
    _done(line.id, _label(line.state))


@respond_app.command("reject")
def respond_reject(
    response: int = typer.Argument(..., help="回应编号"),
    by: str = typer.Option(..., "--by", help=BY_HELP),
    comment: str = typer.Option(..., "--comment", help="退回意见"),
    now: str | None = typer.Option(None, "--now", help=NOW_HELP),
) -> None:
    """退回修改（附意见），回到草稿。"""
    from yuqing.services import respond

    when = _time(now, open_context())
    line = _run(lambda s: respond.reject(s, response, by, comment, when))
    _done(line.id, _label(line.state))


@respond_app.command("approve")
def respond_approve(
    response: int = typer.Argument(..., help="回应编号"),
    by: str = typer.Option(..., "--by", help="审批人（组长或副组长）"),
    now: str | None = typer.Option(None, "--now", help=NOW_HELP),
) -> None:
    """领导审批；不予公开事项审批后即备案。"""
    from yuqing.services import respond

    when = _time(now, open_context())
    line = _run(lambda s: respond.approve(s, response, by, when))
    _done(line.id, _label(line.state))


@respond_app.command("publish")
def respond_publish(
    response: int = typer.Argument(..., help="回应编号"),
    by: str = typer.Option(..., "--by", help=BY_HELP),
    at: str = typer.Option(..., "--at", help="发布时间（无时区按北京时间）"),
    url: str = typer.Option(..., "--url", help="发布地址（系统抓取留证）"),
    channels: list[str] = typer.Option([], "--channel", help="发布渠道，可重复：website, "
                                       "wechat, weibo, press_conference, media"),
    file: Path | None = typer.Option(None, "--file", help="以上传文件留证（不抓取地址）"),
    now: str | None = typer.Option(None, "--now", help=NOW_HELP),
) -> None:
    """登记发布：抓取发布页面并保存快照与 SHA-256，之后关闭相应时限。"""
    from yuqing.services import respond

    ctx = open_context()
    try:
        line = respond.publish(ctx.sessions, response, by, at=_time(at, ctx), url=url,
                               channels=channels, now=_time(now, ctx), file=file)
    except respond.RESPOND_ERRORS as exc:
        fail(str(exc))
    console.print(f"回应 #{line.id} 已发布：{format_local(line.published_at, ctx.settings.tz)}，"
                  f"留证 SHA-256 {line.sha256}", markup=False)


@respond_app.command("confirm-candidate")
def respond_confirm_candidate(
    incident: int = typer.Argument(..., help="事件编号"),
    document: int = typer.Argument(..., help="候选发布的文档编号（见 yuqing responses）"),
    by: str = typer.Option(..., "--by", help=BY_HELP),
    kind: str = typer.Option("statement", "--kind", help="statement, follow_up, clarification"),
    now: str | None = typer.Option(None, "--now", help=NOW_HELP),
) -> None:
    """确认本局渠道抓取到的候选发布：以其抓取快照为证据登记为已发布的回应。"""
    from yuqing.services import respond

    ctx = open_context()
    when = _time(now, ctx)
    line = _run(lambda s: respond.confirm_candidate(s, incident, document, by, when, kind=kind))
    console.print(f"回应 #{line.id} 已登记发布：{format_local(line.published_at, ctx.settings.tz)}"
                  f"（{line.url}）", markup=False)


@app.command("responses")
def responses_list(
    incident: int = typer.Argument(..., help="事件编号"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
    now: str | None = typer.Option(None, "--now", help="候选发布截至此时间（默认现在）"),
) -> None:
    """列出事件的回应及其办理步骤，以及本局渠道的候选发布。"""
    from alerts.candidates import candidate_publications
    from yuqing.services import respond

    ctx = open_context()
    when = _time(now, ctx)
    lines, candidates = _run(lambda s: (respond.responses_of(s, incident),
                                        candidate_publications(s, incident, when)))
    confirmed = {line.url for line in lines}
    candidates = [c for c in candidates if c.url not in confirmed]
    if as_json:
        print_json({"responses": [line.as_json() for line in lines],
                    "candidates": [{"document_id": c.document_id, "title": c.title,
                                    "url": c.url, "published_at": c.published_at.isoformat(),
                                    "score": c.score} for c in candidates]})
        return
    _show_lines(lines, ctx.settings.tz)
    for c in candidates:
        console.print(f"候选发布：文档 #{c.document_id} {c.title[:40]}（{c.url}，"
                      f"{format_local(c.published_at, ctx.settings.tz)}）确认：yuqing respond "
                      f"confirm-candidate {incident} {c.document_id} --by 用户名", markup=False)


def _show_lines(lines: list[ResponseLine], tz: ZoneInfo) -> None:
    from rich.table import Table

    from responses.procedure import Action, Kind, State

    table = Table("编号", "类型", "状态", "起草", "审核", "审批", "发布时间", "地址", "办理步骤",
                  title="回应")
    for line in lines:
        steps = "；".join(f"{Action(s.action).label} {s.actor} {format_local(s.at, tz)}"
                         for s in line.steps)
        table.add_row(str(line.id), Kind(line.kind).label, State(line.state).label,
                      line.drafted_by or "—", line.reviewed_by or "—", line.approved_by or "—",
                      format_local(line.published_at, tz), line.url or "—", steps)
    console.print(table)
