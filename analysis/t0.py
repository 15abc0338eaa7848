"""Which moment starts the legal clocks, and which publish times may be it (pure: no storage)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from crawler.dates import FUTURE_TOLERANCE

# A page dated more than this after we fetched it is dated ahead of the server clock (or
# misparsed): its time is kept and shown, but it is not a reliable first post. The same
# tolerance flags it as "in the future" wherever it is shown (crawler.dates.is_future).
CLOCK_SKEW = FUTURE_TOLERANCE


def choose_t0(t_event: datetime | None, t_first_post: datetime | None,
              t_detected: datetime) -> tuple[datetime, str]:
    """The earliest defensible start: the event when an officer gives it, else the first post;
    our detection only as a marked fallback (DESIGN §1). Returns the time and its source name."""
    if t_event is not None:
        return t_event, "t_event"
    if t_first_post is not None:
        return t_first_post, "t_first_post"
    return t_detected, "t_detected"


def reliable_time(published_at: datetime | None, fetched_at: datetime,
                  skew: timedelta = CLOCK_SKEW) -> datetime | None:
    """The publish time when it can be a first post; None when unknown or later than the fetch
    plus ``skew`` (a page cannot have been published after we fetched it)."""
    if published_at is None or published_at > fetched_at + skew:
        return None
    return published_at


@dataclass(frozen=True)
class PostTime:
    """One member's publish time as T0 sees it: ``reliable`` is False for a future-dated page."""

    document_id: int
    published_at: datetime | None
    fetched_at: datetime

    @property
    def reliable(self) -> datetime | None:
        return reliable_time(self.published_at, self.fetched_at)

    @property
    def ahead_of_fetch(self) -> bool:
        return self.published_at is not None and self.reliable is None


def first_post(times: Iterable[PostTime]) -> PostTime | None:
    """The member with the earliest reliable publish time, None when no member has one."""
    usable = [t for t in times if t.reliable is not None]
    return min(usable, key=lambda t: (t.reliable, t.document_id)) if usable else None
