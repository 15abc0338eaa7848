"""Time at the edges: the one place that reads the real clock.

Everything that decides by time takes ``now`` (an aware UTC datetime). The daemon, CLI and web
pass ``system_clock()``; tests pass a fixed or a controllable clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def system_clock() -> datetime:
    """The real current time, aware, in UTC."""
    return datetime.now(timezone.utc)


@dataclass
class ManualClock:
    """A clock that only moves when told to (tests, simulations, drills)."""

    current: datetime
    _history: list[datetime] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.current = ensure_aware(self.current)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        self._history.append(self.current)
        self.current = self.current + delta
        return self.current


def ensure_aware(value: datetime, name: str = "value") -> datetime:
    """Return ``value`` in UTC; a naive one raises ``ValueError`` naming ``name`` instead of
    having a zone guessed for it."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} is a naive datetime ({value.isoformat()}); pass an aware one")
    return value.astimezone(timezone.utc)


def parse_local(text: str, tz: ZoneInfo = SHANGHAI) -> datetime:
    """Parse ISO 8601 input; a value without an offset is read in ``tz`` (Asia/Shanghai).

    Raises ``ValueError`` with the offending text when it is not a date-time.
    """
    cleaned = text.strip().replace("/", "-")
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError as exc:
        raise ValueError(f"not a date-time: {text!r} (expected e.g. 2026-11-29 08:00)") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(timezone.utc)


def to_local(value: datetime, tz: ZoneInfo = SHANGHAI) -> datetime:
    """Show an aware datetime in the bureau's zone."""
    return ensure_aware(value).astimezone(tz)


def format_local(value: datetime | None, tz: ZoneInfo = SHANGHAI) -> str:
    """``2026-11-29 08:00`` in the bureau's zone, or ``—`` for None."""
    if value is None:
        return "—"
    return to_local(value, tz).strftime("%Y-%m-%d %H:%M")
