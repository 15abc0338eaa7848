"""T0 at the first post, through the real commands on SQLite and PostgreSQL: the original of a
story imported after its repost joins the repost's incident and moves T0 and every clock's due
earlier (overdue at once, detected late), audited with the old and new values; a page dated
after its fetch is flagged and never becomes T0."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from alerts.intake import analyse_and_start_clocks
from alerts.sweep import AlertSetup
from analysis.models import Incident
from crawler.dates import is_future
from crawler.store import Item, store_items

from analysis.t0 import CLOCK_SKEW, PostTime, first_post, reliable_time
from tests.conftest import CliResult
from yuqing.core.models import AuditEvent

Run = Callable[..., CliResult]
SHANGHAI = ZoneInfo("Asia/Shanghai")
STORY = ("城东区公证处被曝为虚假房产交易出具公证书，三名老人的房产在不知情的情况下被过户。"
         "家属称多次到区司法局投诉，至今没有答复，要求公证处说明情况并追究责任。")
CONFIG = """
sources:
  - name: export
    kind: import
    columns: {text: 正文, title: 标题, url: 链接, published_at: 发布时间}
"""


def _csv(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["标题", "正文", "链接", "发布时间"])
        writer.writerows(rows)
    return path


def _import(run_cli: Run, env: dict[str, str], path: Path) -> None:
    done = run_cli("import", str(path), "--source", "export", env=env)
    assert done.code == 0, done.stderr


def _clocks(run_cli: Run, env: dict[str, str], now: str) -> dict[str, dict[str, Any]]:
    done = run_cli("clocks", "--now", now, "--json", env=env)
    assert done.code == 0, done.stderr
    return {c["kind"]: c for c in json.loads(done.stdout)}


def test_an_original_crawled_after_its_repost_moves_t0_and_every_clock_earlier(
    run_cli: Run, db_url: str, tmp_path: Path
) -> None:
    (tmp_path / "yuqing.yaml").write_text(CONFIG, encoding="utf-8")
    env = {"YUQING_DATABASE_URL": db_url, "YUQING_CONFIG": str(tmp_path / "yuqing.yaml")}
    assert run_cli("init", env=env).code == 0
    # The repost on a big site is fetched first.
    _import(run_cli, env, _csv(tmp_path / "repost.csv", [
        ("", f"转发：{STORY} //@网友甲", "https://weibo.example/p/2", "2026-12-01 10:00")]))
    first = run_cli("analyse", "--now", "2026-12-01 12:00", "--json", env=env)
    assert first.code == 0, first.stderr
    assert len(json.loads(first.stdout)["opened"]) == 1
    before = _clocks(run_cli, env, "2026-12-01 12:00")
    assert {c["t0"] for c in before.values()} == {"2026-12-01T10:00:00+08:00"}
    # Then the original, published two days before.
    _import(run_cli, env, _csv(tmp_path / "original.csv", [
        ("老人房产被冒名过户 公证处出具公证书", STORY, "https://forum.example/t/1", "2026-11-29 08:00")]))
    second = run_cli("analyse", "--now", "2026-12-01 13:00", "--json", env=env)
    assert second.code == 0, second.stderr
    result = json.loads(second.stdout)
    assert result["opened"] == [] and len(result["moved_t0"]) == 1
    after = _clocks(run_cli, env, "2026-12-01 13:00")
    assert set(after) == set(before)
    shift = timedelta(hours=50)  # 2026-12-01 10:00 -> 2026-11-29 08:00
    for kind, clock in after.items():
        assert clock["t0"] == "2026-11-29T08:00:00+08:00" and clock["t0_source"] == "t_first_post"
        old_due = datetime.fromisoformat(before[kind]["due_at"])
        assert datetime.fromisoformat(clock["due_at"]) == old_due - shift, kind
        assert clock["state"] == "overdue" and clock["late_cause"] == "detected", kind
    listed = json.loads(run_cli("incidents", "list", "--json", env=env).stdout)
    original_at = datetime(2026, 11, 29, 8, tzinfo=SHANGHAI)
    assert [(datetime.fromisoformat(i["t0"]), i["documents"]) for i in listed] == [(original_at, 2)]
    moved = _audit(db_url, "incident.t0")
    assert len(moved) == 1
    details = moved[0]
    assert datetime.fromisoformat(details["from"]) == datetime(2026, 12, 1, 10, tzinfo=SHANGHAI)
    assert datetime.fromisoformat(details["to"]) == original_at
    assert set(details["old_due"]) == {f"{k}:0" for k in before}
    assert run_cli("audit", "verify", env=env).code == 0


def _audit(db_url: str, action: str) -> list[dict[str, Any]]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(AuditEvent.details).where(AuditEvent.action == action))
            return [dict(r[0]) for r in rows]
    finally:
        engine.dispose()


AT = datetime(2026, 12, 2, 4, 43, tzinfo=ZoneInfo("UTC"))


def test_a_member_dated_after_its_fetch_is_flagged_and_never_t0(session: Session) -> None:
    repost = Item(url="https://weibo.example/p/7", title="", platform="weibo",
                  content=f"转发：{STORY}", published_at=AT - timedelta(hours=3))
    store_items(session, None, [repost], AT - timedelta(hours=2))
    first = analyse_and_start_clocks(session, AlertSetup(), AT - timedelta(hours=2))
    assert len(first.opened) == 1
    # A reprint whose page is dated two hours after we fetched it (ahead of the server clock).
    ahead = Item(url="https://blog.example/a/9", title="", content=f"扩散！{STORY}",
                 published_at=AT + timedelta(hours=2))
    store_items(session, None, [ahead], AT)
    second = analyse_and_start_clocks(session, AlertSetup(), AT)
    assert second.opened == [] and second.moved_t0 == []
    incident = session.get(Incident, first.opened[0])
    assert incident is not None and incident.t0 == AT - timedelta(hours=3)
    # Opening an incident with only such a member falls back to detection, flagged.
    store_items(session, None, [Item(url="https://blog.example/b/1", title="某监狱服刑人员死亡",
                                     content="家属质疑监狱隐瞒死因，要求公开监控录像。",
                                     published_at=AT + timedelta(days=1))], AT)
    third = analyse_and_start_clocks(session, AlertSetup(), AT)
    assert len(third.opened) == 1
    opened = session.get(Incident, third.opened[0])
    assert opened is not None and (opened.t0, opened.t0_source) == (AT, "t_detected")
    details = session.scalars(select(AuditEvent.details).where(
        AuditEvent.action == "incident.open", AuditEvent.object_id == str(opened.id))).one()
    assert [f["published_at"] for f in details["not_used_for_t0"]] == [
        (AT + timedelta(days=1)).isoformat()]


@pytest.mark.parametrize("minutes", [0, 4, 5, 6, 7, 9, 10, 11, 60])
def test_a_time_shown_as_in_the_future_is_exactly_a_time_never_used_as_t0(minutes: int) -> None:
    published = AT + timedelta(minutes=minutes, seconds=1 if minutes else 0)
    assert (reliable_time(published, AT) is None) == is_future(published, AT)


def test_a_page_dated_ahead_of_its_fetch_beyond_the_skew_is_not_a_first_post() -> None:
    assert reliable_time(AT + CLOCK_SKEW, AT) == AT + CLOCK_SKEW
    assert reliable_time(AT + CLOCK_SKEW + timedelta(seconds=1), AT) is None
    assert reliable_time(None, AT) is None
    ahead = PostTime(1, AT + timedelta(hours=2), AT)
    repost = PostTime(2, AT - timedelta(hours=1), AT)
    assert ahead.ahead_of_fetch and not repost.ahead_of_fetch
    chosen = first_post([ahead, repost])
    assert chosen is not None and chosen.document_id == 2
    assert first_post([ahead]) is None
