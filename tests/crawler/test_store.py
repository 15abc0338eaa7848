"""Storage: canonical URLs, exact duplicates dropped, reprints linked to their original."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.models import Document
from crawler.store import Item, canonical_url, store_items
from tests.shared_data import require_shared

T = datetime(2026, 11, 29, 0, 0, tzinfo=timezone.utc)


def _text(name: str) -> str:
    return require_shared("pages", "expected", name).read_text(encoding="utf-8")


def _reprint(text: str) -> str:
    """What a reprint typically does: a source line on top, last paragraph cut, an editor line."""
    paras = [p for p in text.splitlines() if p.strip()]
    kept = paras[:-1] if len(paras) > 3 else paras
    return "转载自某某新闻网\n" + "\n".join(kept) + "\n责任编辑：张三"


@pytest.mark.parametrize("url,expected", [
    ("HTTP://Example.COM/a?utm_source=wx&id=3#top", "http://example.com/a?id=3"),
    ("http://example.com/a?b=2&a=1&spm=x.y", "http://example.com/a?a=1&b=2"),
    ("https://m.weibo.cn/detail/501?from=search", "https://m.weibo.cn/detail/501"),
])
def test_canonical_urls_drop_tracking_and_order_the_query(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_exact_duplicates_are_dropped_by_url_or_content(session: Session) -> None:
    body = _text("cwce_33a95b71.txt")
    first = store_items(session, None, [Item("http://127.0.0.1/a?utm_source=x", "标题", body, T)], T)
    again = store_items(session, None, [
        Item("http://127.0.0.1/a", "另一个标题", "不同的内容", T),  # same canonical URL
        Item("http://127.0.0.1/b", "标题", body.replace("\n", "\n\n"), T),  # same text
    ], T)
    assert len(first.new) == 1 and again.new == [] and again.duplicates == 2
    assert session.scalar(select(func.count()).select_from(Document)) == 1


def test_reprints_link_to_the_original_and_unrelated_stories_do_not(session: Session) -> None:
    names = ["cwce_b26fbb82.txt", "cwce_f70d9c97.txt", "cwce_ebe9df29.txt"]
    originals = [Item(f"http://127.0.0.1/o{i}", f"原文{i}", _text(n), T + timedelta(minutes=i))
                 for i, n in enumerate(names)]
    store_items(session, None, originals, T)
    reprints = [Item(f"http://127.0.0.1/r{i}", f"转载：原文{i}", _reprint(_text(n)),
                     T + timedelta(hours=2)) for i, n in enumerate(names)]
    result = store_items(session, None, reprints, T + timedelta(hours=3))
    assert result.reprints == 3
    docs = {d.url.rsplit("/", 1)[-1]: d for d in session.scalars(select(Document))}
    for i in range(3):
        assert docs[f"r{i}"].near_duplicate_of_id == docs[f"o{i}"].id
        assert docs[f"o{i}"].near_duplicate_of_id is None


def test_an_earlier_original_found_later_becomes_the_family_root(session: Session) -> None:
    text = _text("cwce_ecbe8d49.txt")
    store_items(session, None, [Item("http://127.0.0.1/r1", "转载", _reprint(text), T),
                                Item("http://127.0.0.1/r2", "再转", _reprint(text) + "\n网友评论：", T)],
                T)
    store_items(session, None, [Item("http://127.0.0.1/orig", "原文", text,
                                     T - timedelta(days=1))], T)
    docs = {d.url.rsplit("/", 1)[-1]: d for d in session.scalars(select(Document))}
    assert docs["orig"].near_duplicate_of_id is None
    assert docs["r1"].near_duplicate_of_id == docs["orig"].id
    assert docs["r2"].near_duplicate_of_id == docs["orig"].id


def test_short_posts_are_not_fingerprinted(session: Session) -> None:
    result = store_items(session, None, [Item("http://127.0.0.1/s1", "", "法援电话一直占线", T),
                                         Item("http://127.0.0.1/s2", "", "法援电话一直占线！！", T)], T)
    assert len(result.new) == 2 and result.reprints == 0


def test_storing_is_idempotent(session: Session, tmp_path: Path) -> None:
    items = [Item(f"http://127.0.0.1/p{i}", f"标题{i}", f"第{i}条内容" * 20, T) for i in range(5)]
    assert len(store_items(session, None, items, T).new) == 5
    assert store_items(session, None, items, T).new == []


def test_keyed_items_with_a_known_text_are_stored_and_linked_not_dropped(
        session: Session) -> None:
    # 12345 tickets: each id is its own complaint, however it is worded.
    first = store_items(session, None, [Item("import://hotline/T1", "", "法援电话一直占线", T,
                                             keyed=True)], T)
    later = store_items(session, None, [
        Item("import://hotline/T2", "", "法援电话一直占线", T, keyed=True),
        Item("import://hotline/T3", "", "法援电话一直占线", T, keyed=True),
        Item("import://hotline/T1", "", "法援电话一直占线", T, keyed=True),  # the same ticket
        Item("http://127.0.0.1/copy", "", "法援电话一直占线", T),  # no id: a plain duplicate
    ], T)
    assert (len(later.new), later.duplicates, later.same_text) == (2, 2, 2)
    root = first.new[0]
    links = dict(session.execute(select(Document.url, Document.near_duplicate_of_id)).tuples().all())
    assert links == {"import://hotline/T1": None, "import://hotline/T2": root,
                     "import://hotline/T3": root}


def test_a_keyed_item_joins_the_family_of_the_first_with_its_text(session: Session) -> None:
    text = _text("cwce_ecbe8d49.txt")
    store_items(session, None, [Item("http://127.0.0.1/orig", "原文", text, T - timedelta(days=1)),
                                Item("http://127.0.0.1/r1", "转载", _reprint(text), T)], T)
    result = store_items(session, None, [Item("import://hotline/K1", "原文", text, T, keyed=True)],
                         T)
    docs = {d.url.rsplit("/", 1)[-1]: d for d in session.scalars(select(Document))}
    assert result.new == [docs["K1"].id] and result.same_text == 1
    assert docs["K1"].near_duplicate_of_id == docs["orig"].id
    assert docs["r1"].near_duplicate_of_id == docs["orig"].id
