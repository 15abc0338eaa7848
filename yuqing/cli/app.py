"""The Typer application and the helpers every command uses."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from yuqing.context import AppContext
from yuqing.core.settings import SettingsError

if TYPE_CHECKING:
    from yuqing.config_check import Report
    from yuqing.services.config import Config

app = typer.Typer(
    name="yuqing",
    help="舆情监测与回应系统：采集、研判、预警、回应与报告。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


class LogFormat(StrEnum):
    text = "text"
    json = "json"


def log_format_option() -> Any:
    """``--log-format text|json`` (or ``YUQING_LOG_FORMAT``) for the long-running commands."""
    return typer.Option(LogFormat.text, "--log-format", envvar="YUQING_LOG_FORMAT",
                        help="日志格式：text（逐行文本）或 json（每行一个 JSON 对象，便于日志系统检索）")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line to stderr and exit (no traceback for operator errors)."""
    err_console.print(message, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def open_context() -> AppContext:
    """Settings and config, or exit with the one-line reason."""
    try:
        return AppContext.from_env()
    except SettingsError as exc:
        fail(str(exc))


def typed_config(ctx: AppContext) -> Config:
    """The config validated into typed objects, or exit with the first problem in one line."""
    try:
        return ctx.typed
    except SettingsError as exc:
        fail(str(exc))


def local_time(text: str | None, ctx: AppContext, option: str = "") -> datetime:
    """A time given on the command line (no zone: the configured zone); None means now. A bad
    one exits naming the option."""
    from yuqing.core.clock import parse_local

    if text is None:
        return ctx.clock()
    try:
        return parse_local(text, ctx.settings.tz)
    except ValueError as exc:
        fail(f"{option} 时间格式错误 / {option}: {exc}" if option else f"时间格式错误 / {exc}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def require_current_schema(ctx: AppContext) -> None:
    """Long-running commands refuse a database an older version left behind."""
    from yuqing.core.migrate import is_current

    if not is_current(ctx.settings.database_url):
        fail("数据库结构不是最新版本，请先运行 yuqing init / the database schema is not current: "
             "run `yuqing init`")


def print_problems(report: Report, to_stderr: bool = True) -> None:
    """Every problem of a config check, one line each, with its place in the file."""
    out = err_console if to_stderr else console
    for problem in report.problems:
        out.print(problem.line(), markup=False, highlight=False, soft_wrap=True)


def require_valid_config() -> Report:
    """Stop, listing every problem, when the settings or the config hold anything a command
    would reject; warnings are returned for the caller to show."""
    from yuqing.config_check import check_all

    report = check_all()
    if report.errors:
        print_problems(report)
        fail(f"配置有 {len(report.errors)} 处错误（{report.source}），请修改后重试 / "
             f"{len(report.errors)} config error(s) in {report.source}")
    return report
