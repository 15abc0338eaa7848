"""``yuqing init`` as a use case: write the default config when there is none, check settings
and config, then create or upgrade the database — the database only when the check passed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from yuqing.config_check import Report, check_all, config_path
from yuqing.core.migrate import upgrade
from yuqing.core.settings import default_config_text


class SetupError(Exception):
    """The database could not be created or upgraded; one line for the user."""


@dataclass(frozen=True)
class Initialised:
    config: Path
    wrote_config: bool  # the default config was written now
    report: Report  # the check's problems (errors: the database was left alone)
    database_url: str | None  # set when the database is ready

    @property
    def ok(self) -> bool:
        return self.database_url is not None


def initialise() -> Initialised:
    path = config_path()
    wrote = False
    if not path.exists() and not os.environ.get("YUQING_CONFIG"):  # a named file must exist
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(default_config_text(), encoding="utf-8")
        wrote = True
    report = check_all()
    if report.errors or report.settings is None:
        return Initialised(path, wrote, report, None)
    try:
        upgrade(report.settings.database_url)
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        raise SetupError(f"数据库无法初始化 / cannot initialise database: {type(exc).__name__}: "
                         f"{reason}".splitlines()[0]) from None
    return Initialised(path, wrote, report, report.settings.database_url)
