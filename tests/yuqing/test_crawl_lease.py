"""One crawl of a source at a time across processes: the lease, its expiry and its takeover."""

from __future__ import annotations

import os
import socket
import subprocess
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine

from crawler.lease import acquire, holder_gone, holder_of, release, renew
from yuqing.core.db import make_sessionmaker, session_scope

NOW = datetime(2026, 12, 2, 4, 43, tzinfo=timezone.utc)
TTL = timedelta(minutes=5)
HOST = socket.gethostname()
LIVE = f"{HOST}:{os.getpid()}"  # this test process: certainly running
ELSEWHERE = "crawler-2.bureau.internal:4242"  # another host: its processes are not judged here


def _dead_pid() -> str:
    """The holder name of a process of this host that has ended."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return f"{HOST}:{proc.pid}"


def test_of_two_crawls_of_a_source_only_the_first_gets_it(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        assert acquire(session, "bureau_site", LIVE, NOW, TTL)
    with session_scope(sessions) as session:
        assert not acquire(session, "bureau_site", ELSEWHERE, NOW + timedelta(minutes=1), TTL)
        assert acquire(session, "weibo_search", ELSEWHERE, NOW, TTL)  # other sources are free
        assert holder_of(session, "bureau_site") == LIVE


def test_a_renewed_lease_holds_and_an_expired_one_is_taken_over(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        assert acquire(session, "s", ELSEWHERE, NOW, TTL)
        assert renew(session, "s", ELSEWHERE, NOW + timedelta(minutes=4), TTL)
    with session_scope(sessions) as session:  # renewed: held until 09 past
        assert not acquire(session, "s", LIVE, NOW + timedelta(minutes=8), TTL)
        assert acquire(session, "s", LIVE, NOW + timedelta(minutes=9), TTL)
    with session_scope(sessions) as session:  # the old holder learns it lost the lease
        assert not renew(session, "s", ELSEWHERE, NOW + timedelta(minutes=9), TTL)
        assert holder_of(session, "s") == LIVE


def test_the_lease_of_a_crawl_that_died_on_this_host_is_taken_over_at_once(
        engine: Engine) -> None:
    dead = _dead_pid()
    assert holder_gone(dead) and not holder_gone(LIVE) and not holder_gone(ELSEWHERE)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        assert acquire(session, "s", dead, NOW, TTL)
    with session_scope(sessions) as session:
        assert acquire(session, "s", LIVE, NOW + timedelta(seconds=1), TTL)
        assert holder_of(session, "s") == LIVE


def test_only_the_holder_releases_a_lease(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        assert acquire(session, "s", ELSEWHERE, NOW, TTL)
        release(session, "s", LIVE)
        assert holder_of(session, "s") == ELSEWHERE
        release(session, "s", ELSEWHERE)
        assert holder_of(session, "s") is None
        assert acquire(session, "s", LIVE, NOW, TTL)
