"""Dashboard benchmark: the incident board with 1,000 open incidents.

Run: ``.venv/bin/python bench/web.py [--incidents 1000] [--runs 5] [--no-postgres]``

For each backend (a throwaway SQLite file; a throwaway PostgreSQL database next to
``YUQING_TEST_PG_URL`` when it answers) it seeds N open incidents through the domain's
``report_incident`` (t_event spread over the last 30 hours; 20 % 特别重大, 50 % 重大, 30 % 较大),
starts the app under uvicorn on 127.0.0.1 and times, as a logged-in duty officer over loopback
HTTP: ``GET /`` (the whole board page), ``GET /api/clocks`` (what each page polls every 30 s)
and ``GET /api/incidents``. It prints one table: median and worst of ``--runs`` requests.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import httpx2 as httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from alerts.deadlines import report_incident  # noqa: E402
from alerts.policy import DEFAULT_POLICY  # noqa: E402
from analysis.models import Severity  # noqa: E402
from tests.web.conftest import serving  # noqa: E402
from yuqing.core.clock import ManualClock  # noqa: E402
from yuqing.core.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from yuqing.core.migrate import upgrade  # noqa: E402
from yuqing.core.settings import Settings  # noqa: E402
from yuqing.core.users import add_user  # noqa: E402
from yuqing.web.app import WebOptions, create_app  # noqa: E402

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=timezone.utc)  # 12:00 Beijing
PG_ADMIN = os.environ.get("YUQING_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "Bench#2026-board"
TITLES = ("网传某市司法考试考场泄题", "律师事务所违规收费被曝光", "社区矫正对象脱管引发关注",
          "法律援助热线长期占线", "公证处排队数小时", "看守所在押人员非正常死亡传闻")


def seed(url: str, incidents: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    rng = random.Random(13)
    levels = [Severity.CRITICAL] * 2 + [Severity.MAJOR] * 5 + [Severity.SERIOUS] * 3
    with session_scope(make_sessionmaker(engine)) as session:
        add_user(session, "duty", "duty_officer", PASSWORD, actor="bench", now=NOW)
        for i in range(incidents):
            report_incident(session, title=f"{rng.choice(TITLES)}（{i + 1}）",
                            severity=rng.choice(levels),
                            t_event=NOW - timedelta(minutes=rng.randint(0, 30 * 60)), urls=[],
                            actor="duty", now=NOW, policy=DEFAULT_POLICY)
    engine.dispose()


def measure(url: str, runs: int) -> dict[str, list[float]]:
    engine = make_engine(url)
    app = create_app(Settings(database_url=url), make_sessionmaker(engine), ManualClock(NOW),
                     options=WebOptions(secret="bench-secret-0123456789"))
    timings: dict[str, list[float]] = {}
    with serving(app) as base, httpx.Client(base_url=base, timeout=120) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form)
        assert token is not None
        done = client.post("/login", data={"username": "duty", "password": PASSWORD,
                                           "csrf": token.group(1), "next": "/"})
        assert done.status_code in (200, 303), done.text
        for path in ("/", "/api/clocks", "/api/incidents"):
            timings[path] = []
            for _ in range(runs):
                start = time.perf_counter()
                response = client.get(path)
                timings[path].append(time.perf_counter() - start)
                assert response.status_code == 200, (path, response.status_code)
            timings[f"{path} bytes"] = [float(len(response.content))]
    engine.dispose()
    return timings


def pg_url() -> str | None:
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 3})
        name = f"yuqing_bench_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    except Exception as exc:  # no server: the SQLite row only
        print(f"PostgreSQL skipped: {type(exc).__name__}")
        return None


def drop_pg(url: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        backends = [("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
        if not args.no_postgres and (url := pg_url()) is not None:
            backends.append(("PostgreSQL", url))
        for name, url in backends:
            start = time.perf_counter()
            seed(url, args.incidents)
            seeded = time.perf_counter() - start
            try:
                timings = measure(url, args.runs)
            finally:
                if name == "PostgreSQL":
                    drop_pg(url)
            for path in ("/", "/api/clocks", "/api/incidents"):
                rows.append((name, path, statistics.median(timings[path]), max(timings[path]),
                             int(timings[f"{path} bytes"][0]), seeded))
    print(f"\nboard with {args.incidents} open incidents, {args.runs} requests each "
          f"(loopback HTTP, logged in)")
    print(f"{'backend':<11} {'request':<16} {'median s':>9} {'worst s':>9} {'bytes':>10} "
          f"{'seed s':>8}")
    for backend, path, median, worst, size, seeded in rows:
        print(f"{backend:<11} {'GET ' + path:<16} {median:>9.3f} {worst:>9.3f} {size:>10,} "
              f"{seeded:>8.1f}")


if __name__ == "__main__":
    main()
