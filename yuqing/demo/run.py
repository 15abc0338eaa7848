"""The demo's driver: the real daemon on a simulated day, three people at work, the report.

The daemon is ``yuqing run --clock-file`` in a child process, the one the tests drive: it crawls
the simulated internet on each source's schedule, analyses, opens the incident, starts the
clocks and sends to the catcher. This driver only moves the clock file forward, step by step,
waits until the daemon has done the work of each step (its heartbeat's ``.settled`` file), and
at set times acts as the people do, through the same services as the CLI and the dashboard.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from yuqing.context import AppContext
from yuqing.core.clock import SHANGHAI, format_local, parse_local
from yuqing.core.db import session_scope
from yuqing.core.migrate import upgrade
from yuqing.core.settings import Settings, load_config
from yuqing.demo.catcher import Catcher, Caught
from yuqing.demo.internet import SimulatedInternet, sources
from yuqing.demo.story import STATEMENT

DASHBOARD_URL = "http://127.0.0.1:8000"
PASSWORD = "yuqing-demo"  # every demo user's password (printed for `yuqing demo --serve`)

# Roster key → (name, role, section). Three of them take the statement through the procedure.
PEOPLE: dict[str, tuple[str, str, str | None]] = {
    "zhang": ("张值班", "duty_officer", "办公室"),
    "zhou": ("周科长", "section", "律师公证工作管理科"),
    "wu": ("吴审核", "office", "办公室"),
    "qian": ("钱副局长", "leader", None),
    "sun": ("孙局长", "leader", None),
    "wang": ("王管理员", "admin", "办公室"),
}

# Minutes after the story's start: every ten minutes while it unfolds, a few steps through the
# quiet night, then the press conference's reminders, due time, overdue notices and escalation.
FULL_STEPS = (list(range(0, 241, 10)) + [300, 720, 1080]
              + [1390, 1400, 1420, 1430, 1450, 1460, 1480, 1490, 1510])
QUICK_STEPS = [0, 20, 40, 60, 80, 120, 240, 1380, 1470, 1500, 1530]


@dataclass
class Act:
    at_minutes: int
    who: str
    what: str
    do: Callable[[Demo, datetime], str]


@dataclass
class DemoOutcome:
    workdir: Path
    database_url: str
    start: datetime
    end: datetime
    incidents: int = 0
    notifications: list[Caught] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)
    clocks: list[tuple[str, str, str]] = field(default_factory=list)  # kind, due, outcome
    seconds: float = 0.0
    daemon_exit: int | None = None


class DemoError(Exception):
    """The daemon stopped, or a step did not finish in time: the message says which."""


class Demo:
    def __init__(self, workdir: Path = Path("var/demo"), reports: Path = Path("var/reports"),
                 *, quick: bool = False, start: datetime | None = None,
                 say: Callable[[str], None] = print, step_timeout: float = 120.0,
                 dashboard_url: str = DASHBOARD_URL) -> None:
        self.workdir = workdir
        self.reports_dir = reports
        self.steps = QUICK_STEPS if quick else FULL_STEPS
        now = (start or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
        # The simulated day ends now (on the last full ten minutes): the story happened in the
        # past day, so the dashboard on the machine's clock (`yuqing serve`) shows it as it ended.
        end = now.replace(minute=now.minute - now.minute % 10, second=0, microsecond=0)
        self.start = end - timedelta(minutes=self.steps[-1])
        self.say = say
        self.dashboard_url = dashboard_url
        self.step_timeout = step_timeout
        self.clock_file = workdir / "clock"
        self.heartbeat = workdir / "heartbeat"
        self.url = f"sqlite:///{workdir / 'demo.db'}"
        self.ctx: AppContext | None = None
        self.internet: SimulatedInternet | None = None
        self.incident_id: int | None = None
        self.response_id: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self.ctx is None:
            raise DemoError("the demo's database is not prepared yet")
        return self.ctx.sessions

    # --- the clock ------------------------------------------------------------------------

    def now(self) -> datetime:
        return parse_local(self.clock_file.read_text(encoding="utf-8"))

    def set_clock(self, at: datetime) -> None:
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(at.isoformat(), encoding="utf-8")
        tmp.replace(self.clock_file)

    def at(self, minutes: int) -> datetime:
        return self.start + timedelta(minutes=minutes)

    # --- set-up ---------------------------------------------------------------------------

    def prepare(self, catcher: Catcher, internet: SimulatedInternet) -> dict[str, str]:
        """A fresh database and config; the environment of the daemon."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        for name in ("demo.db", "demo.db-wal", "demo.db-shm", "demo.db.scheduler.lock",
                     "heartbeat", "heartbeat.settled"):
            (self.workdir / name).unlink(missing_ok=True)
        self.set_clock(self.at(-60))
        config = {
            "sources": sources(internet.base_url),
            "roster": {
                "admin": "wang",
                "people": {key: {"name": name, **({"section": section} if section else {}),
                                 "channels": [catcher.channel(key)]}
                           for key, (name, _, section) in PEOPLE.items()},
                "sections": {"律师公证工作管理科": "zhou"},
                "deputy_leader": "qian", "principal_leader": "sun",
                "shifts": [{"person": "zhang",
                            "start": format_local(self.at(-24 * 60)),
                            "end": format_local(self.at(3 * 24 * 60))}]},
        }
        config_path = self.workdir / "yuqing.yaml"
        config_path.write_text("# yuqing demo: written by `yuqing demo`\n" + yaml.safe_dump(
            config, allow_unicode=True, sort_keys=False), encoding="utf-8")
        upgrade(self.url)
        settings = Settings(database_url=self.url, config=config_path.resolve(),
                            dashboard_url=self.dashboard_url)
        self.ctx = AppContext(settings, load_config(settings), clock=self.now)
        from yuqing.services.people import add_person

        with session_scope(self.sessions) as session:
            for key, (name, role, section) in PEOPLE.items():
                add_person(session, key, role, PASSWORD, section=section,
                           channels=[catcher.channel(key)], actor="yuqing demo",
                           now=self.at(-60), display_name=name)
        env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
        env.update(YUQING_DATABASE_URL=self.url, YUQING_CONFIG=str(config_path.resolve()),
                   YUQING_DASHBOARD_URL=self.dashboard_url)
        return env

    def start_daemon(self, env: dict[str, str]) -> None:
        log = (self.workdir / "daemon.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "yuqing.cli", "run", "--clock-file", str(self.clock_file),
             "--heartbeat", str(self.heartbeat), "--poll", "0.05", "--worker", "demo"],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def stop_daemon(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.terminate()  # SIGTERM: the daemon finishes its unit of work and exits
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def wait_settled(self, at: datetime) -> None:
        """Until the daemon has done everything due by ``at`` (its crawls, their analysis, a
        tick that swept and delivered after them)."""
        settled = self.heartbeat.with_name(self.heartbeat.name + ".settled")
        deadline = time.monotonic() + self.step_timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise DemoError(f"yuqing run stopped (exit {self.proc.returncode}); see "
                                f"{self.workdir / 'daemon.log'}")
            try:
                if parse_local(settled.read_text(encoding="utf-8")) >= at:
                    return
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.02)  # polling the daemon's progress, not waiting for the clock
        raise DemoError(f"yuqing run did not finish the work of {format_local(at)} within "
                        f"{self.step_timeout:.0f} s; see {self.workdir / 'daemon.log'}")

    # --- the people's acts ----------------------------------------------------------------

    def acts(self) -> list[Act]:
        return [
            Act(45, "zhang", "值班员确认预警", Demo.acknowledge),
            Act(120, "zhou", "业务科室起草并提交情况通报", Demo.draft_and_submit),
            Act(150, "wu", "政务公开办公室审核（含保密审查）", Demo.review),
            Act(180, "qian", "分管局领导审批", Demo.approve),
            Act(215, "wu", "在局网站发布并登记发布地址", Demo.publish),
        ]

    def _incident(self, session: Session) -> int:
        from analysis.models import Incident

        if self.incident_id is None:
            found = session.scalar(select(Incident.id).where(Incident.topic == "notary")
                                   .order_by(Incident.id))
            if found is None:
                raise DemoError("no notary incident was opened: the story was not detected")
            self.incident_id = found
        return self.incident_id

    def acknowledge(self, now: datetime) -> str:
        from yuqing.services.incidents import acknowledge

        assert self.ctx is not None
        with session_scope(self.sessions) as session:
            incident = self._incident(session)
            acknowledge(session, self.ctx.typed, incident, by="zhang", now=now)
        return f"事件 #{incident}"

    def draft_and_submit(self, now: datetime) -> str:
        from yuqing.services import respond

        with session_scope(self.sessions) as session:
            incident = self._incident(session)
            line = respond.draft(session, incident, "statement", STATEMENT.body, "zhou", now,
                                 title=STATEMENT.title)
            self.response_id = line.id
            respond.submit(session, line.id, "zhou", now)
        return f"回应 #{self.response_id}"

    def review(self, now: datetime) -> str:
        from yuqing.services import respond

        assert self.response_id is not None
        with session_scope(self.sessions) as session:
            respond.review(session, self.response_id, "wu", now, confidential_ok=True)
        return "审核通过，保密审查无涉密内容"

    def approve(self, now: datetime) -> str:
        from yuqing.services import respond

        assert self.response_id is not None
        with session_scope(self.sessions) as session:
            respond.approve(session, self.response_id, "qian", now)
        return "同意发布"

    def publish(self, now: datetime) -> str:
        from yuqing.services import respond

        assert self.response_id is not None
        assert self.internet is not None
        url = self.internet.post(STATEMENT)  # the office puts it on the bureau's site
        respond.publish(self.sessions, self.response_id, "wu", at=now, url=url,
                        channels=["website"], now=now)
        return url

    # --- the run --------------------------------------------------------------------------

    def run(self) -> DemoOutcome:
        began = time.monotonic()
        outcome = DemoOutcome(self.workdir, self.url, self.start, self.at(self.steps[-1]))
        with Catcher() as catcher, SimulatedInternet(self.start, self.now) as internet:
            self.internet = internet
            env = self.prepare(catcher, internet)
            self.say(f"模拟时间从 {format_local(self.start)}（北京时间）开始；本地模拟网站 "
                     f"{internet.base_url}，通知接收器 {catcher.channel('…')}")
            self.start_daemon(env)
            seen = 0
            pending = self.acts()
            try:
                for minutes in self.steps:
                    step = self.at(minutes)
                    while pending and pending[0].at_minutes <= minutes:
                        act = pending.pop(0)
                        when = self.at(act.at_minutes)
                        self.set_clock(when)
                        self.wait_settled(when)
                        seen = self._print_caught(catcher, seen)
                        done = act.do(self, when)
                        self.say(f"[{format_local(when)}] {PEOPLE[act.who][0]}：{act.what}"
                                 f"（{done}）")
                    self.set_clock(step)
                    self.wait_settled(step)
                    seen = self._print_caught(catcher, seen)
            finally:
                code = self.stop_daemon()
            outcome.daemon_exit = code
            if code not in (0, None):
                self.say(f"注意：yuqing run 未正常退出（退出码 {code}），见 "
                         f"{self.workdir / 'daemon.log'}")
            outcome.notifications = catcher.since(0)
        outcome.reports = self.write_reports()
        self._summarise(outcome)
        outcome.seconds = time.monotonic() - began
        return outcome

    def _print_caught(self, catcher: Catcher, seen: int) -> int:
        for caught in catcher.since(seen):
            name = PEOPLE.get(caught.person, (caught.person,))[0]
            first = caught.message.strip().splitlines()[0] if caught.message.strip() else ""
            self.say(f"[{format_local(self.now())}] 通知 → {name}：{caught.title or first}")
            seen += 1
        return seen

    def write_reports(self) -> list[Path]:
        from responses.report import Period
        from yuqing.services.report import write_report

        first: date = self.at(-60).astimezone(SHANGHAI).date()
        last: date = self.at(self.steps[-1]).astimezone(SHANGHAI).date()
        period = Period(first, last)
        written = []
        with session_scope(self.sessions, readonly=True) as session:
            for fmt in ("docx", "html"):
                out = self.reports_dir / f"demo-timeliness.{fmt}"
                write_report(session, period, out, fmt, now=self.at(self.steps[-1]),
                             ownership=None, dashboard_url=self.dashboard_url)
                written.append(out)
        return written

    def _summarise(self, outcome: DemoOutcome) -> None:
        from alerts.models import CLOCK_LABELS, Deadline
        from analysis.models import Incident
        from responses.timeliness import outcome_at

        end = outcome.end
        with session_scope(self.sessions, readonly=True) as session:
            outcome.incidents = len(session.scalars(select(Incident.id)).all())
            if self.incident_id is None:
                return
            for d in session.scalars(select(Deadline).where(
                    Deadline.incident_id == self.incident_id, Deadline.sequence == 0)
                    .order_by(Deadline.due_at)):
                state = outcome_at(d.due_at, d.met_at, d.waived_reason is not None, end)
                outcome.clocks.append((CLOCK_LABELS.get(d.kind, d.kind), format_local(d.due_at),
                                       state.label))
