"""CSV/XLSX imports (12345 tickets, message-board exports, reported posts) as Documents."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from crawler.dates import parse_cn_datetime
from crawler.sources import ImportColumns
from crawler.store import Item


class TableError(ValueError):
    """The file cannot be read as a table with the configured columns."""


@dataclass
class ImportRows:
    items: list[Item] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_table(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8 or GB18030) or XLSX file as header → text."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise TableError(f"{path}: neither UTF-8 nor GB18030 text")
    return [{k.strip(): (v or "").strip() for k, v in row.items() if k}
            for row in csv.DictReader(io.StringIO(text))]


def _read_xlsx(path: Path) -> list[dict[str, str]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    rows = list(book.active.iter_rows(values_only=True)) if book.active is not None else []
    book.close()
    if not rows:
        return []
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    return [{h: ("" if v is None else str(v)).strip() for h, v in zip(header, row) if h}
            for row in rows[1:]]


def rows_to_items(rows: list[dict[str, str]], columns: ImportColumns, source: str,
                  now: datetime) -> ImportRows:
    """Items from table rows; a row without text is reported, not imported."""
    result = ImportRows()
    if rows and columns.text not in rows[0]:
        raise TableError(f"column {columns.text!r} not in the file (has: {', '.join(rows[0])})")
    for number, row in enumerate(rows, start=2):
        text = row.get(columns.text, "")
        if not text:
            result.problems.append(f"第 {number} 行没有正文 / row {number}: no text")
            continue
        stamp = row.get(columns.published_at or "", "")
        published = parse_cn_datetime(stamp, now) if stamp else None
        if stamp and published is None:
            result.problems.append(f"第 {number} 行时间无法识别 / row {number}: date {stamp!r}")
        result.items.append(Item(
            url=row.get(columns.url or "") or _local_url(source, row, columns, text),
            title=row.get(columns.title or "", "") or text[:40], content=text,
            published_at=published, author=row.get(columns.author or "") or None,
            platform="import", raw=None,
        ))
    return result


def _local_url(source: str, row: dict[str, str], columns: ImportColumns, text: str) -> str:
    # Imported items have no address; a stable one keeps re-imports idempotent.
    ident = row.get(columns.id or "") or hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"import://{source}/{ident}"
