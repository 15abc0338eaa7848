"""The Typer application and the helpers every command uses."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console

from yuqing.context import AppContext
from yuqing.settings import SettingsError

app = typer.Typer(
    name="yuqing",
    help="舆情监测与回应系统：采集、研判、预警、回应与报告。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


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


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def require_current_schema(ctx: AppContext) -> None:
    """Long-running commands refuse a database an older version left behind."""
    from yuqing.migrate import is_current

    if not is_current(ctx.settings.database_url):
        fail("数据库结构不是最新版本，请先运行 yuqing init / the database schema is not current: "
             "run `yuqing init`")
