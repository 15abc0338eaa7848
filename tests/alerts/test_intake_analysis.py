"""New documents become incidents with clocks: 50 reposts of one story are one incident with
the right T0 and reprint count; unrelated posts open nothing; a heat rise adds the 5 h clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.intake import analyse_and_start_clocks
from alerts.models import Deadline, SeverityChange
from alerts.sweep import AlertSetup
from analysis.models import Classification, Incident, IncidentDocument
from crawler.models import Document
from crawler.sources import SourceConfig, sync_sources
from crawler.store import Item, store_items

T = datetime(2026, 11, 29, 0, 0, tzinfo=timezone.utc)  # 08:00 in Beijing
STORY = ("城东区公证处被曝为虚假房产交易出具公证书，三名老人的房产在不知情的情况下被过户。"
         "家属称多次到区司法局投诉，至今没有答复，要求公证处说明情况并追究责任。")
OPENERS = ["转发：", "扩散！", "气愤，", "有人管吗？", "//@网友{n}: 太过分了 ", "【关注】", ""]
UNRELATED = ["本周末我市将迎来降温天气，最低气温零下三度，请注意保暖。",
             "市图书馆新馆今日开放，市民可凭身份证免费办理借阅证。",
             "我市举办第十届马拉松比赛，两万名选手参赛。"]


def _reposts(count: int, start: datetime) -> list[Item]:
    items = []
    for n in range(count):
        opener = OPENERS[n % len(OPENERS)].format(n=n)
        tail = "" if n % 3 else f"（第{n}位网友补充：公证员也有责任）"
        items.append(Item(url=f"https://weibo.example/p/{n}", title="", platform="weibo",
                          content=f"{opener}{STORY}{tail} //@用户{n}", reposts=40 + n,
                          published_at=start + timedelta(minutes=3 * n)))
    return items


def test_fifty_reposts_are_one_incident_with_the_first_post_as_t0(session: Session) -> None:
    sid = sync_sources(session, [SourceConfig(name="weibo", kind="api", url="http://127.0.0.1/",
                                              mapping="weibo_mobile_search")], T)[0].id
    first_post = T - timedelta(hours=2)
    items = _reposts(50, first_post) + [
        Item(url=f"https://news.example/{i}", title=t[:12], content=t, published_at=T)
        for i, t in enumerate(UNRELATED)]
    store_items(session, sid, items, T)
    result = analyse_and_start_clocks(session, AlertSetup(), T)
    assert result.classified == 53 and len(result.opened) == 1
    incident = session.get(Incident, result.opened[0])
    assert incident is not None
    assert incident.t0 == first_post and incident.t0_source == "t_first_post"
    assert incident.topic == "notary" and incident.policy_snapshot
    members = session.scalar(select(func.count()).select_from(IncidentDocument)
                             .where(IncidentDocument.incident_id == incident.id))
    assert members == 50
    unrelated = session.scalars(select(Classification).join(Document).where(
        Document.url.like("https://news.example/%"))).all()
    assert len(unrelated) == 3 and not any(c.sensitive for c in unrelated)
    assert session.scalars(select(Deadline.kind).where(Deadline.incident_id == incident.id)).all()


def test_later_reposts_join_the_incident_and_heat_raises_it_to_major(session: Session) -> None:
    store_items(session, None, _reposts(5, T - timedelta(hours=1)), T)
    first = analyse_and_start_clocks(session, AlertSetup(), T)
    assert len(first.opened) == 1
    incident_id = first.opened[0]
    # within the next hour the story is reposted by thousands (heat rule: ≥1000 in an hour)
    later = [Item(url=f"https://weibo.example/q/{n}", title="", platform="weibo",
                  content=f"再转：{STORY}（{n}）", reposts=300,
                  published_at=T + timedelta(minutes=5 + n)) for n in range(6)]
    now = T + timedelta(minutes=30)
    store_items(session, None, later, now)
    second = analyse_and_start_clocks(session, AlertSetup(), now)
    assert second.opened == [] and second.raised == [incident_id]
    incident = session.get(Incident, incident_id)
    assert incident is not None and incident.severity == "major"
    kinds = set(session.scalars(select(Deadline.kind).where(Deadline.incident_id == incident_id)))
    assert {"statement", "press_conference"} <= kinds
    statement = session.scalars(select(Deadline).where(Deadline.incident_id == incident_id,
                                                       Deadline.kind == "statement")).one()
    assert statement.due_at == incident.t0 + timedelta(hours=5)  # from the same T0
    reasons = session.scalars(select(SeverityChange.reason)
                              .where(SeverityChange.incident_id == incident_id)).all()
    assert any("转发" in (r or "") for r in reasons)
