"""Renderers of the timeliness report: Word, Excel, HTML and CSV, all from ``tables``."""

from __future__ import annotations

from collections.abc import Callable

from responses.report import TimelinessReport

FORMATS = ("docx", "xlsx", "html", "csv")


def render(report: TimelinessReport, fmt: str, base_url: str = "") -> bytes:
    """The report as a file's bytes; ``ValueError`` for an unknown format."""
    return _renderer(fmt)(report, base_url)


def _renderer(fmt: str) -> Callable[[TimelinessReport, str], bytes]:
    if fmt == "docx":
        from responses.render.word import render_docx
        return render_docx
    if fmt == "xlsx":
        from responses.render.excel import render_xlsx
        return render_xlsx
    if fmt == "html":
        from responses.render.html_page import render_html
        return render_html
    if fmt == "csv":
        from responses.render.csv_text import render_csv
        return render_csv
    raise ValueError(f"unknown report format {fmt!r}: expected {', '.join(FORMATS)}")
