"""One crawl of a source at a time, across processes: a lease row per source.

A crawl (the daemon's child or ``yuqing crawl`` by hand) takes the lease of each source before
fetching, renews it while it runs and releases it at the end. Taking it is a compare-and-set: an
``INSERT`` that does nothing when the row exists, then an ``UPDATE … WHERE`` the lease expired or
its holder is a process of this host that no longer runs; exactly one of two racing crawls
changes the row. A crawl killed without releasing leaves a lease that expires (``LEASE_TTL``) or,
on the same host, is taken over at once because its process is gone.

The functions take a ``Session`` and never commit; :class:`LeaseKeeper` is the edge adapter that
opens the units of work and renews on a thread.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from crawler.models import CrawlLease
from yuqing.core.db import session_scope

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(minutes=5)
RENEW_EVERY_SECONDS = 60.0


def this_process() -> str:
    """The holder name of the calling process: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_gone(holder: str) -> bool:
    """True when ``holder`` is a process of this host that no longer runs (a zombie counts as
    gone); a holder on another host is never judged from here."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(session: Session, source: str, holder: str, now: datetime,
            ttl: timedelta = LEASE_TTL) -> bool:
    """Take the lease of ``source`` for ``holder`` until ``now + ttl``; False when another
    live holder has it."""
    values = {"source": source, "holder": holder, "acquired_at": now, "renewed_at": now,
              "expires_at": now + ttl}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # RETURNING yields no row when the lease existed (rowcount is not reliable across drivers).
    created = session.execute(insert(CrawlLease).values(**values)
                              .on_conflict_do_nothing(index_elements=["source"])
                              .returning(CrawlLease.source)).first()
    if created is not None:
        return True
    current = session.scalar(select(CrawlLease.holder).where(CrawlLease.source == source))
    takeover = CrawlLease.expires_at <= now
    if current is not None and (current == holder or holder_gone(current)):
        takeover = or_(takeover, CrawlLease.holder == current)
    changed = session.execute(update(CrawlLease).where(CrawlLease.source == source, takeover)
                              .values(**values).execution_options(synchronize_session=False))
    return getattr(changed, "rowcount", 0) == 1


def renew(session: Session, source: str, holder: str, now: datetime,
          ttl: timedelta = LEASE_TTL) -> bool:
    """Extend ``holder``'s lease of ``source``; False when it is no longer theirs."""
    changed = session.execute(
        update(CrawlLease).where(CrawlLease.source == source, CrawlLease.holder == holder)
        .values(renewed_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False))
    return getattr(changed, "rowcount", 0) == 1


def release(session: Session, source: str, holder: str) -> None:
    """Give the lease back (nothing happens when another holder has it meanwhile)."""
    session.execute(delete(CrawlLease).where(CrawlLease.source == source,
                                             CrawlLease.holder == holder)
                    .execution_options(synchronize_session=False))


def holder_of(session: Session, source: str) -> str | None:
    return session.scalar(select(CrawlLease.holder).where(CrawlLease.source == source))


class LeaseKeeper:
    """The leases of one crawl process: taken at the start, renewed on a thread, released on
    exit (``with LeaseKeeper(...) as keeper:``; ``keeper.busy`` maps each source another
    process holds to its holder)."""

    def __init__(self, sessions: sessionmaker[Session], names: list[str],
                 clock: Callable[[], datetime], holder: str | None = None,
                 renew_every: float = RENEW_EVERY_SECONDS) -> None:
        self.sessions, self.names, self.clock = sessions, names, clock
        self.holder = holder or this_process()
        self.renew_every = renew_every
        self.held: list[str] = []
        self.busy: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew_loop, name="lease-renewal",
                                        daemon=True)

    def __enter__(self) -> LeaseKeeper:
        for name in self.names:
            with session_scope(self.sessions) as session:
                if acquire(session, name, self.holder, self.clock()):
                    self.held.append(name)
                else:
                    self.busy[name] = holder_of(session, name) or "?"
        if self.held:
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        with session_scope(self.sessions) as session:
            for name in self.held:
                release(session, name, self.holder)

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.renew_every):
            try:
                with session_scope(self.sessions) as session:
                    lost = [n for n in self.held
                            if not renew(session, n, self.holder, self.clock())]
            except Exception as exc:  # a failed renewal is retried at the next round
                log.warning("renewing crawl leases failed: %s", str(exc).splitlines()[0])
                continue
            for name in lost:
                log.error("lost the crawl lease of %s (expired and taken by another crawl)",
                          name)
