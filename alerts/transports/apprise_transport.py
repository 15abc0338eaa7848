"""Delivery through apprise URLs (mailto, json webhooks, dingtalk, wecombot, feishu, ...)."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from types import ModuleType

from alerts.transports import NotificationError

# 4xx answers other than 408 (timeout) and 429 (rate limit) will not change on retry.
_PERMANENT = re.compile(r"error=4(?!08|29)\d\d")


@cache
def _apprise() -> ModuleType:
    # apprise 2.x imports the stdlib ``imghdr`` for its PGP helper, which warns on Python 3.11+;
    # load it once here with exactly that warning silenced instead of filtering it globally.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".imghdr. is deprecated",
                                category=DeprecationWarning)
        import imghdr  # noqa: F401

        import apprise
    return apprise


def valid_url(url: str) -> bool:
    """Whether apprise understands ``url`` (checks syntax only, sends nothing)."""
    return bool(_apprise().Apprise().add(url))


class AppriseTransport:
    """Sends one message per call; turns apprise's boolean and log lines into an error."""

    def send(self, url: str, title: str, body: str) -> None:
        self.send_attached(url, title, body, ())

    def send_attached(self, url: str, title: str, body: str,
                      attachments: Sequence[Path]) -> None:
        """``send`` with files attached (apprise's ``attach``: e-mail carries them)."""
        apprise = _apprise()
        target = apprise.Apprise()
        if not target.add(url):
            raise NotificationError("通知地址无效 / apprise cannot parse this URL",
                                    permanent=True)
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as logs:
            attach = ([str(p) for p in attachments] or None)
            sent = target.notify(title=title, body=body, attach=attach)
        if sent:  # a truthy object, not True (apprise)
            return
        detail = " | ".join(line for line in logs.getvalue().splitlines() if line.strip())
        message = detail or "delivery failed (no detail from apprise)"
        raise NotificationError(message[:500], permanent=bool(_PERMANENT.search(message)))
