"""RSS 2.0 and Atom parsing, pure: bytes in, entries out."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from lxml import etree

from crawler.dates import parse_cn_datetime

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC_DATE = "{http://purl.org/dc/elements/1.1/}date"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
_TAGS = re.compile(r"<[^>]+>")
_HTML = re.compile(rb"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_FEED_ROOTS = (f"{ATOM}feed", "rss", "rdf", "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF")


class FeedError(ValueError):
    """The body is not a readable RSS or Atom feed; the message says why."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str
    content: str
    published_at: datetime | None
    author: str | None


def parse_feed(body: bytes, now: datetime) -> list[FeedEntry]:
    """Entries of an RSS 2.0 or Atom document (the XML declaration gives the encoding).

    Small slips (a bare ``&``) are recovered; a document that is not a feed (an HTML page) or
    that ends before its elements close (a truncated transfer or file) raises ``FeedError``:
    what such a body yields is not what the feed holds, and a source reading it has failed.
    """
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"不是 XML / not XML: {exc}") from None
    if root is None:
        raise FeedError("订阅源为空或无法读取 / empty or unreadable feed")
    if root.tag not in _FEED_ROOTS:
        name = etree.QName(root).localname
        if name.lower() == "html" or _HTML.search(body[:4096]):
            raise FeedError("不是 RSS/Atom 订阅源：这是网页（<html>）/ not a feed: an HTML page")
        raise FeedError(f"不是 RSS/Atom 订阅源：根元素为 <{name}> / not a feed: root element <{name}>")
    cut = _truncation(body, parser)
    if cut is not None:
        raise FeedError(f"订阅源不完整（内容被截断）/ feed truncated: {cut}")
    if root.tag == f"{ATOM}feed":
        return [_atom_entry(e, now) for e in root.iter(f"{ATOM}entry")]
    return [_rss_item(e, now) for e in root.iter("item", "{http://purl.org/rss/1.0/}item")]


def _truncation(body: bytes, parser: etree.XMLParser) -> str | None:
    """Why the document looks cut short, or None: elements left open at its end (libxml2's
    "Premature end of data"), or a last byte that is not the ``>`` every complete document
    ends with (trailing spaces, and the NULs of UTF-16, aside)."""
    unclosed = next((str(e.message).strip() for e in parser.error_log
                     if e.type_name == "ERR_TAG_NOT_FINISHED"), None)
    if unclosed is not None:
        return unclosed
    if not body.rstrip(b" \t\r\n\x00").endswith(b">"):
        return "the document does not end with a closing tag"
    return None


def strip_markup(text: str | None) -> str:
    """Text of an HTML fragment (feeds put escaped HTML in descriptions)."""
    if not text:
        return ""
    return re.sub(r"[ \t]+", " ", html.unescape(_TAGS.sub("\n", text))).strip()


def feed_date(text: str | None, now: datetime) -> datetime | None:
    """RFC 822 (RSS), ISO 8601 (Atom), or a Chinese date; None when unreadable."""
    if not text:
        return None
    try:
        parsed = parsedate_to_datetime(text.strip())
        if parsed.tzinfo is not None:
            return parsed
    except (TypeError, ValueError, IndexError):
        pass
    try:  # Weibo's API: "Sat Nov 28 10:00:00 +0800 2026"
        return datetime.strptime(text.strip(), "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return parse_cn_datetime(text, now)


def _text(element: etree._Element, *tags: str) -> str | None:
    for tag in tags:
        found = element.find(tag)
        if found is not None and (found.text or "").strip():
            return str(found.text).strip()
    return None


def _rss_item(item: etree._Element, now: datetime) -> FeedEntry:
    ns = item.tag[:-4] if item.tag.endswith("}item") else ""
    body = _text(item, CONTENT) or _text(item, f"{ns}description") or ""
    return FeedEntry(
        url=_text(item, f"{ns}link", "guid") or "",
        title=strip_markup(_text(item, f"{ns}title")),
        content=strip_markup(body),
        published_at=feed_date(_text(item, "pubDate", DC_DATE), now),
        author=_text(item, "author", DC_CREATOR),
    )


def _atom_entry(entry: etree._Element, now: datetime) -> FeedEntry:
    link = next((str(el.get("href")) for el in entry.findall(f"{ATOM}link")
                 if el.get("rel", "alternate") == "alternate" and el.get("href")), "")
    author = entry.find(f"{ATOM}author")
    return FeedEntry(
        url=link,
        title=strip_markup(_text(entry, f"{ATOM}title")),
        content=strip_markup(_text(entry, f"{ATOM}content", f"{ATOM}summary")),
        published_at=feed_date(_text(entry, f"{ATOM}published", f"{ATOM}updated"), now),
        author=_text(author, f"{ATOM}name") if author is not None else None,
    )
