"""The timeliness report (时效报告) for a period, rendered and written to a file."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from analysis.ownership import Ownership
from responses.render import render
from responses.report import Period, build_report


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
