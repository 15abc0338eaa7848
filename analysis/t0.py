"""Which moment starts the legal clocks (pure: no storage)."""

from __future__ import annotations

from datetime import datetime


def choose_t0(t_event: datetime | None, t_first_post: datetime | None,
              t_detected: datetime) -> tuple[datetime, str]:
    """The earliest defensible start: the event when an officer gives it, else the first post;
    our detection only as a marked fallback (DESIGN §1). Returns the time and its source name."""
    if t_event is not None:
        return t_event, "t_event"
    if t_first_post is not None:
        return t_first_post, "t_first_post"
    return t_detected, "t_detected"
