"""Import a CSV/XLSX export (12345 tickets, message boards) through an ``import`` source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from crawler.imports import TableError, read_table, rows_to_items
from crawler.sources import SourceConfig, sync_sources
from crawler.store import store_items
from yuqing.core.clock import format_local


class ImportFailed(Exception):
    """The file or the source cannot be imported; one line for the user, nothing stored."""


@dataclass(frozen=True)
class Imported:
    new: int
    duplicates: int
    same_text: int  # new rows whose text an existing document has (linked, not dropped)
    problems: list[str]
    sheet: str | None
    reference_time: datetime  # what relative dates (昨天, 3小时前) were read against
    reference: str  # "as_of" (the export's time, given) or "import_time"


def import_file(session: Session, source: SourceConfig, path: Path, *, now: datetime,
                as_of: datetime | None = None) -> Imported:
    """Read the file with the source's column mapping and store its rows as documents."""
    reference = as_of if as_of is not None else now
    if reference > now:
        raise ImportFailed(f"--as-of 晚于当前时间 / --as-of {format_local(reference)} is in the future")
    if source.kind != "import" or source.columns is None:
        raise ImportFailed(f"数据源 {source.name} 不是 import 类型 / source {source.name!r} is not "
                           "of kind 'import'")
    try:
        table = read_table(path, source.columns.text)
        rows = rows_to_items(table, source.columns, source.name, reference)
    except (TableError, OSError) as exc:
        raise ImportFailed(f"导入失败 / import failed: {exc}") from None
    row = sync_sources(session, [source], now)[0]
    stored = store_items(session, row.id, rows.items, now)
    return Imported(len(stored.new), stored.duplicates, stored.same_text, list(rows.problems),
                    table.sheet, reference, "as_of" if as_of is not None else "import_time")
