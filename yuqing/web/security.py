"""Sessions in signed cookies, CSRF tokens, login throttling and the security headers.

The session cookie holds the account name, a random session id, the CSRF token and the time it
was issued, signed with the app's secret (itsdangerous). Expiry is judged against the app's
injected clock, not the host's, so tests can move time. Logging out revokes the session id in
this process; a restart forgets revocations, and the cookie then still dies at its expiry.
"""

from __future__ import annotations

import hmac
import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from threading import Lock
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

SESSION_COOKIE = "yuqing_session"
LOGIN_COOKIE = "yuqing_login"  # the CSRF token of the login form, before any session exists
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


@dataclass(frozen=True)
class WebSession:
    user: str
    sid: str
    csrf: str
    issued_at: datetime


class SessionCodec:
    """Signs and checks session and login-form cookies."""

    def __init__(self, secret: str, lifetime: timedelta) -> None:
        self._sessions = URLSafeSerializer(secret, salt="yuqing.session")
        self._login = URLSafeSerializer(secret, salt="yuqing.login")
        self.lifetime = lifetime
        self._revoked: set[str] = set()
        self._lock = Lock()

    def issue(self, user: str, now: datetime) -> tuple[str, WebSession]:
        session = WebSession(user, secrets.token_urlsafe(16), secrets.token_urlsafe(24), now)
        data = {"u": user, "s": session.sid, "c": session.csrf, "t": now.timestamp()}
        return self._sessions.dumps(data), session

    def read(self, cookie: str | None, now: datetime) -> WebSession | None:
        """The session a cookie carries; None if absent, forged, expired or logged out."""
        if not cookie:
            return None
        try:
            data: Any = self._sessions.loads(cookie)
            issued = datetime.fromtimestamp(float(data["t"]), tz=now.tzinfo)
            session = WebSession(str(data["u"]), str(data["s"]), str(data["c"]), issued)
        except (BadSignature, KeyError, TypeError, ValueError, OverflowError):
            return None
        if not issued <= now < issued + self.lifetime:
            return None
        with self._lock:
            if session.sid in self._revoked:
                return None
        return session

    def revoke(self, session: WebSession) -> None:
        with self._lock:
            self._revoked.add(session.sid)

    def login_token(self) -> tuple[str, str]:
        """A fresh CSRF token for the login form and the signed cookie that carries it."""
        token = secrets.token_urlsafe(24)
        return token, self._login.dumps(token)

    def login_token_of(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            value = self._login.loads(cookie)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


@dataclass
class _Failures:
    times: deque[datetime] = field(default_factory=deque)
    locked_until: datetime | None = None


class LoginThrottle:
    """Lockout after ``limit`` failures of one account (or from one address) within ``window``.

    A locked account answers "locked" even to the right password until ``lockout`` has passed.
    Per process: several web workers each count on their own.
    """

    def __init__(self, limit: int = 5, window: timedelta = timedelta(minutes=15),
                 lockout: timedelta = timedelta(minutes=15)) -> None:
        self.limit, self.window, self.lockout = limit, window, lockout
        self._keys: dict[str, _Failures] = {}
        self._lock = Lock()

    def locked_until(self, keys: list[str], now: datetime) -> datetime | None:
        with self._lock:
            until = [f.locked_until for k in keys if (f := self._keys.get(k)) is not None
                     and f.locked_until is not None and f.locked_until > now]
        return max(until) if until else None

    def failed(self, keys: list[str], now: datetime) -> bool:
        """Count a failure; True when it locks one of the keys."""
        locked = False
        with self._lock:
            for key in keys:
                entry = self._keys.setdefault(key, _Failures())
                entry.times.append(now)
                while entry.times and entry.times[0] <= now - self.window:
                    entry.times.popleft()
                if len(entry.times) >= self.limit:
                    entry.locked_until, locked = now + self.lockout, True
                    entry.times.clear()
        return locked

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._keys.pop(key, None)


def safe_next(target: str | None) -> str:
    """Only a path on this site (``/incidents/3``); anything else (``//evil``, ``https:``) → ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(ch) < 32 for ch in target) or target.startswith("/login"):
        return "/"
    return target
