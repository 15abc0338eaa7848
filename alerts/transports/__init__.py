"""Notification transports: one method, one error type (healthchecks' shape)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable


class NotificationError(Exception):
    """A delivery failed. ``permanent``: retrying this channel cannot help (bad URL, 4xx)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class Transport(Protocol):
    def send(self, url: str, title: str, body: str) -> None:
        """Deliver one message to one channel URL; raise ``NotificationError`` on failure."""


@runtime_checkable
class AttachingTransport(Transport, Protocol):
    def send_attached(self, url: str, title: str, body: str,
                      attachments: Sequence[Path]) -> None:
        """``send`` with files attached (e-mail); raise ``NotificationError`` on failure."""
