"""The Word report (.docx): the format leadership edits and forwards.

Chinese headings, the summary and clock tables, both charts, the late list, 持续发布 gaps and the
timelines of the incidents that matter (missed clocks first, then 重大/特别重大); the full
timeline is in the Excel and HTML versions. Links are real hyperlinks; dashboard paths are joined
to ``base_url``.
"""

from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocumentObject
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt

from responses.render import tables
from responses.render.charts import charts
from responses.render.tables import Cell, Link, Table, clean, text_of
from responses.report import TimelinessReport

TIMELINE_LIMIT = 50
NUMERALS = "一二三四五六七八九十"
BODY_FONT, HEADING_FONT = "宋体", "黑体"


def target(link: str, base_url: str) -> str:
    """An absolute URL for a link target (dashboard paths start with '/')."""
    return base_url.rstrip("/") + link if link.startswith("/") else link


def _fonts(document: DocumentObject) -> None:
    for name, east_asian in (("Normal", BODY_FONT), ("Title", HEADING_FONT),
                             ("Heading 1", HEADING_FONT), ("Heading 2", HEADING_FONT)):
        style = document.styles[name]
        style.font.name = "Times New Roman" if name == "Normal" else None
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), east_asian)
    document.styles["Normal"].font.size = Pt(10.5)


def _run_xml(text: str, bold: bool = False) -> str:
    props = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return f'<w:r>{props}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"


class _Links:
    """Relationship ids of the document's hyperlinks. python-docx looks each new one up by a
    scan of all relationships, quadratic over a year's thousands of links; this keeps a dict
    and its own id prefix, which cannot clash with python-docx's ``rIdN``."""

    def __init__(self, document: DocumentObject, base_url: str) -> None:
        self.rels = document.part.rels
        self.base_url = base_url
        self.ids: dict[str, str] = {}

    def rid(self, link: str) -> str:
        url = target(link, self.base_url)
        if url not in self.ids:
            self.ids[url] = f"rIdLink{len(self.ids) + 1}"
            self.rels.add_relationship(HYPERLINK, url, self.ids[url], is_external=True)
        return self.ids[url]


def _cell_xml(cell: Cell, links: _Links, bold: bool = False) -> str:
    text = clean(text_of(cell))
    if isinstance(cell, Link) and cell.target:
        rel = links.rid(cell.target)
        run = (f'<w:r><w:rPr><w:rStyle w:val="Hyperlink"/><w:color w:val="0563C1"/>'
               f'<w:u w:val="single"/></w:rPr><w:t xml:space="preserve">{escape(text)}</w:t></w:r>')
        body = f'<w:hyperlink r:id="{rel}">{run}</w:hyperlink>'
    else:
        body = _run_xml(text, bold)
    return f"<w:tc><w:tcPr/><w:p>{body}</w:p></w:tc>"


def add_table(document: DocumentObject, table: Table, links: _Links) -> None:
    """The table as one XML fragment: python-docx's cell-by-cell API takes seconds for the
    thousands of rows a year's late list can have."""
    header = "".join(_cell_xml(c, links, bold=True) for c in table.columns)
    rows = ["<w:tr><w:trPr><w:tblHeader/></w:trPr>" + header + "</w:tr>"]
    rows += ["<w:tr>" + "".join(_cell_xml(c, links) for c in row) + "</w:tr>"
             for row in table.rows]
    grid = "".join("<w:gridCol/>" for _ in table.columns)
    xml = (f'<w:tbl {nsdecls("w", "r")}><w:tblPr><w:tblStyle w:val="TableGrid"/>'
           f'<w:tblW w:w="5000" w:type="pct"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>'
           + "".join(rows) + "</w:tbl>")
    document.element.body.append(parse_xml(xml))
    # Keep the section properties last, where Word expects them.
    sect = document.element.body.find(qn("w:sectPr"))
    if sect is not None:
        document.element.body.append(sect)
    if table.note:
        document.add_paragraph(table.note)


def _heading(document: DocumentObject, number: int, text: str) -> None:
    document.add_heading(f"{NUMERALS[number]}、{text}", level=1)


def render_docx(report: TimelinessReport, base_url: str = "") -> bytes:
    document = Document()
    _fonts(document)
    links = _Links(document, base_url)
    document.add_heading("舆情回应时效报告", level=0)
    document.add_paragraph(f"统计期间：{report.period.label}（北京时间）　"
                           f"统计截至：{tables.local(report.as_of, report.period.tz)}")
    chosen = tables.key_timelines(report, TIMELINE_LIMIT)
    sections: list[tuple[str, Table | None]] = [
        ("总体情况", tables.summary(report)), ("事件分布", tables.distribution(report)),
        ("时限达成情况", tables.clocks(report)), ("图表", None),
        ("逾期与延迟清单", tables.late(report)), ("持续发布间断", tables.gaps(report)),
        ("重点事件时间线", tables.timelines(report, chosen))]
    for number, (title, table) in enumerate(sections):
        _heading(document, number, title)
        if table is None:
            for caption, png in charts(report):
                document.add_picture(BytesIO(png), width=Cm(15))
                document.add_paragraph(caption)
        elif table.rows:
            add_table(document, table, links)
        else:
            document.add_paragraph("本期无。")
    if len(chosen) < len(report.timelines):
        document.add_paragraph(f"本节列出 {len(chosen)} 起事件，全部 {len(report.timelines)} "
                               "起事件的时间线见 Excel 或 HTML 版。")
    _heading(document, len(sections), "说明")
    for line in tables.DEFINITIONS:
        document.add_paragraph(line)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()
