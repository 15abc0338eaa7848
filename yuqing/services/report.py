"""The timeliness report (时效报告) for a period, rendered and written to a file."""

from __future__ import annotations

import os
import tempfile
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.roster import Roster, current_roster, implied_roles
from alerts.sweep import enqueue
from analysis.ownership import Ownership
from responses.render import render
from responses.report import Period, TimelinessReport, build_report
from responses.schedule import KIND, Schedule, export_link, marker, outbox_key, report_file
from yuqing.core import audit
from yuqing.core.db import session_scope
from yuqing.core.models import AuditEvent, Role
from yuqing.services.config import Config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportWritten:
    path: Path
    period: Period
    incidents: int
    on_time_rate: float | None  # None: no legal clock fell due in the period


def write_report(session: Session, period: Period, out: Path, fmt: str, *, now: datetime,
                 ownership: Ownership | None, dashboard_url: str | None) -> ReportWritten:
    """Build the period's report, render it in ``fmt`` and write it to ``out`` (whole or not
    at all). Owning sections are the incidents' own; ``ownership`` (the config's map) only
    fills in for incidents stored without one."""
    built = build_report(session, period, now=now, ownership=ownership)
    _write(out, render(built, fmt, dashboard_url or ""))
    return ReportWritten(out, period, built.incidents, built.overall.on_time_rate)


def timeliness(session: Session, period: Period, *, now: datetime,
               ownership: Ownership | None) -> TimelinessReport:
    """The period's report as data, for the dashboard's reports page."""
    return build_report(session, period, now=now, ownership=ownership)


def report_bytes(session: Session, period: Period, fmt: str, *, now: datetime,
                 ownership: Ownership | None, dashboard_url: str | None) -> bytes:
    """The period's report rendered in ``fmt``, for a download (the dashboard's export)."""
    built = build_report(session, period, now=now, ownership=ownership)
    return render(built, fmt, dashboard_url or "")


def _write(out: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder: a failure leaves no half file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- scheduled reports (``yuqing run``) ---------------------------------------------------------

AUDIT_ACTION = "report.scheduled"  # one per schedule and period: the run's marker
RETRY_AFTER = timedelta(minutes=10)  # a run that failed (database, disk) is tried again then


@dataclass(frozen=True)
class ScheduledRun:
    """One schedule's period written and its copies enqueued (``queued`` new outbox rows)."""

    marker: str
    period: Period
    files: tuple[Path, ...]
    recipients: tuple[str, ...]
    queued: int


def leaders(roster: Roster) -> list[str]:
    """Who receives the reports: the principal leader, the deputy leader, then everyone else
    the roster makes a leader (``roles: [leader]``), in roster order."""
    found = [p for p in (roster.principal_leader, roster.deputy_leader) if p]
    found += [key for key in roster.people if Role.LEADER in implied_roles(roster, key)]
    return list(dict.fromkeys(found))


@dataclass
class ScheduledReports:
    """The weekly and monthly reports of the config's ``reports:`` section, on the daemon's
    clock: :meth:`run_due` (each tick) writes each schedule's latest due period once and puts
    one copy per leader into the alert outbox, which delivers and retries them like any other
    notification. The marker of a done period is its audit event, so a restart never resends
    and a period missed during downtime is caught up once (only the latest one)."""

    factory: sessionmaker[Session]
    config: Config
    done: set[str] = field(default_factory=set)
    failed_until: dict[str, datetime] = field(default_factory=dict)

    def run_due(self, now: datetime) -> list[ScheduledRun]:
        """Each schedule's latest period due at ``now``, unless done; raises on failure."""
        return [run for schedule in self.config.reports.schedules
                for run in self._due_one(schedule, now)]

    def run_safely(self, now: datetime) -> None:
        """:meth:`run_due` that never raises (the daemon's ``before_delivery``): a failure is
        logged and tried again after ``RETRY_AFTER``."""
        for schedule in self.config.reports.schedules:
            try:
                for run in self._due_one(schedule, now):
                    log.info("scheduled report %s written (%s) and queued for %d leaders",
                             run.marker, ", ".join(p.name for p in run.files), run.queued)
            except Exception as exc:  # noqa: BLE001 - the daemon's clocks must keep running
                _, period = schedule.latest(now, self.config.tz)
                self.failed_until[marker(schedule, period)] = now + RETRY_AFTER
                log.error("scheduled report %s failed, retrying in %s: %s: %s",
                          marker(schedule, period), RETRY_AFTER, type(exc).__name__,
                          str(exc).splitlines()[0] if str(exc) else "")

    def _due_one(self, schedule: Schedule, now: datetime) -> list[ScheduledRun]:
        sent_at, period = schedule.latest(now, self.config.tz)
        key = marker(schedule, period)
        if key in self.done or self.failed_until.get(key, sent_at) > now:
            return []
        run = self._run(schedule, sent_at, period, now)
        self.done.add(key)
        self.failed_until.pop(key, None)
        return [run] if run is not None else []

    def _run(self, schedule: Schedule, sent_at: datetime, period: Period,
             now: datetime) -> ScheduledRun | None:
        key = marker(schedule, period)
        with session_scope(self.factory, readonly=True) as session:
            if _marked(session, key):
                return None  # done before a restart, or by another scheduler
            built = build_report(session, period, now=sent_at, ownership=self.config.ownership)
        files = tuple(self._write(built, schedule, period))
        with session_scope(self.factory) as session:
            if _marked(session, key):
                return None
            roster = current_roster(session, self.config.roster)
            recipients = leaders(roster)
            title = f"【舆情回应时效报告】{schedule.label} {period.label}"
            body = _body(schedule, period, built, files[0],
                         export_link(self.config.dashboard_url, period))
            queued = 0
            everyone: list[str | None] = list(recipients) or [None]  # nobody: a failed row
            for recipient in everyone:
                outbox = outbox_key(schedule, period, recipient)
                queued += enqueue(session, roster, key=outbox, recipient=recipient,
                                  incident_id=None, deadline_id=None,
                                  step=f"report-{schedule.name}", kind=KIND, level=0,
                                  title=title, body=f"{body}\n消息编号：{outbox}",
                                  scheduled_at=sent_at, now=now)
            audit.record(session, actor="yuqing run", action=AUDIT_ACTION, object_type="report",
                         object_id=key, now=now,
                         details={"period": [period.start.isoformat(), period.end.isoformat()],
                                  "as_of": sent_at.isoformat(),
                                  "files": [str(f) for f in files],
                                  "recipients": recipients})
        return ScheduledRun(key, period, files, tuple(recipients), queued)

    def _write(self, built: TimelinessReport, schedule: Schedule,
               period: Period) -> list[Path]:
        section = self.config.reports
        written = []
        for fmt in section.formats:  # docx first
            out = report_file(section.out_dir, schedule, period, fmt)
            _write(out, render(built, fmt, self.config.dashboard_url or ""))
            written.append(out)
        return written


def _marked(session: Session, key: str) -> bool:
    return session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == AUDIT_ACTION, AuditEvent.object_type == "report",
        AuditEvent.object_id == key).limit(1)) is not None


def _body(schedule: Schedule, period: Period, report: TimelinessReport, docx: Path,
          link: str | None) -> str:
    overall = report.overall
    rate = overall.on_time_rate
    shown = "—" if rate is None else f"{rate * 100:.1f}%"
    lines = [f"统计期间：{period.label}（北京时间，{schedule.label}）",
             f"事件 {report.incidents} 起；法定时限应完成 {overall.due} 项，按时完成 "
             f"{overall.on_time} 项，按时率 {shown}；逾期与延迟 {len(report.late)} 项。",
             f"Word 版报告：邮件附件 {docx.name}"]
    lines.append(f"在线查看与下载：{link}" if link else "（未配置仪表盘地址，无下载链接）")
    return "\n".join(lines)
