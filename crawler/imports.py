"""CSV/XLSX imports (12345 tickets, message-board exports, reported posts) as Documents.

The header is the first row (of the first ten, any worksheet) that holds the configured text
column: real exports put a title line above it, or the data on a sheet other than the first.
A file where no header is found, or with a header and no rows, is an error that names the
sheet, never an import of 0 rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from crawler.dates import parse_cn_datetime
from crawler.sources import ImportColumns
from crawler.store import Item

_HEADER_SCAN = 10  # rows searched for the header (title lines above it in real exports)


class TableError(ValueError):
    """The file cannot be read as a table with the configured columns."""


@dataclass(frozen=True)
class Table:
    """Data rows as header → text; ``first_row`` is the file's row number of the first one."""

    rows: list[dict[str, str]]
    first_row: int
    sheet: str | None = None  # the worksheet read (XLSX)


@dataclass
class ImportRows:
    items: list[Item] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_table(path: Path, required: str) -> Table:
    """The table of a CSV (UTF-8 or GB18030) or XLSX file whose header holds ``required``.

    Raises ``TableError`` with one line when the file is unreadable, has no such header or
    has no data rows under it."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, required)
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise TableError(f"{path}: neither UTF-8 nor GB18030 text")
    rows = list(csv.reader(io.StringIO(text)))
    table = _table(rows, required, None)
    if table is None:
        found = _first_cells(rows)
        raise TableError(f"文件中没有“{required}”列 / column {required!r} not in the file "
                         f"(has: {found or 'nothing'})")
    return _with_data(table, f"{path.name} ", path.name)


def _read_xlsx(path: Path, required: str) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError) as exc:
        raise TableError(f"{path.name} 不是有效的 XLSX 工作簿 / not an XLSX workbook: {exc}") from None
    try:
        sheets = [(sheet.title, [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)])
                  for sheet in book.worksheets]
    finally:
        book.close()
    for title, rows in sheets:
        table = _table(rows, required, title)
        if table is not None:
            return _with_data(table, f"工作表「{title}」", f"sheet {title!r}")
    names = "、".join(f"「{title}」" for title, _ in sheets) or "无"
    if not any(any(row) for _, rows in sheets for row in rows):
        raise TableError(f"工作簿是空的（工作表 {names}）/ the workbook holds no data")
    raise TableError(f"没有工作表含“{required}”列（工作表 {names}）/ no sheet has a header with "
                     f"column {required!r}")


def _cell(value: object) -> str:
    return "" if value is None else str(value).strip()


def _table(rows: list[list[str]], required: str, sheet: str | None) -> Table | None:
    """Rows under the first header (within ``_HEADER_SCAN`` rows) holding ``required``."""
    for index, row in enumerate(rows[:_HEADER_SCAN]):
        header = [cell.strip() for cell in row]
        if required in header:
            data = [{h: (value or "").strip() for h, value in zip(header, cells) if h}
                    for cells in rows[index + 1:]]
            # Fully blank rows (trailing formatting in workbooks) hold nothing to import.
            return Table([r for r in data if any(r.values())], index + 2, sheet)
    return None


def _with_data(table: Table, where: str, where_en: str) -> Table:
    if not table.rows:
        raise TableError(f"{where}只有表头，没有数据行 / {where_en}: header but no data rows")
    return table


def _first_cells(rows: Iterable[list[str]]) -> str:
    first = next((row for row in rows if any(cell.strip() for cell in row)), [])
    return ", ".join(cell.strip() for cell in first if cell.strip())


def rows_to_items(table: Table, columns: ImportColumns, source: str,
                  reference: datetime) -> ImportRows:
    """Items from table rows; a row without text is reported, not imported. ``reference`` is
    the time relative and year-less dates (``昨天``, ``3小时前``) are read against: the
    export's time when known, else the import's."""
    result = ImportRows()
    for number, row in enumerate(table.rows, start=table.first_row):
        text = row.get(columns.text, "")
        if not text:
            result.problems.append(f"第 {number} 行没有正文 / row {number}: no text")
            continue
        stamp = row.get(columns.published_at or "", "")
        published = parse_cn_datetime(stamp, reference) if stamp else None
        if stamp and published is None:
            result.problems.append(f"第 {number} 行时间无法识别 / row {number}: date {stamp!r}")
        ident = row.get(columns.id or "", "")
        result.items.append(Item(
            url=row.get(columns.url or "") or _local_url(source, ident, text),
            title=row.get(columns.title or "", "") or text[:40], content=text,
            published_at=published, author=row.get(columns.author or "") or None,
            platform="import", raw=None, keyed=bool(ident),
        ))
    return result


def _local_url(source: str, ident: str, text: str) -> str:
    # Imported items have no address; a stable one keeps re-imports idempotent.
    key = ident or hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"import://{source}/{key}"
