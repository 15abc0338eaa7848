"""The CSV report: every table one after the other, each under a ``# 标题`` line, separated by
a blank line; UTF-8 with a byte-order mark so that Excel reads the Chinese."""

from __future__ import annotations

import csv
from io import StringIO

from responses.render.tables import Cell, Hours, Link, Percent, all_tables, text_of
from responses.render.word import target
from responses.report import TimelinessReport


def _text(cell: Cell, base_url: str) -> str:
    if isinstance(cell, Link):
        # A figure stays a figure; a textual link ("#12", "查看") becomes its absolute target.
        if isinstance(cell.value, str):
            return target(cell.target, base_url)
        return _text(cell.value, base_url)
    if isinstance(cell, Percent):
        return "" if cell.value is None else f"{cell.value:.4f}"
    if isinstance(cell, Hours):
        return "" if cell.value is None else f"{cell.value:.2f}"
    return "" if cell is None else text_of(cell)


def render_csv(report: TimelinessReport, base_url: str = "") -> bytes:
    buffer = StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for index, table in enumerate(all_tables(report)):
        if index:
            writer.writerow([])
        writer.writerow([f"# {table.title}"])
        writer.writerow(table.columns)
        writer.writerows([_text(cell, base_url) for cell in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8-sig")
