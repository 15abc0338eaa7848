"""Feed parsing: a feed that is cut short or is not a feed at all is an error with its reason,
never an empty success; small slips real feeds make are still read."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crawler.feeds import FeedError, parse_feed

NOW = datetime(2026, 12, 2, 4, 43, tzinfo=timezone.utc)
ITEM = "<item><title>公证处延长服务时间</title><link>http://127.0.0.1/n/1</link></item>"
WHOLE = f"<rss><channel>{ITEM}</channel></rss>"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param("<rss><channel><item><title>半截", "截断", id="cut-inside-a-title"),
        pytest.param(WHOLE[: WHOLE.index("</channel>")], "截断", id="cut-at-a-tag-boundary"),
        pytest.param(WHOLE[:-3], "截断", id="cut-inside-the-closing-tag"),
        pytest.param("<html><head><title>司法局</title></head><body><p>正文</p></body></html>",
                     "网页", id="an-html-page"),
        pytest.param("<!DOCTYPE html><html><head><meta charset=utf-8><title>x</title></head>"
                     "<body><p>y<br></body></html>", "网页", id="html-that-is-not-xml"),
        pytest.param("<opml><body/></opml>", "<opml>", id="another-xml-document"),
        pytest.param("", "not XML", id="empty"),
    ],
)
def test_a_body_that_is_not_a_whole_feed_is_an_error_with_its_reason(body: str,
                                                                      reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        parse_feed(body.encode("utf-8"), NOW)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(WHOLE, id="well-formed"),
        pytest.param(WHOLE.replace("/n/1", "/n/1?a=1&b=2"), id="a-bare-ampersand"),
        pytest.param(WHOLE + "\n<!-- generated -->\n\n", id="a-trailing-comment"),
        pytest.param(WHOLE + "<br>", id="trailing-junk-after-the-root"),
    ],
)
def test_small_slips_of_a_complete_feed_are_still_read(body: str) -> None:
    entries = parse_feed(body.encode("utf-8"), NOW)
    assert [e.title for e in entries] == ["公证处延长服务时间"]


def test_an_empty_but_complete_feed_is_no_error() -> None:
    assert parse_feed(b"<rss><channel><title>t</title></channel></rss>", NOW) == []
