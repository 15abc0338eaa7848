"""The disclosure tracker: add items, record changes and publications, list what is owed.

Inner functions take a ``Session`` and never commit; every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from responses.disclosures import (Cadence, DisclosureFacts, DisclosureKind, Obligation,
                                   needs_action, obligation_at)
from responses.models import DisclosureItem, DisclosurePublication
from responses.workdays import WorkCalendar
from yuqing.core import audit


class DisclosureError(Exception):
    """An impossible request (unknown item, wrong cadence, a change to a non-long-term item)."""


def _kind(value: str) -> DisclosureKind:
    try:
        return DisclosureKind(value)
    except ValueError:
        raise DisclosureError(f"公开类型无效 / unknown kind {value!r}: expected "
                              f"{', '.join(k.value for k in DisclosureKind)}") from None


def _cadence(kind: DisclosureKind, value: str | None) -> Cadence | None:
    if kind is not DisclosureKind.PERIODIC:
        if value is not None:
            raise DisclosureError(f"只有定期公开事项有公开周期 / only periodic items take a "
                                  f"cadence (got {value!r} for {kind.value})")
        return None
    try:
        return Cadence(value or "")
    except ValueError:
        raise DisclosureError(f"定期公开事项须指明周期 / a periodic item needs a cadence: "
                              f"{', '.join(c.value for c in Cadence)}") from None


def add_item(session: Session, *, title: str, kind: str, decided_on: date, actor: str,
             now: datetime, cadence: str | None = None,
             section: str | None = None) -> DisclosureItem:
    """A new item of the plan; raises ``DisclosureError`` for a bad kind or cadence."""
    if not title.strip():
        raise DisclosureError("事项名称不能为空 / a title is required")
    checked = _kind(kind)
    item = DisclosureItem(title=title.strip(), kind=checked.value,
                          cadence=(c.value if (c := _cadence(checked, cadence)) else None),
                          section=section, decided_on=decided_on, created_by=actor,
                          created_at=now)
    session.add(item)
    session.flush()
    _audit(session, actor, "disclosure.add", item.id, now,
           {"title": item.title, "kind": item.kind, "cadence": item.cadence,
            "decided_on": decided_on.isoformat(), "section": section})
    return item


def get_item(session: Session, item_id: int) -> DisclosureItem:
    item = session.get(DisclosureItem, item_id)
    if item is None:
        raise DisclosureError(f"公开事项不存在 / no disclosure item #{item_id}")
    return item


def record_change(session: Session, item_id: int, changed_on: date, *, actor: str,
                  now: datetime) -> DisclosureItem:
    """A long-term item's content changed: it is owed again within 5 working days."""
    item = get_item(session, item_id)
    if item.kind != DisclosureKind.LONG_TERM:
        raise DisclosureError(f"只有长期公开事项可登记变更 / only long-term items change "
                              f"(#{item_id} is {item.kind})")
    if changed_on < item.decided_on:
        raise DisclosureError(f"变更日期早于决定日期 / changed on {changed_on} before decided "
                              f"on {item.decided_on}")
    item.changed_on = changed_on
    _audit(session, actor, "disclosure.change", item.id, now,
           {"changed_on": changed_on.isoformat()})
    return item


def record_publication(session: Session, item_id: int, published_on: date, url: str, *,
                       actor: str, now: datetime) -> DisclosurePublication:
    """The item went up on ``published_on`` at ``url``."""
    get_item(session, item_id)
    if not url.strip():
        raise DisclosureError("须提供公开地址 / a URL is required")
    row = DisclosurePublication(item_id=item_id, published_on=published_on, url=url.strip(),
                                recorded_by=actor, recorded_at=now)
    session.add(row)
    _audit(session, actor, "disclosure.publish", item_id, now,
           {"published_on": published_on.isoformat(), "url": row.url})
    return row


def _audit(session: Session, actor: str, action: str, item_id: int, now: datetime,
           details: dict[str, Any]) -> None:
    audit.record(session, actor=actor, action=action, object_type="disclosure",
                 object_id=item_id, now=now, details=details)


@dataclass(frozen=True)
class DisclosureLine:
    """One item with what it owes on ``today``."""

    id: int
    title: str
    kind: DisclosureKind
    cadence: Cadence | None
    section: str | None
    obligation: Obligation
    url: str | None  # the latest publication's

    def as_json(self) -> dict[str, Any]:
        o = self.obligation
        return {"id": self.id, "title": self.title, "kind": self.kind.value,
                "cadence": self.cadence.value if self.cadence else None,
                "section": self.section, "state": o.state.value, "basis": o.basis.isoformat(),
                "due_on": o.due_on.isoformat(),
                "published_on": o.published_on.isoformat() if o.published_on else None,
                "display_until": o.display_until.isoformat() if o.display_until else None,
                "period": [d.isoformat() for d in o.period] if o.period else None,
                "url": self.url}


def list_items(session: Session, today: date, calendar: WorkCalendar, *,
               only_owed: bool = True) -> list[DisclosureLine]:
    """Every item with its obligation on ``today``; ``only_owed``: those due or overdue,
    overdue first, then by due date."""
    published: dict[int, list[DisclosurePublication]] = {}
    for row in session.scalars(select(DisclosurePublication)
                               .order_by(DisclosurePublication.published_on)):
        published.setdefault(row.item_id, []).append(row)
    lines = []
    for item in session.scalars(select(DisclosureItem).order_by(DisclosureItem.id)):
        rows = published.get(item.id, [])
        kind = DisclosureKind(item.kind)
        cadence = Cadence(item.cadence) if item.cadence else None
        facts = DisclosureFacts(kind, item.decided_on, cadence, item.changed_on,
                                tuple(r.published_on for r in rows))
        obligation = obligation_at(facts, today, calendar)
        if only_owed and not needs_action(obligation):
            continue
        lines.append(DisclosureLine(item.id, item.title, kind, cadence, item.section,
                                    obligation, rows[-1].url if rows else None))
    return sorted(lines, key=lambda line: (line.obligation.state != "overdue",
                                           line.obligation.due_on, line.id))
