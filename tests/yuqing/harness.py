"""Driving the real daemon (`yuqing run` subprocesses) and a generated site on loopback.

The daemon reads its time from a file the test advances (``--clock-file``) and writes the time of
each finished tick to a heartbeat file, so a test waits for the daemon's progress, never for time
to pass. Processes are found through /proc (Linux), as an operator would with ``ps``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from tests.crawler import loopback
from yuqing.core.clock import parse_local

LINKS = "ul.news-list a::attr(href)"
NEXT = "a.next::attr(href)"
PER_LIST = 50

PLACES = ["东城区", "西城区", "高新区", "南湖区", "北山县", "滨江街道"]
ORGANS = ["司法所", "公证处", "法律援助中心", "人民调解委员会", "律师协会", "社区矫正中心"]
DEEDS = ["开展法律进社区宣传", "化解一起欠薪纠纷", "推出预约办证措施", "举办调解员培训",
         "公布法律援助案例", "开通夜间咨询热线"]


def article(n: int) -> bytes:
    """Article ``n``: a distinct title and body (no two share a content hash)."""
    place, organ, deed = (PLACES[n % 6], ORGANS[(n // 6) % 6], DEEDS[(n // 36) % 6])
    title = f"{place}{organ}{deed}（第{n}期）"
    body = "".join(f"<p>{place}{organ}工作人员介绍，本期第{n}号工作已办理第{k}项，"
                   f"群众反映的问题得到答复，下一步将继续{deed}。</p>" for k in range(6))
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<div class='article'><h1>{title}</h1><div class='info'>发布时间：2026-11-2"
            f"{n % 9} 0{n % 10}:1{n % 10}</div><div class='content'>{body}</div></div>"
            f"</body></html>").encode("utf-8")


@dataclass
class Gate:
    """Article pages wait here until ``open`` is set; ``waiting`` counts the held requests."""

    open: threading.Event = field(default_factory=threading.Event)
    waiting: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self) -> None:
        with self.lock:
            self.waiting += 1
        self.open.wait(60)


def site(articles: int, gate: Gate | None = None) -> loopback.Server:
    """A news site on 127.0.0.1: list pages of 50 links with a next link, then the articles."""
    routes: dict[str, loopback.Route] = {"/robots.txt": loopback.static(b"", "text/plain")}
    for n in range(articles):
        routes[f"/art/{n}.html"] = _article_route(article(n), gate)
    pages = (articles + PER_LIST - 1) // PER_LIST
    for p in range(pages):
        links = "".join(f"<li><a href='/art/{n}.html'>{n}</a></li>"
                        for n in range(p * PER_LIST, min((p + 1) * PER_LIST, articles)))
        nxt = f"<a class='next' href='/list/{p + 2}.html'>下一页</a>" if p + 1 < pages else ""
        routes[f"/list/{p + 1}.html"] = loopback.static(
            f"<html><body><ul class='news-list'>{links}</ul>{nxt}</body></html>".encode())
    return loopback.start(routes)


def _article_route(body: bytes, gate: Gate | None) -> loopback.Route:
    def route(handler: loopback.Handler) -> None:
        if gate is not None:
            gate.hold()
        handler.reply(200, body, "text/html; charset=utf-8")
    return route


def site_source(server: loopback.Server, name: str = "bureau_site") -> dict[str, object]:
    return {"name": name, "kind": "site", "url": f"{server.base}/list/1.html", "max_pages": 100,
            "selectors": {"links": LINKS, "next_page": NEXT}}


def article_hits(server: loopback.Server) -> int:
    with server.lock:
        return sum(n for path, n in server.hits.items() if path.startswith("/art/"))


def stop_server(server: loopback.Server) -> None:
    server.shutdown()
    server.server_close()


def write_clock(path: Path, at: datetime) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(at.isoformat(), encoding="utf-8")
    tmp.replace(path)


def daemon_world(workdir: Path, source: dict[str, object], url_of: Callable[[str], str],
                 start: datetime) -> str:
    """A SQLite database at ``start`` (the clock file) with ``source`` and a roster of a duty
    officer (zhang, on shift around ``start``) and an admin (wang), each on the channel
    ``url_of(path)``; returns the database URL."""
    from yuqing.core.migrate import upgrade

    config = {"sources": [source], "roster": {
        "admin": "wang",
        "people": {"zhang": {"name": "张三", "channels": [url_of("/zhang")]},
                   "wang": {"name": "王管理员", "channels": [url_of("/wang")]}},
        "shifts": [{"person": "zhang", "start": "2026-11-28 00:00", "end": "2026-12-01 00:00"}]}}
    (workdir / "yuqing.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    url = f"sqlite:///{workdir / 'yuqing.db'}"
    upgrade(url)
    write_clock(workdir / "clock", start)
    return url


def cli_env(workdir: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    env.update(YUQING_DATABASE_URL=url, YUQING_CONFIG=str(workdir / "yuqing.yaml"))
    return env


@dataclass
class Daemon:
    """One `yuqing run` process at a time, on the simulated time of ``clock_file``."""

    workdir: Path
    env: dict[str, str]
    name: str = "a"
    extra: tuple[str, ...] = ()
    poll: str = "0.05"
    proc: subprocess.Popen[bytes] | None = None

    @property
    def clock_file(self) -> Path:
        return self.workdir / "clock"

    @property
    def heartbeat(self) -> Path:
        return self.workdir / f"heartbeat-{self.name}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"daemon-{self.name}.log"

    def start(self) -> None:
        self.heartbeat.unlink(missing_ok=True)
        args = [sys.executable, "-m", "yuqing.cli", "run", "--clock-file", str(self.clock_file),
                "--heartbeat", str(self.heartbeat), "--poll", self.poll, "--worker", self.name,
                *self.extra]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(args, env=self.env, cwd=self.workdir, stdout=log,
                                         stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, then the exit code (``TimeoutExpired`` if it does not stop)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def wait_caught_up(self, at: datetime, timeout: float = 60.0) -> None:
        """Until a tick that ran at simulated time ``at`` has finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.log()[-3000:]
            try:
                seen = parse_local(self.heartbeat.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                seen = None
            if seen is not None and seen >= at:
                return
            time.sleep(0.01)  # polling a subprocess's progress, not waiting for the clock
        raise AssertionError(f"daemon {self.name} did not reach {at}: {self.log()[-3000:]}")

    def wait_settled(self, at: datetime, timeout: float = 60.0) -> None:
        """Until the crawls due by simulated time ``at`` have finished, with their analysis,
        and a tick ran after them (the heartbeat's ``.settled`` file)."""
        settled = self.heartbeat.with_name(self.heartbeat.name + ".settled")

        def reached() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.log()[-3000:]
            try:
                return parse_local(settled.read_text(encoding="utf-8")) >= at
            except (FileNotFoundError, ValueError):
                return False
        wait_until(reached, f"daemon {self.name} to settle at {at}", timeout)

    def log(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, text: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline or (self.proc is not None and
                                               self.proc.poll() is not None):
                raise AssertionError(f"no {text!r} in the log of {self.name}: "
                                     f"{self.log()[-3000:]}")
            time.sleep(0.02)  # polling a subprocess's log, not waiting for the clock


def children_of(pid: int) -> list[int]:
    """The live child processes of ``pid`` (from /proc, as ``ps --ppid`` shows them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll ``check()`` (another process's progress) until true, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)  # polling a subprocess's progress, not waiting for the clock


class Command:
    """A `yuqing` command running in the background; its output is read as it comes (a full
    pipe would stall it)."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "yuqing.cli", *args], env=env,
                                     cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.stdout = self.stderr = ""
        self._reader = threading.Thread(target=self._read)
        self._reader.start()

    def _read(self) -> None:
        self.stdout, self.stderr = self.proc.communicate()

    def running(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout: float = 300) -> int:
        self._reader.join(timeout)
        return self.proc.wait(timeout)

    @property
    def code(self) -> int | None:
        return self.proc.returncode
