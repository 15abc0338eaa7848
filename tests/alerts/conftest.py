"""Fixtures for the delivery layer: loopback receivers, a small cast and a roster."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from alerts.sweep import AlertSetup
from tests.alerts.receivers import Inbox, Smtp, Webhook
from yuqing.core.db import make_sessionmaker

# Sunday 2026-11-29 08:00 Beijing: the event time of most scenarios.
T = datetime(2026, 11, 29, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def webhook(inbox: Inbox) -> Iterator[Webhook]:
    server = Webhook(inbox)
    yield server
    server.close()


@pytest.fixture
def smtp(inbox: Inbox) -> Iterator[Smtp]:
    server = Smtp(inbox)
    yield server
    server.close()


def roster_data(channels: dict[str, list[str]]) -> dict[str, Any]:
    """Alice on duty all day Sunday, Bob heads her section, Carol is deputy, Dan the admin."""
    return {
        "people": {
            "alice": {"name": "值班员甲", "section": "办公室", "channels": channels["alice"]},
            "bob": {"name": "科长乙", "section": "办公室", "channels": channels["bob"]},
            "carol": {"name": "副局长丙", "channels": channels["carol"]},
            "dan": {"name": "管理员丁", "channels": channels["dan"]},
        },
        "sections": {"办公室": "bob"},
        "deputy_leader": "carol",
        "admin": "dan",
        "shifts": [{"person": "alice", "start": "2026-11-28 20:00", "end": "2026-11-30 20:00"}],
    }


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def setup_for(webhook: Webhook, smtp: Smtp) -> AlertSetup:
    """Alice: webhook first, then e-mail. Bob, Carol and Dan: their own webhook paths."""
    return AlertSetup(roster=roster_data({
        "alice": [webhook.url("/alice"), smtp.url("alice@bureau.test")],
        "bob": [webhook.url("/bob")], "carol": [webhook.url("/carol")],
        "dan": [webhook.url("/dan")]}))
