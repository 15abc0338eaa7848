"""Restart safety of the real daemon (`yuqing run`) on a simulated 30-hour timeline.

The daemon reads its time from a file that the test advances (time is injected, never waited
for). The test kills it with SIGKILL at random moments — some while a receiver holds a delivery
open — restarts it, and checks at the real receivers that every step arrived once and none early.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from alerts.clocks import IncidentView, clocks_for, plan
from alerts.deadlines import report_incident
from alerts.models import Notification
from alerts.policy import load_policy
from analysis.models import Severity
from tests.alerts.conftest import T
from tests.alerts.receivers import Inbox, Smtp, Webhook
from yuqing.core.clock import parse_local
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.core.migrate import upgrade

REPORTED = T + timedelta(minutes=10)
END = T + timedelta(hours=30)
HANDOVER = T + timedelta(hours=15)  # 23:00 Beijing: 张三 hands over to 李四
POLICY = {"overdue_repeat_max": 2, "escalation": ["duty_officer"]}


@dataclass
class Daemon:
    """One `yuqing run` process at a time, reading the simulated time from ``clock_file``."""

    workdir: Path
    env: dict[str, str]
    name: str = "a"
    elect: bool = True
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def clock_file(self) -> Path:
        return self.workdir / "clock"

    @property
    def heartbeat(self) -> Path:
        return self.workdir / f"heartbeat-{self.name}"

    def start(self) -> None:
        self.heartbeat.unlink(missing_ok=True)
        args = [sys.executable, "-m", "yuqing.cli", "run", "--clock-file", str(self.clock_file),
                "--heartbeat", str(self.heartbeat), "--poll", "0.05", "--worker", self.name]
        if not self.elect:
            args.append("--no-elect")
        with (self.workdir / f"daemon-{self.name}.log").open("ab") as log:
            self.proc = subprocess.Popen(args, env=self.env, cwd=self.workdir, stdout=log,
                                         stderr=subprocess.STDOUT)
        self.starts += 1

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def wait_caught_up(self, at: datetime, timeout: float = 30.0) -> None:
        """Until a tick that ran at simulated time ``at`` has finished (sweep and delivery)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.log_tail()
            try:
                seen = parse_local(self.heartbeat.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                seen = None
            if seen is not None and seen >= at:
                return
            time.sleep(0.01)  # polling a subprocess's progress, not waiting for the clock
        raise AssertionError(f"daemon {self.name} did not reach {at}: {self.log_tail()}")

    def log_tail(self) -> str:
        path = self.workdir / f"daemon-{self.name}.log"
        return path.read_text(encoding="utf-8", errors="replace")[-2000:] if path.exists() else ""


@dataclass
class Timeline:
    workdir: Path
    url: str
    inbox: Inbox
    webhook: Webhook
    smtp: Smtp
    now: datetime = REPORTED
    incident_id: int = 0
    expected: dict[str, datetime] = field(default_factory=dict)

    def set_clock(self, at: datetime) -> None:
        self.now = at
        tmp = self.workdir / "clock.tmp"
        tmp.write_text(at.isoformat(), encoding="utf-8")
        tmp.replace(self.workdir / "clock")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
        env.update(YUQING_DATABASE_URL=self.url, YUQING_CONFIG=str(self.workdir / "yuqing.yaml"))
        return env


def write_config(workdir: Path, webhook: Webhook, smtp: Smtp) -> None:
    config = {"policy": POLICY, "roster": {
        "people": {"zhang": {"name": "张三", "channels": [webhook.url("/zhang")]},
                   "li": {"name": "李四", "channels": [smtp.url("li@bureau.test")]}},
        "shifts": [{"person": "zhang", "start": "2026-11-29 00:00", "end": "2026-11-29 23:00"},
                   {"person": "li", "start": "2026-11-29 23:00", "end": "2026-12-01 00:00"}]}}
    (workdir / "yuqing.yaml").write_text(yaml.safe_dump(config, allow_unicode=True),
                                         encoding="utf-8")


def expected_steps(incident_id: int) -> dict[str, datetime]:
    """Every step the pure clocks plan up to END, keyed like the outbox, plus the new-incident
    notice; the recipient is whoever is on duty at the step's time."""
    policy = load_policy(POLICY)
    view = IncidentView(t_detected=REPORTED, severity_history=[(Severity.MAJOR, REPORTED)],
                        t_event=T)
    steps = {f"graded-major": REPORTED}
    for clock in clocks_for(view, policy, REPORTED):
        for step in plan(clock):
            if step.at > END:
                break
            steps[step.step_id] = step.at
    return {f"{incident_id}:{sid}:{'zhang' if at < HANDOVER else 'li'}": at
            for sid, at in steps.items()}


@pytest.fixture
def timeline(tmp_path: Path, inbox: Inbox, webhook: Webhook, smtp: Smtp,
             request: pytest.FixtureRequest) -> Iterator[Timeline]:
    url = (request.getfixturevalue("pg_url") if "postgres" in request.keywords
           else f"sqlite:///{tmp_path / 'yuqing.db'}")
    upgrade(url)
    write_config(tmp_path, webhook, smtp)
    line = Timeline(tmp_path, url, inbox, webhook, smtp)
    inbox.stamp = lambda: line.now  # each arrival records the simulated time it arrived at
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        incident = report_incident(session, title="某戒毒所强制隔离戒毒人员死亡引发质疑",
                                   severity=Severity.MAJOR, t_event=T, urls=[],
                                   actor="zhang", now=REPORTED, policy=load_policy(POLICY))
        line.incident_id = incident.id
    engine.dispose()
    line.expected = expected_steps(line.incident_id)
    line.set_clock(REPORTED)
    yield line


def moments(expected: dict[str, datetime], rng: random.Random) -> list[datetime]:
    """Each step's time, one second before some of them, and random instants in between."""
    times = set(expected.values())
    times |= {at - timedelta(seconds=1) for at in rng.sample(sorted(times), 8)}
    span = int((END - REPORTED).total_seconds())
    times |= {REPORTED + timedelta(seconds=rng.randrange(span)) for _ in range(25)}
    return sorted(t for t in times if REPORTED <= t <= END)


def check_arrivals(line: Timeline) -> None:
    keys = line.inbox.keys()
    duplicates = sorted({k for k in keys if keys.count(k) > 1 and k is not None})
    assert duplicates == [], f"delivered twice: {duplicates}"
    early = [(a.key, a.stamp) for a in line.inbox.arrivals
             if a.key in line.expected and a.stamp < line.expected[a.key]]
    assert early == [], f"delivered before their time: {early}"
    assert set(keys) - set(line.expected) == set(), "unexpected notifications"
    missing = set(line.expected) - set(keys)
    # A kill between committing the claim and the request reaching the receiver (a window of a
    # few milliseconds) leaves the outcome unknown; such a step is never resent (at most once)
    # and is shown as "unknown" in `yuqing alerts`. Any other missing step is a failure.
    engine = make_engine(line.url)
    with session_scope(make_sessionmaker(engine)) as session:
        status = {key: state for key, state in session.execute(
            select(Notification.idempotency_key, Notification.status))}
    engine.dispose()
    assert {k: status.get(k) for k in missing if status.get(k) != "unknown"} == {}
    assert len(missing) <= 2, f"too many outcomes unknown: {sorted(missing)}"
    print(f"steps {len(line.expected)}, arrived {len(set(keys))}, unknown {sorted(missing)}")


def test_killing_the_daemon_at_random_moments_loses_and_repeats_nothing(
        timeline: Timeline) -> None:
    rng = random.Random(20261129)
    daemon = Daemon(timeline.workdir, timeline.env())
    daemon.start()
    kills = delivery_kills = 0
    try:
        points = moments(timeline.expected, rng)
        step_times = set(timeline.expected.values())
        for at in points:
            holding = at in step_times and delivery_kills < 8 and rng.random() < 0.5
            if holding:  # the receiver keeps the request open: kill in the middle of it
                receiver_hold = timeline.inbox.hold
                receiver_hold.arm()
            timeline.set_clock(at)
            if holding:
                assert timeline.inbox.hold.in_flight.wait(20), daemon.log_tail()
                daemon.kill()
                timeline.inbox.hold.release.set()
                kills, delivery_kills = kills + 1, delivery_kills + 1
                daemon.start()
            elif rng.random() < 0.35:
                time.sleep(rng.uniform(0.0, 0.15))  # let it get somewhere, then kill it
                daemon.kill()
                kills += 1
                daemon.start()
            daemon.wait_caught_up(at)
    finally:
        daemon.stop()
    print(f"kills {kills} (during a delivery {delivery_kills}), starts {daemon.starts}")
    assert kills >= 20 and delivery_kills >= 5
    check_arrivals(timeline)


@pytest.mark.postgres
def test_two_schedulers_on_one_postgresql_never_deliver_a_step_twice(timeline: Timeline) -> None:
    rng = random.Random(7)
    daemons = [Daemon(timeline.workdir, timeline.env(), name=n, elect=False) for n in "ab"]
    for daemon in daemons:
        daemon.start()
    try:
        for at in moments(timeline.expected, rng):
            timeline.set_clock(at)
            for daemon in daemons:
                daemon.wait_caught_up(at)
    finally:
        for daemon in daemons:
            daemon.stop()
    check_arrivals(timeline)
    assert set(timeline.inbox.keys()) == set(timeline.expected)


def _wait_for_log(daemon: Daemon, text: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in daemon.log_tail():
        assert time.monotonic() < deadline, f"daemon {daemon.name} never logged {text!r}: " \
                                            f"{daemon.log_tail()}"
        time.sleep(0.02)  # polling a subprocess's log, not waiting for the clock


@pytest.mark.postgres
def test_a_standby_takes_over_a_killed_scheduler_and_sends_the_step_due_meanwhile_once(
        timeline: Timeline) -> None:
    active, standby = Daemon(timeline.workdir, timeline.env(), name="a"), \
        Daemon(timeline.workdir, timeline.env(), name="b")
    active.start()
    try:
        active.wait_caught_up(REPORTED)
        standby.start()
        _wait_for_log(standby, "standing by: another scheduler is active")
        step_at = sorted(at for at in set(timeline.expected.values()) if at > REPORTED)[0]
        timeline.set_clock(step_at - timedelta(seconds=1))
        active.wait_caught_up(step_at - timedelta(seconds=1))
        before = set(timeline.inbox.keys())
        assert before == {k for k, at in timeline.expected.items() if at < step_at}

        active.kill()  # SIGKILL: its advisory lock goes with its connection
        killed = time.monotonic()
        timeline.set_clock(step_at)  # the step falls due while nobody is active
        _wait_for_log(standby, "taking over as the active scheduler", timeout=30)
        took = time.monotonic() - killed
        standby.wait_caught_up(step_at)
    finally:
        active.stop()
        standby.stop()
    keys = timeline.inbox.keys()
    due = sorted(k for k, at in timeline.expected.items() if at <= step_at)
    assert sorted(keys) == due, "each step due by now arrived exactly once"
    assert took < 30
    print(f"takeover after SIGKILL: {took:.1f} s")
