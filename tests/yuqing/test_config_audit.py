"""A configuration change goes into the hash-chained audit log, once per change."""

from __future__ import annotations

from datetime import timedelta

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.core import audit
from yuqing.core.clock import ManualClock
from yuqing.core.models import AuditEvent
from yuqing.core.settings import AppConfig, default_config_text
from yuqing.services.config_audit import record_if_changed, section_digests

ROSTER = {"admin": "wang",
          "people": {"wang": {"name": "王五", "channels": ["json://127.0.0.1:9/"]}}}


def _config(text: str) -> AppConfig:
    return AppConfig(**(yaml.safe_load(text) or {}))


def _changes(session: Session) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "config.change")
                                .order_by(AuditEvent.seq)))


def test_each_change_is_recorded_once_with_the_sections_it_touched(session: Session,
                                                                     clock: ManualClock) -> None:
    shipped = _config(default_config_text())
    first = record_if_changed(session, shipped, now=clock(), by="yuqing run")
    assert first is not None and first.details["previous"] is None
    clock.advance(timedelta(hours=1))
    # The same config loaded again by another program: nothing new.
    assert record_if_changed(session, shipped, now=clock(), by="yuqing serve") is None

    edited = shipped.model_copy(update={"roster": ROSTER})
    second = record_if_changed(session, edited, now=clock(), by="yuqing serve")
    assert second is not None
    assert second.details["changed"] == ["roster"]
    assert second.details["previous"] == first.details["sha256"]
    assert second.details["by"] == "yuqing serve"

    # Going back to the shipped config is a change too.
    third = record_if_changed(session, shipped, now=clock(), by="yuqing run")
    assert third is not None and third.details["changed"] == ["roster"]
    assert [e.seq for e in _changes(session)] == [first.seq, second.seq, third.seq]
    assert audit.verify(session).ok


def test_key_order_comments_and_layout_of_the_file_do_not_count() -> None:
    one = _config("roster:\n  admin: wang\n  people:\n"
                  "    wang: {name: 王五, channels: ['json://127.0.0.1:9/']}\n")
    other = _config("# 值班\nroster: {people: {wang: {channels: ['json://127.0.0.1:9/'], name: 王五}},"
                    " admin: wang}\n")
    assert section_digests(one) == section_digests(other)
    assert section_digests(one) != section_digests(_config("roster: {admin: li}\n"))
