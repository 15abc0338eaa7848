"""Fixtures for the daemon tests: the real loopback receivers of the alert tests."""

from __future__ import annotations

from tests.alerts.conftest import inbox, smtp, webhook

__all__ = ["inbox", "smtp", "webhook"]
