"""Each report format, opened with its own reader, shows the figures of the database built in
``conftest.month``; the charts use a font that covers their Chinese labels."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docx import Document
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.text import Text
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.models import Deadline
from analysis.models import Incident
from responses.render import render
from responses.render.charts import FONT_PATH, chart_style, statement_figure, trend_figure
from responses.report import TimelinessReport, build_report
from tests.responses.conftest import AS_OF, PERIOD, PRESS_URL, Month

BASE = "https://yuqing.example.gov.cn"
# 时限类型 -> (应完成, 按时完成, 逾期完成, 逾期未完成), as the month was built.
EXPECTED_CLOCKS = {"首次权威信息发布": (2, 1, 0, 1), "新闻发布会": (2, 0, 1, 1), "回应": (1, 0, 1, 0),
                   "持续发布": (2, 0, 0, 2), "合计（不含持续发布）": (5, 1, 2, 2)}


@pytest.fixture
def report(session: Session, month: Month) -> TimelinessReport:
    return build_report(session, PERIOD, now=AS_OF)


def test_the_figures_rest_on_the_database(session: Session, report: TimelinessReport,
                                          month: Month) -> None:
    lo, hi = PERIOD.bounds
    counted = select(Incident.id).where(Incident.t0 >= lo, Incident.t0 < hi,
                                        Incident.is_drill.is_(False))
    assert report.incidents == session.scalar(select(func.count()).select_from(
        counted.subquery()))
    rows = session.scalar(select(func.count(Deadline.id)).where(Deadline.incident_id.in_(counted)))
    assert sum(k.due + k.pending + k.waived for k in report.kinds) == rows


def _docx_table(document: object, first_header: str) -> list[list[str]]:
    for table in document.tables:  # type: ignore[attr-defined]
        cells = [[cell.text for cell in row.cells] for row in table.rows]
        if cells and cells[0][0] == first_header:
            return cells
    raise AssertionError(f"no table headed {first_header}")


def test_the_word_report_has_headings_tables_charts_and_links(report: TimelinessReport) -> None:
    document = Document(io.BytesIO(render(report, "docx", BASE)))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:5] == ["一、总体情况", "二、事件分布", "三、时限达成情况", "四、图表",
                            "五、逾期与延迟清单"]
    summary = {row[0]: row[1] for row in _docx_table(document, "项目")}
    assert (summary["事件数（不含演练）"], summary["应完成时限"], summary["总体按时率（不含持续发布）"]) == (
        "3", "5", "20.0%")
    assert summary["T0 至首次发布中位数（小时）"] == "27.5"
    clocks = {row[0]: tuple(int(v) for v in row[1:5])
              for row in _docx_table(document, "时限类型")[1:]}
    assert clocks == EXPECTED_CLOCKS
    assert _docx_table(document, "时限类型")[1][7] == "50.0%"
    late = _docx_table(document, "事件")
    assert len(late) == 1 + 4
    assert len(document.inline_shapes) == 2
    targets = {rel.target_ref for rel in document.part.rels.values() if rel.is_external}
    assert PRESS_URL in targets and f"{BASE}/incidents/1" in targets


def test_the_excel_report_keeps_numbers_and_links_one_sheet_per_table(
        report: TimelinessReport) -> None:
    book = load_workbook(io.BytesIO(render(report, "xlsx", BASE)))
    assert book.sheetnames == ["总体情况", "事件分布（等级 × 主题）", "时限达成情况", "逾期与延迟清单",
                               "持续发布间断", "按时率趋势", "事件时间线", "图表"]
    rows = list(book["时限达成情况"].iter_rows(min_row=2, values_only=True))
    clocks = {r[0]: tuple(r[1:5]) for r in rows if r and r[0] in EXPECTED_CLOCKS}
    assert clocks == EXPECTED_CLOCKS
    assert rows[0][7] == pytest.approx(0.5)
    late = book["逾期与延迟清单"]
    evidence = [c.hyperlink.target for c in late["L"][1:] if c.hyperlink]
    assert evidence == [PRESS_URL, "https://sfj.example.gov.cn/hygq/20261111/huiying.html"]
    assert late["A2"].hyperlink.target == f"{BASE}/incidents/1"
    assert len(book["图表"]._images) == 2


def _csv_sections(data: bytes) -> dict[str, list[list[str]]]:
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))):
        if row and row[0].startswith("# "):
            current = sections.setdefault(row[0][2:], [])
        elif row:
            current.append(row)
    return sections


def test_the_csv_report_lists_every_table(report: TimelinessReport) -> None:
    data = render(report, "csv", BASE)
    assert data.startswith("\ufeff".encode())
    sections = _csv_sections(data)
    clocks = {r[0]: tuple(int(v) for v in r[1:5]) for r in sections["时限达成情况"][1:]}
    assert clocks == EXPECTED_CLOCKS
    assert sections["时限达成情况"][1][7] == "0.5000"
    assert len(sections["逾期与延迟清单"]) == 1 + 4
    assert f"{BASE}/incidents/1" in sections["事件时间线"][1]


class _Tables(HTMLParser):
    """Rows of each <table data-table=...>, and every link's href."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attributes.get("data-table") or "", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a" and attributes.get("href"):
            self.hrefs.append(attributes["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def test_the_html_report_is_escaped_and_shows_the_figures(session: Session, month: Month) -> None:
    incident = session.get(Incident, month.a)
    assert incident is not None
    incident.title = "<script>alert(1)</script>泄题"
    session.flush()
    report = build_report(session, PERIOD, now=AS_OF)
    page = render(report, "html", BASE).decode("utf-8")
    assert "<script>alert" not in page
    parser = _Tables()
    parser.feed(page)
    assert "<script>alert(1)</script>泄题" in "".join(parser.text)
    clocks = {r[0]: tuple(int(v) for v in r[1:5]) for r in parser.tables["clocks"][1:]}
    assert clocks == EXPECTED_CLOCKS
    assert PRESS_URL in parser.hrefs
    assert page.count('src="data:image/png;base64,') == 2


def test_an_unknown_format_is_refused(report: TimelinessReport) -> None:
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        render(report, "pdf")


@pytest.mark.parametrize("draw", [trend_figure, statement_figure])
def test_the_charts_font_covers_every_label_character(report: TimelinessReport,
                                                      draw: object) -> None:
    with chart_style():
        figure = draw(report)  # type: ignore[operator]
        figure.canvas.draw()
        labels = [t for t in figure.findobj(Text) if t.get_text().strip()]
        fonts = {t.get_text(): font_manager.findfont(t.get_fontproperties()) for t in labels}
    assert any(not text.isascii() for text in fonts)  # there are Chinese labels to check
    for text, path in fonts.items():
        assert Path(path) == FONT_PATH, text
        with TTFont(str(path)) as font:
            cmap = font.getBestCmap()
        missing = [ch for ch in text if not ch.isspace() and ord(ch) not in cmap]
        assert not missing, f"{text!r} lacks {missing}"


@pytest.mark.parametrize("fmt", ["docx", "xlsx", "html", "csv"])
def test_a_title_with_control_characters_still_renders(session: Session, month: Month,
                                                       fmt: str) -> None:
    incident = session.get(Incident, month.a)
    assert incident is not None
    incident.title = "法考\x0b泄题\x1f传闻"  # as some crawled pages carry them
    session.flush()
    data = render(build_report(session, PERIOD, now=AS_OF), fmt)
    if fmt == "docx":
        text = "".join(c.text for t in Document(io.BytesIO(data)).tables
                       for row in t.rows for c in row.cells)
        assert "法考泄题传闻" in text
    elif fmt == "xlsx":
        book = load_workbook(io.BytesIO(data))
        assert "法考泄题传闻" in [c.value for c in book["逾期与延迟清单"]["B"]]
    else:
        assert "法考" in data.decode("utf-8-sig")
