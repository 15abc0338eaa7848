"""The ``yuqing`` command. Commands parse arguments, open a unit of work, call a service and
print; they hold no business logic. Each area registers its commands from its own module."""

from __future__ import annotations

import sys

from yuqing.cli.app import app
from yuqing.cli import core as _core  # noqa: F401  (registers commands)
from yuqing.cli import analysis as _analysis  # noqa: F401
from yuqing.cli import crawl as _crawl  # noqa: F401
from yuqing.cli import demo as _demo  # noqa: F401
from yuqing.cli import alerts as _alerts  # noqa: F401
from yuqing.cli import incidents as _incidents  # noqa: F401
from yuqing.cli import lifecycle as _lifecycle  # noqa: F401
from yuqing.cli import respond as _respond  # noqa: F401
from yuqing.cli import responses as _responses  # noqa: F401
from yuqing.cli import ops as _ops  # noqa: F401
from yuqing.cli import web as _web  # noqa: F401

__all__ = ["app", "main"]


def main() -> None:
    """Run the command; a database failure, or a person who may not act, ends it with one
    line, not a traceback (the unit of work is rolled back: nothing changed)."""
    from sqlalchemy.exc import SQLAlchemyError

    from yuqing.core.people import PeopleError

    try:
        app(prog_name="yuqing")
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        sys.stderr.write(f"数据库错误 / database error: {type(exc).__name__}: {reason} "
                         "（数据库是否已初始化？请运行 yuqing init）\n")
        raise SystemExit(2) from None
    except PeopleError as exc:
        sys.stderr.write(f"{exc}\n")
        raise SystemExit(2) from None

