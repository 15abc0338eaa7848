"""Scheduled weekly/monthly reports through the real alert daemon's tick, a real SQLite file and
loopback SMTP/webhook receivers; time moves only through the daemon's injected clock."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.models import Notification
from alerts.roster import parse_roster
from alerts.scheduler import AlertDaemon
from alerts.transports.apprise_transport import AppriseTransport
from analysis.models import Incident
from responses.schedule import ReportsSection, parse_monthly, parse_weekly
from tests.alerts.receivers import Inbox, Smtp, Webhook
from tests.responses.conftest import bj, build_month
from yuqing.core.db import make_engine, make_sessionmaker
from yuqing.core.migrate import upgrade
from yuqing.services.config import Config
from yuqing.services.report import ScheduledReports

DASHBOARD = "https://yq.example.gov.cn"


@dataclass
class World:
    factory: sessionmaker[Session]
    inbox: Inbox
    smtp: Smtp
    webhook: Webhook
    out: Path
    now: list[datetime]

    def config(self, **reports: object) -> Config:
        roster = parse_roster({
            "people": {
                "qian": {"name": "钱副局长", "channels": [self.smtp.url("qian@bureau.test")]},
                "sun": {"name": "孙局长", "channels": [self.webhook.url("/sun")]},
                "zhou": {"name": "周组长", "roles": ["leader"]},  # a leader without a channel
                "alice": {"name": "值班员甲", "channels": [self.webhook.url("/alice")]},
            },
            "deputy_leader": "qian", "principal_leader": "sun"})
        return Config(roster=roster, dashboard_url=DASHBOARD,
                      reports=ReportsSection.model_validate({"out_dir": self.out, **reports}))

    def daemon(self, config: Config) -> AlertDaemon:
        """A fresh daemon and report job: what a restart of ``yuqing run`` builds."""
        daemon = AlertDaemon(self.factory, config.alerts, lambda: self.now[0], AppriseTransport(),
                             elect=False)
        daemon.before_delivery = ScheduledReports(self.factory, config).run_safely
        return daemon

    def outbox(self) -> dict[str, str]:
        with self.factory() as session:
            return {n.idempotency_key: n.status for n in session.scalars(
                select(Notification).where(Notification.kind == "report"))}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'reports.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        build_month(session)  # A (exam, 11-02) has a late press conference
        # Closed: their clocks' reminders and escalations are not what these tests are about.
        session.execute(update(Incident).values(status="closed", closed_at=bj(11, 6, 9)))
        session.commit()
    inbox = Inbox()
    smtp, webhook = Smtp(inbox), Webhook(inbox)
    try:
        yield World(make_sessionmaker(engine), inbox, smtp, webhook, tmp_path / "reports",
                    [bj(11, 9, 9)])
    finally:
        smtp.close()
        webhook.close()
        engine.dispose()


WEEK = "weekly:2026-11-02:2026-11-08"


def test_the_weekly_report_reaches_the_leaders_once_across_a_restart(world: World) -> None:
    config = world.config(weekly="mon 08:30", formats=["docx", "html"])
    world.daemon(config).tick()  # Monday 11-09 09:00: last week's report is due

    mail = [a for a in world.inbox.arrivals if a.channel == "smtp"]
    assert len(mail) == 1 and "周报 2026-11-02 至 2026-11-08" in mail[0].title
    [(name, content)] = mail[0].attachments
    assert name == "timeliness-weekly-2026-11-02-2026-11-08.docx"
    document = Document(io.BytesIO(content))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "舆情回应时效报告"
    assert any("统计期间：2026-11-02 至 2026-11-08" in t for t in texts)
    late = next(t for t in document.tables if t.rows[0].cells[0].text == "事件")
    assert [r.cells[3].text for r in late.rows[1:]] == ["法律职业资格管理处"] * (len(late.rows) - 1)
    assert (world.out / "timeliness-weekly-2026-11-02-2026-11-08.html").is_file()

    [hook] = [a for a in world.inbox.arrivals if a.channel == "/sun"]
    assert (f"{DASHBOARD}/reports/export?from=2026-11-02&to=2026-11-08&format=docx"
            in hook.body)
    assert world.outbox() == {f"report:{WEEK}:qian": "sent", f"report:{WEEK}:sun": "sent",
                              f"report:{WEEK}:zhou": "failed"}  # no channel: recorded

    for later in (bj(11, 9, 10), bj(11, 15, 23)):  # restarts during the week
        world.now[0] = later
        world.daemon(config).tick()
    assert len(world.inbox.arrivals) == 2 and len(world.outbox()) == 3


def test_downtime_catches_up_the_latest_periods_once_and_a_failing_channel_is_retried(
        world: World) -> None:
    config = world.config(weekly="mon 08:30", monthly="1 08:30")
    world.webhook.status["/sun"] = 500
    world.now[0] = bj(12, 1, 9)  # down since before 11-09: three weeks and a month missed
    daemon = world.daemon(config)
    daemon.tick()
    keys = world.outbox()
    assert {k.rsplit(":", 1)[0] for k in keys} == {"report:weekly:2026-11-23:2026-11-29",
                                                   "report:monthly:2026-11-01:2026-11-30"}
    assert keys["report:monthly:2026-11-01:2026-11-30:sun"] == "pending"  # 500: retried
    assert sorted(a.title for a in world.inbox.arrivals) == [
        "【舆情回应时效报告】周报 2026-11-23 至 2026-11-29",
        "【舆情回应时效报告】月报 2026-11-01 至 2026-11-30"]

    world.webhook.status.pop("/sun")
    world.now[0] += timedelta(seconds=30)  # past the first backoff (20 s)
    daemon.tick()
    assert world.outbox()["report:monthly:2026-11-01:2026-11-30:sun"] == "sent"
    assert len([a for a in world.inbox.arrivals if a.channel == "/sun"]) == 2
    assert len(world.inbox.arrivals) == 4


@pytest.mark.parametrize(("at", "expected"), [
    (datetime(2026, 11, 30, 8, 29), (date(2026, 11, 16), date(2026, 11, 22))),  # not yet
    (datetime(2026, 11, 30, 8, 30), (date(2026, 11, 23), date(2026, 11, 29))),
    (datetime(2026, 12, 3, 0, 5), (date(2026, 11, 23), date(2026, 11, 29))),
])
def test_weekly_is_the_previous_monday_to_sunday_in_beijing_time(
        at: datetime, expected: tuple[date, date]) -> None:
    from yuqing.core.clock import SHANGHAI

    _, period = parse_weekly("mon 08:30").latest(at.replace(tzinfo=SHANGHAI), SHANGHAI)
    assert (period.start, period.end) == expected


def test_monthly_is_the_previous_calendar_month() -> None:
    from yuqing.core.clock import SHANGHAI

    sent, period = parse_monthly("1 08:30").latest(datetime(2027, 1, 1, 8, 30, tzinfo=SHANGHAI),
                                                   SHANGHAI)
    assert (period.start, period.end) == (date(2026, 12, 1), date(2026, 12, 31))
    _, before = parse_monthly("1 08:30").latest(datetime(2027, 1, 1, 8, 0, tzinfo=SHANGHAI),
                                                SHANGHAI)
    assert (before.start, before.end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert sent.isoformat() == "2027-01-01T00:30:00+00:00"


def test_the_reports_section_is_checked_with_the_rest_of_the_config() -> None:
    from responses.render import FORMATS
    from responses.schedule import FORMATS as SCHEDULE_FORMATS
    from yuqing.config_check import check_data

    assert SCHEDULE_FORMATS == FORMATS
    problems = check_data({"reports": {"weekly": "monday 8", "monthly": "31 08:30",
                                       "formats": ["pdf"], "when": 1}})
    assert {p.path for p in problems} == {"reports.weekly", "reports.monthly", "reports.formats",
                                          "reports.when"}
    assert not check_data({"reports": {"weekly": "Fri 17:00", "formats": "xlsx"}})
    assert ReportsSection(formats=("xlsx",)).formats == ("docx", "xlsx")
