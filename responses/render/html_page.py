"""The HTML report: one page with every table (full timeline included) and the charts inline;
all text is escaped by Jinja2's autoescape."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, Template, select_autoescape

from responses.render.charts import charts
from responses.render.tables import (DEFINITIONS, Cell, Hours, Link, Percent, Table, all_tables,
                                     local, text_of)
from responses.render.word import NUMERALS, target
from responses.report import TimelinessReport


@dataclass(frozen=True)
class _Cell:
    text: str
    href: str | None
    numeric: bool


@lru_cache(maxsize=1)
def _template() -> Template:
    env = Environment(loader=PackageLoader("responses", "templates"),
                      autoescape=select_autoescape(["html"]))
    return env.get_template("report.html")


def _cell(cell: Cell, base_url: str) -> _Cell:
    value = cell.value if isinstance(cell, Link) else cell
    numeric = isinstance(value, (int, float, Percent, Hours))
    href = target(cell.target, base_url) if isinstance(cell, Link) and cell.target else None
    return _Cell(text_of(cell), href, numeric)


def _section(number: int, table: Table, base_url: str) -> dict[str, Any]:
    return {"key": table.key, "heading": f"{NUMERALS[number]}、{table.title}",
            "columns": table.columns, "note": table.note, "charts": [],
            "rows": [[_cell(c, base_url) for c in row] for row in table.rows]}


def render_html(report: TimelinessReport, base_url: str = "") -> bytes:
    tables = all_tables(report)
    sections = [_section(i, t, base_url) for i, t in enumerate(tables)]
    pictures = [{"title": title, "data": base64.b64encode(png).decode("ascii")}
                for title, png in charts(report)]
    sections.append({"key": "charts", "heading": f"{NUMERALS[len(tables)]}、图表",
                     "charts": pictures, "rows": []})
    page = _template().render(period=report.period.label,
                              as_of=local(report.as_of, report.period.tz),
                              sections=sections, definitions=DEFINITIONS)
    return page.encode("utf-8")
