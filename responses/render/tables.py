"""The report as plain tables, shared by every format so that each shows the same figures.

A cell is a scalar, a :class:`Link` (a value with its link target), a :class:`Percent` or an
:class:`Hours`; each renderer decides how they look (Excel keeps numbers as numbers).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from analysis.models import Severity
from responses.report import (LEGAL_TOTAL, SEVERITY_ORDER, IncidentTimeline, KindStats,
                              LateClock, TimelinessReport, kind_label, severity_label,
                              topic_label)
from yuqing.core.clock import SHANGHAI


@dataclass(frozen=True)
class Percent:
    value: float | None

    def __str__(self) -> str:
        return "—" if self.value is None else f"{self.value * 100:.1f}%"


@dataclass(frozen=True)
class Hours:
    value: float | None

    def __str__(self) -> str:
        return "—" if self.value is None else f"{self.value:.1f}"


Scalar = str | int | float | Percent | Hours | None


@dataclass(frozen=True)
class Link:
    value: Scalar
    target: str

    def __str__(self) -> str:
        return text_of(self.value)


Cell = Scalar | Link


# Control characters that XML 1.0 (Word, Excel) cannot hold; crawled titles sometimes carry them.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    return XML_ILLEGAL.sub("", text)


def text_of(cell: Cell) -> str:
    if cell is None:
        return "—"
    return str(cell)


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""


def local(value: datetime | None, tz: ZoneInfo = SHANGHAI) -> str | None:
    return None if value is None else value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def summary(report: TimelinessReport) -> Table:
    p, links, press = report.period, report.links, report.press
    tz = p.tz
    rows: list[tuple[Cell, ...]] = [
        ("统计期间", p.label, None),
        ("统计截至", local(report.as_of, tz), None),
        ("事件数（不含演练）", report.incidents, Link("事件列表", links["incidents"])),
        ("应完成时限", report.overall.due, Link("时限列表", report.overall.link)),
        ("按时完成", report.overall.on_time, Link("时限列表", report.overall.link)),
        ("总体按时率（不含持续发布）", Percent(report.overall.on_time_rate), Link("时限列表", report.overall.link)),
        ("T0 至首次发布中位数（小时）", Hours(report.to_statement.median),
         Link("计算依据", report.to_statement.link)),
        ("T0 至首次发布 P90（小时）", Hours(report.to_statement.p90),
         Link("计算依据", report.to_statement.link)),
        ("尚无发布的事件", report.without_statement, Link("事件列表", links["incidents"])),
        ("发现时延中位数（小时）", Hours(report.detection_lag.median),
         Link("计算依据", report.detection_lag.link)),
        ("确认用时中位数（小时）", Hours(report.to_acknowledge.median),
         Link("计算依据", report.to_acknowledge.link)),
        ("新闻发布会：应召开", press.required, Link("时限列表", press.link)),
        ("新闻发布会：已召开", press.held, Link("时限列表", press.link)),
        ("新闻发布会：按时召开", press.held_on_time, Link("时限列表", press.link)),
        ("持续发布：应发布次数", report.follow_ups_due, Link("时限列表", links["report"])),
        ("持续发布：间断次数", len(report.follow_up_gaps), Link("间断清单", links["report"])),
    ]
    return Table("summary", "总体情况", ("项目", "数值", "依据"), tuple(rows))


def distribution(report: TimelinessReport) -> Table:
    q = report.period.query
    rows = []
    for topic in report.topics:
        counts = [report.by_severity_topic.get((s.value, topic), 0) for s in SEVERITY_ORDER]
        cells: list[Cell] = [topic_label(topic)]
        cells += [Link(n, f"/incidents?{q}&severity={s.value}&topic={topic or ''}") if n else 0
                  for n, s in zip(counts, SEVERITY_ORDER)]
        rows.append((*cells, sum(counts)))
    totals = [sum(report.by_severity_topic.get((s.value, t), 0) for t in report.topics)
              for s in SEVERITY_ORDER]
    rows.append(("合计", *totals, report.incidents))
    columns = ("主题", *(s.label for s in SEVERITY_ORDER), "合计")
    return Table("distribution", "事件分布（等级 × 主题）", columns, tuple(rows))


def _kind_row(stats: KindStats) -> tuple[Cell, ...]:
    return (stats.label, stats.due, stats.on_time, stats.late, stats.overdue, stats.pending,
            stats.waived, Percent(stats.on_time_rate), Link("时限列表", stats.link))


def clocks(report: TimelinessReport) -> Table:
    rows = tuple(_kind_row(k) for k in (*report.kinds, report.overall))
    return Table("clocks", "时限达成情况",
                 ("时限类型", "应完成", "按时完成", "逾期完成", "逾期未完成", "未到期", "备案豁免",
                  "按时率", "依据"), rows,
                 note="应完成 = 按时完成 + 逾期完成 + 逾期未完成；按时率 = 按时完成 ÷ 应完成；"
                      "合计为法定时限（首次权威信息发布、新闻发布会、回应），持续发布另列。")


def _late_row(c: LateClock, tz: ZoneInfo) -> tuple[Cell, ...]:
    kind = kind_label(c.kind) + (f" 第{c.sequence}次" if c.sequence else "")
    return (Link(f"#{c.incident_id}", c.link), c.title, severity_label(c.severity),
            c.section, kind, local(c.due_at, tz), local(c.met_at, tz), c.outcome.label,
            Hours(c.overrun_hours), "、".join(cause.label for cause in c.causes),
            _officer(c), Link("发布原文", c.evidence) if c.evidence else None)


def _officer(c: LateClock) -> str | None:
    """责任人: the display name with the key (张三（zhang）), or the key alone."""
    if c.officer is None:
        return None
    if c.officer_name and c.officer_name != c.officer:
        return f"{c.officer_name}（{c.officer}）"
    return c.officer


def late(report: TimelinessReport) -> Table:
    return Table("late", "逾期与延迟清单",
                 ("事件", "标题", "等级", "主管科室", "时限", "截止时间", "完成时间", "结果",
                  "超时（小时）", "原因", "责任人", "依据"),
                 tuple(_late_row(c, report.period.tz) for c in report.late),
                 note="责任人：首位确认人，无确认时为首位接到通知的人员。")


def gaps(report: TimelinessReport) -> Table:
    return Table("follow_up", "持续发布间断",
                 ("事件", "标题", "等级", "主管科室", "时限", "截止时间", "完成时间", "结果",
                  "超时（小时）", "原因", "责任人", "依据"),
                 tuple(_late_row(c, report.period.tz) for c in report.follow_up_gaps))


def trend(report: TimelinessReport) -> Table:
    unit = "月" if report.period.monthly else "周"
    rows = tuple((p.bucket.isoformat(), LEGAL_TOTAL if p.kind is None else kind_label(p.kind),
                  p.due, p.on_time, Percent(p.on_time_rate)) for p in report.trend)
    return Table("trend", "按时率趋势", (f"{unit}起始", "时限类型", "应完成", "按时完成", "按时率"),
                 rows, note="按事件 T0 所在周（月）归集。")


def _timeline_rows(t: IncidentTimeline, tz: ZoneInfo) -> list[tuple[Cell, ...]]:
    # The incident links from its first row; each event links to what it rests on.
    return [(Link(f"#{t.incident_id}", t.link) if index == 0 else f"#{t.incident_id}", t.title,
             severity_label(t.severity), local(e.at, tz), e.what, e.detail, Link("查看", e.link))
            for index, e in enumerate(t.events)]


def timelines(report: TimelinessReport,
              selected: Sequence[IncidentTimeline] | None = None) -> Table:
    chosen = report.timelines if selected is None else selected
    rows = tuple(row for t in chosen for row in _timeline_rows(t, report.period.tz))
    return Table("timelines", "事件时间线", ("事件", "标题", "等级", "时间", "环节", "说明", "依据"),
                 rows)


def key_timelines(report: TimelinessReport, limit: int) -> list[IncidentTimeline]:
    """For the Word report: incidents that missed a clock, then 重大/特别重大, up to ``limit``."""
    urgent = {Severity.MAJOR.value, Severity.CRITICAL.value}
    chosen = [t for t in report.timelines if t.missed]
    chosen += [t for t in report.timelines if not t.missed and t.severity in urgent]
    return chosen[:limit]


def all_tables(report: TimelinessReport) -> list[Table]:
    return [summary(report), distribution(report), clocks(report), late(report), gaps(report),
            trend(report), timelines(report)]


DEFINITIONS = (
    "统计范围：T0 落在统计期间（北京时间）内的舆情事件，演练事件不计入。",
    "T0：事件发生时间，未知时取首条网帖时间；二者皆无时取系统发现时间。",
    "时限结果按统计截至时刻计算：发布时间不晚于截止时间为按时完成。",
    "原因：发现滞后（发现晚于截止）、定级滞后（升级晚于截止）、审批滞后、发布滞后、尚未发布。",
    "首次发布：首次权威信息发布、新闻发布会或回应中最早的一次。",
    "发现时延仅统计 T0 取自事件发生或首条网帖的事件。",
)
