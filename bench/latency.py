"""End-to-end alert latency: from a post appearing on a source to the duty officer's receiver.

Run: ``.venv/bin/python bench/latency.py [--events 20] [--poll 30] [--burst 1000]``

Part 1, the real daemon. A feed on 127.0.0.1 (the RSS a news site would serve) and a webhook
receiver on 127.0.0.1 (the duty officer's channel) are started; ``yuqing init`` and ``yuqing run``
run as a user would run them, on a SQLite file, with the feed polled every ``--poll`` seconds.
Then ``--events`` distinct events (authored texts, one per business topic and kind of case) are
posted at random moments, and each one's path is timed from the feed's request log, the
database and the receiver:

* wait  — post appears → the daemon's next request of the feed;
* fetch — that request → the document's fetch time (``documents.fetched_at``);
* store+analyse — fetched → the incident opened (``incidents.created_at``): the crawl process
  ending and storing, then the analysis run after the crawl;
* notify — incident opened → the alert arrives at the receiver.

An event that joins another's incident raises no alert of its own and is counted apart.

Part 2, a burst: ``--burst`` 较大 notifications queued, then one new 重大 incident; the outbox is
delivered through apprise to a loopback receiver and the 重大 alert's place and wait are shown
(it is sent first since the outbox is ordered by urgency).

Target (issue): p95 ≤ poll interval + 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

# Twenty distinct events, authored for the project (analysis/corpus/distinct_events.jsonl).
STORIES = [(item["title"], item["text"]) for item in map(json.loads, (
    REPO_ROOT / "analysis" / "corpus" / "distinct_events.jsonl").read_text("utf-8").splitlines())]
ROUTINE = [
    ("市司法局召开全市人民调解工作推进会", "会议总结了上半年人民调解工作，部署下一阶段矛盾纠纷排查化解任务。"),
    ("法律援助进社区活动在城东街道举行", "律师现场为居民解答婚姻家庭、劳动争议等法律问题，发放宣传资料三百余份。"),
    ("全市公证行业开展诚信执业专题培训", "培训围绕公证执业规范和风险防控展开，全市公证员参加。"),
]


@dataclass
class Feed:
    """The RSS a source serves: items appear when posted; every GET is logged."""

    items: list[tuple[str, str, str, datetime]] = field(default_factory=list)
    requests: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, key: str, title: str, body: str) -> float:
        with self.lock:
            self.items.insert(0, (key, title, body, datetime.now(timezone.utc)))
            return time.time()

    def xml(self) -> bytes:
        with self.lock:
            entries = "".join(
                f"<item><title>{escape(t)}</title><link>http://127.0.0.1/post/{k}</link>"
                f"<guid>{k}</guid><description>{escape(b)}</description>"
                f"<pubDate>{format_datetime(at)}</pubDate></item>" for k, t, b, at in self.items)
            self.requests.append(time.time())
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>本地论坛</title><link>http://127.0.0.1/</link>{entries}</channel></rss>"
                ).encode()


@dataclass
class Receiver:
    """A webhook receiver: arrival time and JSON body of each POST."""

    arrivals: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, body: bytes) -> None:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = {"raw": body.decode(errors="replace")}
        with self.lock:
            self.arrivals.append((time.time(), data))


def serve(feed: Feed | None, receiver: Receiver | None) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if feed is None or not self.path.startswith("/rss"):
                self.send_error(404)
                return
            body = feed.xml()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if receiver is not None:
                receiver.add(body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def config(feed_port: int, hook_port: int, poll: float) -> str:
    now = datetime.now(timezone(timedelta(hours=8)))
    start = (now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    end = (now + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    return f"""
sources:
  - name: forum
    kind: feed
    url: http://127.0.0.1:{feed_port}/rss.xml
    every_minutes: {poll / 60:g}
    obey_robots: false
roster:
  admin: wang
  people:
    zhang: {{name: 张三, section: 办公室, channels: ["json://127.0.0.1:{hook_port}/duty"]}}
    zhao:  {{name: 赵科长, section: 办公室, channels: ["json://127.0.0.1:{hook_port}/head"]}}
    wang:  {{name: 王管理员, channels: ["json://127.0.0.1:{hook_port}/admin"]}}
  sections: {{办公室: zhao}}
  shifts:
    - {{person: zhang, start: "{start}", end: "{end}"}}
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def daemon_part(events: int, poll: float, seed: int) -> None:
    rng = random.Random(seed)
    feed, receiver = Feed(), Receiver()
    for i, (title, body) in enumerate(ROUTINE):
        feed.post(f"routine-{i}", title, body)
    feed_server, hook_server = serve(feed, None), serve(None, receiver)
    work = Path(tempfile.mkdtemp(prefix="yuqing-latency-"))
    (work / "yuqing.yaml").write_text(config(feed_server.server_address[1],
                                             hook_server.server_address[1], poll), "utf-8")
    db = work / "latency.db"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("YUQING_")},
           "YUQING_DATABASE_URL": f"sqlite:///{db}", "YUQING_CONFIG": str(work / "yuqing.yaml")}
    yuqing = [sys.executable, "-m", "yuqing.cli"]
    subprocess.run([*yuqing, "init"], env=env, cwd=work, check=True, capture_output=True)
    log = open(work / "run.log", "w")
    daemon = subprocess.Popen([*yuqing, "run"], env=env, cwd=work, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while not feed.requests and time.time() < deadline:  # the first crawl has happened
            time.sleep(0.2)
        time.sleep(3)
        posted: dict[str, float] = {}
        stories = (STORIES * (events // len(STORIES) + 1))[:events]
        span = max(poll * 4, events * 4.0)
        moments = sorted(rng.uniform(0, span) for _ in stories)
        begin = time.time()
        for i, ((title, body), at) in enumerate(zip(stories, moments)):
            time.sleep(max(0.0, begin + at - time.time()))
            posted[f"event-{i}"] = feed.post(f"event-{i}", title if i < len(STORIES)
                                             else f"{title}（{i}）", body)
        drain = time.time() + poll + 60
        while time.time() < drain:
            time.sleep(1)
            if len(_alerted(receiver, stories)) >= len(stories):
                break
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        log.close()
        feed_server.shutdown()
        hook_server.shutdown()
    rows = _rows(db)
    arrivals = _alerted(receiver, stories)
    split: dict[str, list[float]] = {"wait": [], "fetch": [], "store+analyse": [],
                                     "notify": [], "total": []}
    grouped = missing = 0
    for i, (title, _body) in enumerate(stories):
        key = f"event-{i}"
        doc = rows["documents"].get(f"http://127.0.0.1/post/{key}")
        if doc is None:
            missing += 1
            continue
        incident_at = rows["incidents"].get(doc["id"])
        arrival = arrivals.get(title)
        if incident_at is None or arrival is None:
            grouped += 1
            continue
        t_post = posted[key]
        t_request = min((r for r in feed.requests if r >= t_post), default=doc["fetched"])
        split["wait"].append(t_request - t_post)
        split["fetch"].append(max(0.0, doc["fetched"] - t_request))
        split["store+analyse"].append(max(0.0, incident_at - doc["fetched"]))
        split["notify"].append(max(0.0, arrival - incident_at))
        split["total"].append(arrival - t_post)
    print(f"\n## End-to-end alert latency (yuqing run, feed polled every {poll:g} s, "
          f"SQLite, {len(stories)} events)\n")
    print("| stage | p50 s | p95 s | max s |\n|---|---:|---:|---:|")
    for stage, values in split.items():
        if values:
            print(f"| {stage} | {statistics.median(values):.1f} | {pct(values, 0.95):.1f} | "
                  f"{max(values):.1f} |")
    ok = split["total"] and pct(split["total"], 0.95) <= poll + 5
    print(f"\nalerted {len(split['total'])}, joined another incident or not alerted {grouped}, "
          f"not stored {missing}; target p95 ≤ {poll + 5:g} s: {'met' if ok else 'MISSED'}"
          f"\n(log: {work / 'run.log'})")


def _alerted(receiver: Receiver, stories: list[tuple[str, str]]) -> dict[str, float]:
    """First arrival per story title (the alert's title or text names the incident)."""
    found: dict[str, float] = {}
    with receiver.lock:
        arrivals = list(receiver.arrivals)
    for at, data in arrivals:
        blob = f"{data.get('title', '')}\n{data.get('message', '')}"
        for title, _ in stories:
            if title in blob and title not in found:
                found[title] = at
    return found


def _rows(db: Path) -> dict[str, Any]:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        docs = {url: {"id": i, "fetched": _epoch(f)} for i, url, f in conn.execute(text(
            "SELECT id, url, fetched_at FROM documents"))}
        incidents = {doc: _epoch(c) for doc, c in conn.execute(text(
            "SELECT d.document_id, min(i.created_at) FROM incident_documents d "
            "JOIN incidents i ON i.id = d.incident_id "
            "WHERE i.created_at >= (SELECT min(fetched_at) FROM documents d2 "
            "WHERE d2.id = d.document_id) GROUP BY d.document_id"))}
    engine.dispose()
    return {"documents": docs, "incidents": incidents}


def _epoch(value: Any) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return float(value.timestamp())


def burst_part(count: int) -> None:
    from alerts.deadlines import report_incident
    from alerts.notify import DeliveryPolicy, deliver_due
    from alerts.policy import DEFAULT_POLICY
    from alerts.sweep import AlertSetup, sweep
    from alerts.transports.apprise_transport import AppriseTransport
    from analysis.models import Severity
    from yuqing.core.db import make_engine, make_sessionmaker, session_scope
    from yuqing.core.migrate import upgrade

    receiver = Receiver()
    hook = serve(None, receiver)
    port = hook.server_address[1]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    local = now.astimezone(timezone(timedelta(hours=8)))
    shift_start = (local - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    shift_end = (local + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    setup = AlertSetup(roster={
        "people": {"duty": {"name": "值班员", "channels": [f"json://127.0.0.1:{port}/duty"]},
                   "head": {"name": "科长", "section": "办公室",
                            "channels": [f"json://127.0.0.1:{port}/head"]}},
        "sections": {"办公室": "head"},
        "shifts": [{"person": "duty", "start": shift_start, "end": shift_end}]})
    work = Path(tempfile.mkdtemp(prefix="yuqing-burst-"))
    url = f"sqlite:///{work / 'burst.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        for i in range(count):
            report_incident(session, title=f"某街道调解纠纷引发网民讨论（{i}）",
                            severity=Severity.SERIOUS, t_event=now - timedelta(minutes=5),
                            urls=[f"https://bbs.example/{i}"], actor="bench", now=now,
                            policy=DEFAULT_POLICY)
    while True:  # the backlog is queued in the outbox, not yet sent
        with session_scope(sessions) as session:
            if sweep(session, now, setup).incidents < 500:
                break
    with session_scope(sessions) as session:
        major = report_incident(session, title="某监狱服刑人员脱逃引发关注", severity=Severity.MAJOR,
                                t_event=now, urls=["https://weibo.example/1"], actor="bench",
                                now=now + timedelta(seconds=1), policy=DEFAULT_POLICY)
        major_id = major.id
    start = time.time()
    clock = lambda: now + timedelta(seconds=2)  # noqa: E731
    while True:  # one tick, as the daemon runs it: sweep until done, then deliver
        with session_scope(sessions) as session:
            if sweep(session, clock(), setup).incidents < 500:
                break
    swept = time.time() - start
    while True:
        stats = deliver_due(sessions, clock, AppriseTransport(), setup, worker="bench",
                            policy=DeliveryPolicy(), limit=200)
        if stats.processed == 0:
            break
    total = time.time() - start
    hook.shutdown()
    engine.dispose()
    place = next((n for n, (_, data) in enumerate(receiver.arrivals, 1)
                  if "某监狱服刑人员脱逃" in f"{data.get('title')}{data.get('message')}"), None)
    major_at = receiver.arrivals[place - 1][0] - start if place else float("nan")
    print(f"\n## Burst: {count} queued 较大 notifications, then one 重大 incident (#{major_id})\n")
    print("| notifications sent | sweep s | all sent in s | 重大 alert's place | "
          "重大 alert arrived after s |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {len(receiver.arrivals)} | {swept:.1f} | {total:.1f} | {place} | {major_at:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--poll", type=float, default=30.0)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-daemon", action="store_true")
    args = parser.parse_args()
    if not args.skip_daemon:
        daemon_part(args.events, args.poll, args.seed)
    if args.burst:
        burst_part(args.burst)


if __name__ == "__main__":
    main()
