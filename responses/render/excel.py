"""The Excel report (.xlsx): one sheet per table, numbers kept as numbers, links clickable,
and a sheet with the charts."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.drawing.image import Image
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from responses.render.charts import charts
from responses.render.tables import Cell, Hours, Link, Percent, Table, all_tables, clean
from responses.render.word import target
from responses.report import TimelinessReport

BOLD = Font(bold=True)
LINK = Font(color="0563C1", underline="single")


def _value(cell: Cell) -> str | int | float | None:
    if isinstance(cell, Link):
        return _value(cell.value)
    if isinstance(cell, (Percent, Hours)):
        return cell.value
    return clean(cell) if isinstance(cell, str) else cell


def _cell(sheet: WriteOnlyWorksheet, cell: Cell,
          base_url: str) -> WriteOnlyCell | str | int | float | None:
    if cell is None or isinstance(cell, (str, int, float)):
        return _value(cell)  # a plain value: no cell object to build (most of a year's rows)
    out = WriteOnlyCell(sheet, value=_value(cell))
    if isinstance(cell, Percent):
        out.number_format = "0.0%"
    elif isinstance(cell, Hours) or isinstance(cell, Link) and isinstance(cell.value, Hours):
        out.number_format = "0.0"
    if isinstance(cell, Link) and cell.target:
        out.hyperlink = target(cell.target, base_url)
        out.font = LINK
    return out


def _sheet(book: Workbook, table: Table, base_url: str) -> None:
    sheet = book.create_sheet(table.title[:31])
    sheet.freeze_panes = "A2"
    for index, _ in enumerate(table.columns):
        letter = chr(ord("A") + index)
        sheet.column_dimensions[letter].width = 14 if index else 10
    sheet.append([_header(sheet, title) for title in table.columns])
    for row in table.rows:
        sheet.append([_cell(sheet, cell, base_url) for cell in row])
    if table.note:
        sheet.append([])
        sheet.append([table.note])


def _header(sheet: WriteOnlyWorksheet, title: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=title)
    cell.font = BOLD
    return cell


def render_xlsx(report: TimelinessReport, base_url: str = "") -> bytes:
    book = Workbook(write_only=True)  # streams rows: a year's timeline is ~100,000 rows
    for table in all_tables(report):
        _sheet(book, table, base_url)
    pictures = book.create_sheet("图表")
    for index, (title, png) in enumerate(charts(report)):
        image = Image(BytesIO(png))
        image.anchor = f"A{1 + index * 26}"
        pictures.add_image(image)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
