"""Charts for the report, drawn with matplotlib's object API (no pyplot state) in the CJK font
the package ships, so Chinese labels render on any machine."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from responses.report import KIND_ORDER, LEGAL_TOTAL, TimelinessReport, kind_label

FONT_PATH = Path(__file__).resolve().parent.parent / "fonts" / "NotoSansCJKsc-GB2312.otf"
STATEMENT_HOURS = 5


@lru_cache(maxsize=1)
def font_family() -> str:
    """Register the shipped font once and return its family name."""
    font_manager.fontManager.addfont(str(FONT_PATH))
    return font_manager.FontProperties(fname=str(FONT_PATH)).get_name()


def _figure() -> Figure:
    figure = Figure(figsize=(8, 4), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


@contextmanager
def chart_style() -> Iterator[None]:
    """Matplotlib settings for report charts. Tick labels are made when a figure is drawn,
    so drawing (saving) must happen inside this too."""
    with rc_context({"font.family": [font_family(), "DejaVu Sans"],
                     "axes.unicode_minus": False}):
        yield


def _png(figure: Figure) -> bytes:
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def trend_figure(report: TimelinessReport) -> Figure:
    """On-time rate per week (or month) of T0: all clocks, and each kind that had any due."""
    with chart_style():
        figure = _figure()
        axes = figure.add_subplot()
        buckets = sorted({p.bucket for p in report.trend})
        labels = [b.strftime("%m-%d") for b in buckets]
        for kind in (None, *KIND_ORDER):
            points = {p.bucket: p for p in report.trend if p.kind == kind}
            if not points:
                continue
            ys = [100 * r if (p := points.get(b)) and (r := p.on_time_rate) is not None
                  else float("nan") for b in buckets]
            axes.plot(labels, ys, marker="o", linewidth=2.5 if kind is None else 1.2,
                      label=LEGAL_TOTAL if kind is None else kind_label(kind))
        axes.set_ylim(0, 105)
        axes.set_title("按时率趋势")
        axes.set_xlabel("月起始" if report.period.monthly else "周起始（周一）")
        axes.set_ylabel("按时率（%）")
        if report.trend:
            axes.legend(loc="lower left", fontsize=8)
        else:
            axes.text(0.5, 0.5, "本期无到期时限", ha="center", va="center",
                      transform=axes.transAxes)
    return figure


def statement_figure(report: TimelinessReport) -> Figure:
    """How long after T0 the first statement came, with the 5-hour line."""
    with chart_style():
        figure = _figure()
        axes = figure.add_subplot()
        values = report.to_statement.values
        if values:
            width = max(1, math.ceil(max(values) / 24))  # whole hours, at most ~24 bars
            edges = list(range(0, math.ceil(max(values)) + width + 1, width))
            axes.hist(values, bins=edges, color="#4C72B0")
        else:
            axes.text(0.5, 0.5, "本期无已发布事件", ha="center", va="center",
                      transform=axes.transAxes)
        axes.axvline(STATEMENT_HOURS, color="#C44E52", linestyle="--",
                     label=f"{STATEMENT_HOURS} 小时时限")
        axes.set_xlim(left=0)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title("T0 至首次发布用时分布")
        axes.set_xlabel("用时（小时）")
        axes.set_ylabel("事件数")
        axes.legend(loc="upper right", fontsize=8)
    return figure


def charts(report: TimelinessReport) -> list[tuple[str, bytes]]:
    """(title, PNG) of every chart of the report."""
    with chart_style():
        return [("按时率趋势", _png(trend_figure(report))),
                ("T0 至首次发布用时分布", _png(statement_figure(report)))]
