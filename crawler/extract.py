"""Article extraction: HTML text → title, publish time, author and body (pure, no I/O but ``extract_file``).

With ``SiteSelectors`` the admin's CSS/XPath selectors are used field by field (a selector that
matches nothing falls back to automatic extraction for that field). Without them:

* title: the heading that the ``<title>`` confirms (so ``标题_新华网`` loses its site suffix),
  else ``og:title`` and friends, else ``<title>`` cut at its first separator;
* publish time: meta tags, ``<time>``/JSON-LD, then the first date printed near the title, then
  anywhere, then the URL; each string is read by ``crawler.dates.parse_cn_datetime``;
* author: meta tags, then ``作者：``/``记者``/``编辑：`` patterns near the title or in the body;
* body: the page is cut into text blocks (block tags and ``<br>`` break them); each block scores
  positive for prose (characters outside links, with punctuation) and negative for links, short
  unpunctuated lines and boilerplate (``责任编辑``, ``相关阅读``, copyright). The element whose
  blocks sum highest is the article container, and inside it the best contiguous run of blocks is
  the body, one block per line.

Malformed, truncated or empty HTML never raises: the worst case is an empty ``ArticleDraft``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import lxml.html
from cssselect import SelectorError
from lxml import etree
from parsel import Selector

from crawler import xpaths
from crawler.dates import ParsedTime, is_future, read_cn_datetime
from crawler.encoding import decode_html

SHANGHAI = ZoneInfo("Asia/Shanghai")
# read_cn_datetime needs a reference time; without ``now`` only dates carrying a year are read
# (they are read as written whatever the reference).
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=timezone.utc)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_SPACES = re.compile(r"[\s\u3000\xa0\u2002\u2003\u200b\ufeff]+")
_JSON_TIME = re.compile(
    r"[\"'](?:datePublished|publishTime|publish_time|pubDate|pubtime|publishDate|ptime|time)[\"']?"
    r"\s*[:=]\s*[\"']([^\"']{8,40})[\"']",
    re.IGNORECASE,
)
# Year-less and relative forms; never a piece of a date that has its year (``2026-12-02 14:00``
# is not ``12-02 14:00``, whichever year that would give).
_RELATIVE_CANDIDATE = re.compile(
    r"\d{1,2}\s*(?:分钟|小时|天)前|(?:今天|昨天|前天)\s*\d{1,2}:\d{2}"
    r"|(?<![\d./-])\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}"
    r"|(?<![\d年])(?<!年\s)\d{1,2}月\d{1,2}日\s*\d{1,2}:\d{2}"
)
_DIGIT = re.compile(r"\d")
_HAS_CLOCK = re.compile(r"\d{1,2}\s*[:：时]\s*\d{1,2}")
_FORMAT_CLOCK = re.compile(r"%[HIMX]")  # a strptime format that reads a time of day
_NEAR_TITLE_BLOCKS = 12
_MAX_TITLE = 200
_MAX_BYLINE = 80  # characters: bylines are short lines
_MIN_BODY = 100  # characters; less than this after noise removal triggers a second reading


@dataclass(frozen=True)
class SiteSelectors:
    """Per-source selectors (CSS, or XPath when starting with ``/`` or ``(``); None = automatic.

    ``date_formats`` are ``strptime`` formats tried on the selected time text before the generic
    Chinese date parser (times without an offset are Beijing time).
    """

    title: str | None = None
    published_at: str | None = None
    author: str | None = None
    content: str | None = None
    date_formats: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArticleDraft:
    """What a page says about itself; ``published_at`` is aware UTC or None when not found,
    ``published_day_only`` when the page gave a day without a time of day."""

    title: str = ""
    published_at: datetime | None = None
    author: str | None = None
    content: str = ""
    published_day_only: bool = False


@dataclass
class _Block:
    """One line of visible text and the element that directly holds it."""

    owner: lxml.html.HtmlElement
    text: str
    link_chars: int
    score: float = 0.0
    furniture: bool = False  # links, boilerplate or the title: never article text


@dataclass
class _Walk:
    blocks: list[_Block] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    link_chars: int = 0


def extract_article(
    html: str, url: str, site: SiteSelectors | None = None, now: datetime | None = None
) -> ArticleDraft:
    """Extract the article from ``html``; an empty draft when there is nothing to read."""
    root = _parse(html)
    if root is None:
        return ArticleDraft()
    site = site or SiteSelectors()
    title = _selected_text(root, site.title) or auto_title(root)
    blocks = _blocks(_cleaned_for_dates(root))
    published = _selected_time(root, site, now) or auto_published_at(root, html, url, title, blocks, now)
    author = _selected_text(root, site.author) or auto_author(root, title, blocks)
    content = _selected_content(root, site.content)
    if content is None:
        content = auto_content(root, title)
    return ArticleDraft(title=title, published_at=published.value if published else None,
                        author=author or None, content=content,
                        published_day_only=published is not None and published.day_only)


def extract_file(path: Path, now: datetime) -> ArticleDraft:
    """Read a saved page, detect its charset and extract it (the ``yuqing extract`` service)."""
    page = decode_html(path.read_bytes(), None)
    return extract_article(page.text, path.resolve().as_uri(), now=now)


def draft_to_json(draft: ArticleDraft, now: datetime | None = None) -> dict[str, str | bool | None]:
    """JSON-ready fields; the publish time as ISO 8601 in Beijing time (``+08:00``), with
    ``published_precision`` (``day`` or ``time``) and, given the time the page was read
    (``now``), ``published_in_future`` (kept as printed, see ``crawler.dates.is_future``)."""
    data: dict[str, str | bool | None] = {
        "title": draft.title, "published_at": None, "published_precision": None,
        "author": draft.author, "content": draft.content,
    }
    if draft.published_at is not None:
        data["published_at"] = draft.published_at.astimezone(SHANGHAI).isoformat()
        data["published_precision"] = "day" if draft.published_day_only else "time"
        if now is not None:
            data["published_in_future"] = is_future(draft.published_at, now)
    return data


# --- parsing ---------------------------------------------------------------------------------


def _parse(html: str) -> lxml.html.HtmlElement | None:
    """The document root, or None for empty or unparseable input."""
    cleaned = _CONTROL_CHARS.sub("", _XML_DECLARATION.sub("", html or ""))
    if not cleaned.strip():
        return None
    try:
        root = lxml.html.document_fromstring(cleaned)
    except (etree.ParserError, ValueError):  # lxml: "Document is empty" and friends
        return None
    return root if isinstance(root, lxml.html.HtmlElement) else None


def _norm(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip()


def _squash(text: str) -> str:
    return _SPACES.sub("", text)


# --- selectors ---------------------------------------------------------------------------------


def _select(root: lxml.html.HtmlElement, query: str | None) -> list[Any]:
    if not query:
        return []
    selector = Selector(root=root)
    try:
        found = selector.xpath(query) if query.lstrip().startswith(("/", "(", "./")) else selector.css(query)
    except (ValueError, SelectorError):  # a bad selector in the admin's YAML: no match, fall back
        return []
    return list(found)


def _selected_text(root: lxml.html.HtmlElement, query: str | None) -> str:
    for item in _select(root, query):
        value = item.root if isinstance(item.root, str) else " ".join(item.root.itertext())
        if _norm(value):
            return _norm(value)
    return ""


def _selected_time(root: lxml.html.HtmlElement, site: SiteSelectors, now: datetime | None) -> ParsedTime | None:
    text = _selected_text(root, site.published_at)
    if not text:
        return None
    for fmt in site.date_formats:
        for candidate in (text, *(m.group(0) for m in xpaths.DATE_CANDIDATE.finditer(text))):
            try:
                value = datetime.strptime(candidate.strip(), fmt)
            except ValueError:
                continue
            local = value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
            return ParsedTime(local.astimezone(timezone.utc), day_only=not _FORMAT_CLOCK.search(fmt))
    return _read_time(text, now, allow_relative=True)


def _selected_content(root: lxml.html.HtmlElement, query: str | None) -> str | None:
    nodes = [item.root for item in _select(root, query) if not isinstance(item.root, str)]
    if not nodes:
        return None
    lines: list[str] = []
    for node in nodes:
        lines.extend(block.text for block in _blocks(_drop_tags(deepcopy(node))))
    return "\n".join(_trim_boilerplate_edges(lines))


# --- title ---------------------------------------------------------------------------------------


def auto_title(root: lxml.html.HtmlElement) -> str:
    """The confirmed heading, else meta title, else ``<title>`` without its site suffix."""
    page_title = _norm(" ".join(root.xpath("//title//text()")))[:_MAX_TITLE]
    meta = _meta(root, xpaths.TITLE_META)
    confirmed = _confirmed_heading(root, page_title)
    if confirmed:
        return confirmed
    if meta:
        return _strip_suffix(meta, page_title)
    headings = [h for h in (_norm(e.text_content()) for e in root.iter("h1")) if len(h) >= 4]
    if len(headings) == 1 and len(headings[0]) <= _MAX_TITLE:
        return headings[0]
    return _strip_suffix(page_title, page_title)


def _confirmed_heading(root: lxml.html.HtmlElement, page_title: str) -> str:
    """The longest heading-like text that the page ``<title>`` starts with (or contains)."""
    target = _squash(page_title)
    if len(target) < 4:
        return ""
    best, best_score = "", 0.0
    for element in root.xpath(xpaths.TITLE_CANDIDATES):
        text = _norm(element.text_content())
        key = _squash(text)
        if len(key) < 4 or len(key) > len(target) or key not in target:
            continue
        # a copy of the whole <title> (share widgets keep one) confirms nothing about a suffix
        score = len(key) * (0.5 if key == target else 2.0 if target.startswith(key) else 1.0)
        if len(key) >= 0.3 * len(target) and score > best_score:
            best, best_score = text, score
    return best


def _strip_suffix(title: str, page_title: str) -> str:
    """``标题_频道_网站`` → ``标题`` when the first part is substantial; otherwise unchanged."""
    parts = xpaths.TITLE_SEPARATORS.split(title)
    if len(parts) > 1 and len(_squash(parts[0])) >= 6:
        return parts[0].strip()
    return title


def _meta(root: lxml.html.HtmlElement, names: tuple[str, ...]) -> str:
    values: dict[str, str] = {}
    for element in root.iter("meta"):
        content = _norm(element.get("content"))
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = re.sub(r"\s+", "", element.get(attr) or "").lower()
            if key and key not in values:
                values[key] = content
    return next((values[name] for name in names if name in values), "")


# --- publish time --------------------------------------------------------------------------------


def auto_published_at(
    root: lxml.html.HtmlElement,
    html: str,
    url: str,
    title: str,
    blocks: list[_Block],
    now: datetime | None,
) -> ParsedTime | None:
    """Meta/structured time, then printed near the title, then anywhere, then the URL.

    A date-only meta value (``publishdate=2022-02-13``) is kept as a fallback while the page is
    searched for a printed time on that same day, which is more precise.
    """
    day_only: ParsedTime | None = None
    for raw in _structured_times(root, html):
        value = _read_time(raw, now, allow_relative=False)
        if value is not None and _HAS_CLOCK.search(raw):
            return value
        day_only = day_only or value
    printed = _printed_time(blocks, title, now)
    if printed is not None and (day_only is None or
                                _local_day(printed.value) == _local_day(day_only.value)):
        return printed
    return day_only or printed or _url_date(url)


def _printed_time(blocks: list[_Block], title: str, now: datetime | None) -> ParsedTime | None:
    start = _title_index(blocks, title)
    if start is not None:
        window = blocks[start : start + _NEAR_TITLE_BLOCKS] + blocks[max(0, start - 4) : start]
        for block in window:
            value = _read_time(block.text, now, allow_relative=True)
            if value is not None:
                return value
    for block in blocks:
        if _HAS_CLOCK.search(block.text):
            value = _read_time(block.text, now, allow_relative=False, need_clock=True)
            if value is not None:
                return value
    return None


def _local_day(value: datetime) -> object:
    return value.astimezone(SHANGHAI).date()


def _structured_times(root: lxml.html.HtmlElement, html: str) -> Iterator[str]:
    meta = _meta(root, xpaths.PUBLISHED_META)
    if meta:
        yield meta
    for query in xpaths.TIME_XPATHS:
        for value in root.xpath(query):
            yield str(value)
    for script in root.xpath("//script[@type='application/ld+json']/text()"):
        yield from _ld_json_dates(str(script))
    match = _JSON_TIME.search(html)
    if match:
        yield match.group(1)


def _ld_json_dates(text: str) -> Iterator[str]:
    try:
        data = json.loads(text)
    except ValueError:
        return
    stack: list[Any] = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("datePublished"), str):
                yield item["datePublished"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _read_time(text: str, now: datetime | None, allow_relative: bool, need_clock: bool = False) -> ParsedTime | None:
    """The first date-time in ``text``; relative forms only when ``now`` is known."""
    reference = now or _FAR_FUTURE
    for match in xpaths.DATE_CANDIDATE.finditer(text):
        if need_clock and not _HAS_CLOCK.search(match.group(0)):
            continue
        # keep an explicit offset that follows the matched time (2020-02-19T10:00:00+08:00)
        value = read_cn_datetime(text[match.start() : match.end() + 7], reference)
        if value is not None:
            return value
    if allow_relative and now is not None and not need_clock:
        relative = _RELATIVE_CANDIDATE.search(text)
        if relative:
            return read_cn_datetime(relative.group(0), now)
    return None


def _url_date(url: str) -> ParsedTime | None:
    match = xpaths.URL_DATE.search(url)
    if match is None:
        return None
    try:
        day = datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=SHANGHAI)
    except ValueError:
        return None
    return ParsedTime(day.astimezone(timezone.utc), day_only=True)


def _title_index(blocks: list[_Block], title: str) -> int | None:
    key = _squash(title)
    if not key:
        return None
    for i, block in enumerate(blocks):
        text = _squash(block.text)
        if text and (text == key or (key in text and len(text) < 2 * len(key))):
            return i
    return None


# --- author ---------------------------------------------------------------------------------------


def auto_author(root: lxml.html.HtmlElement, title: str, blocks: list[_Block]) -> str:
    """A personal-looking meta author, else a byline near the title, else one further on."""
    start = _title_index(blocks, title) or 0
    near = blocks[start : start + _NEAR_TITLE_BLOCKS]
    rest = blocks[start + _NEAR_TITLE_BLOCKS :] + blocks[:start]
    meta = _meta(root, xpaths.AUTHOR_META)
    if meta and (len(meta) > 40 or xpaths.AUTHOR_NOT_PERSON.search(meta)):
        meta = ""  # site names, CMS vendors and user ids are not authors
    return meta or _byline(near) or _byline(rest)


def _byline(blocks: list[_Block]) -> str:
    for pattern in xpaths.AUTHOR_TEXT:
        for block in blocks:
            if len(block.text) > _MAX_BYLINE:  # "记者" inside prose is not a byline
                continue
            match = pattern.search(block.text)
            name = _clean_author(match.group("name")) if match else ""
            if name:
                return name
    return ""


def _clean_author(name: str) -> str:
    words = [xpaths.AUTHOR_TRAILERS.sub("", w) for w in re.split(r"[ 　、,，]+", name.strip())]
    words = [w for w in words if len(w) >= 2 and w not in xpaths.AUTHOR_STOPWORDS]
    return " ".join(words)


# --- body -----------------------------------------------------------------------------------------


def auto_content(root: lxml.html.HtmlElement, title: str) -> str:
    """The best-scoring contiguous run of prose blocks inside the best container."""
    text = _content_from(_drop_noise(_drop_tags(deepcopy(root))), title)
    if len(text) < _MIN_BODY:
        # pages whose content *is* the comments or replies (forums, short-review lists) lose it
        # to the noise names; read them again with only the tag-level cleaning
        fallback = _content_from(_drop_tags(deepcopy(root)), title)
        if len(fallback) > len(text):
            return fallback
    return text


def _content_from(clean: lxml.html.HtmlElement, title: str) -> str:
    blocks = _blocks(clean)
    if not blocks:
        return ""
    title_key = _squash(title)
    seen: set[str] = set()
    for block in blocks:
        block.score, block.furniture = _block_score(block, title_key)
        # pages often carry the article twice (a hidden print or "elder mode" copy): the second
        # copy must neither double the container's weight nor repeat in the output
        key = _squash(block.text)
        if len(key) >= 10 and key in seen:
            block.score, block.furniture = 0.0, True
        seen.add(key)
    container = _best_container(clean, blocks)
    inside = [b for b in blocks if b.owner is container or _is_ancestor(container, b.owner)]
    lines = [b.text for b in _best_run(inside) if b.score != 0.0 or not b.furniture]
    return "\n".join(_cut_tail(lines))


def _drop_tags(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    for element in list(root.iter(*xpaths.DROP_TAGS)):
        if element.getparent() is not None:
            element.drop_tree()
    return root


def _cleaned_for_dates(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    clean = deepcopy(root)
    etree.strip_elements(clean, etree.Comment, "script", "style", "noscript", "head", with_tail=False)
    return clean


def _drop_noise(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """Remove hidden elements and containers whose class/id say they are furniture."""
    total = len(_squash(root.text_content())) or 1
    for element in list(root.iter()):
        if element.getparent() is None or not isinstance(element.tag, str) or element.tag in ("html", "body"):
            continue
        if _is_hidden(element) or _is_noise(element):
            # a "noise" class on the wrapper of most of the page is a misleading name, not noise
            if len(_squash(element.text_content())) < 0.4 * total:
                element.drop_tree()
    return root


def _is_hidden(element: lxml.html.HtmlElement) -> bool:
    style = (element.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style or element.get("hidden") is not None


def _is_noise(element: lxml.html.HtmlElement) -> bool:
    tokens = [t for t in xpaths.TOKEN_SPLIT.split(f"{element.get('class', '')} {element.get('id', '')}") if t]
    if not tokens or any(xpaths.CONTENT_TOKENS.match(t) for t in tokens):
        return False
    return any(xpaths.NOISE_TOKENS.match(t) for t in tokens)


def _blocks(root: lxml.html.HtmlElement) -> list[_Block]:
    """Visible text cut at block tags and ``<br>``, in document order (iterative: deep trees are fine)."""
    walk = _Walk()
    owners: list[lxml.html.HtmlElement] = [root]
    in_link = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in xpaths.BLOCK_TAGS:
                _flush(walk, owners[-1])
                owners.append(element)
            in_link += tag == "a"
            _add(walk, element.text, in_link > 0)
        else:
            if tag in xpaths.BLOCK_TAGS:
                _flush(walk, owners.pop() if len(owners) > 1 else owners[-1])
            in_link -= tag == "a"
            _add(walk, element.tail, in_link > 0)
    _flush(walk, owners[-1])
    return walk.blocks


def _add(walk: _Walk, text: str | None, in_link: bool) -> None:
    if text:
        walk.parts.append(text)
        if in_link:
            walk.link_chars += len(_squash(text))


def _flush(walk: _Walk, owner: lxml.html.HtmlElement) -> None:
    if not walk.parts:  # most block boundaries hold no text of their own
        walk.link_chars = 0
        return
    text = _norm("".join(walk.parts))
    if text:
        walk.blocks.append(_Block(owner, text, min(walk.link_chars, len(_squash(text)))))
    walk.parts.clear()
    walk.link_chars = 0


def _block_score(block: _Block, title_key: str) -> tuple[float, bool]:
    """Score and furniture flag: positive for prose, negative for links, short plain lines, boilerplate."""
    squashed = _squash(block.text)
    length = len(squashed)
    plain = length - block.link_chars
    # Penalties are capped: a long related-links list under the article must not outweigh it
    # when choosing the container (the contiguous-run step trims such lists afterwards).
    if squashed == title_key or xpaths.BOILERPLATE_LINE.match(block.text):
        return -10.0 - min(length, 20), True
    if block.link_chars > 0.5 * length:
        return -min(0.5 * length, 15.0), True
    punctuation = len(xpaths.PROSE_PUNCTUATION.findall(squashed))
    digits = len(_DIGIT.findall(squashed))
    if punctuation == 0 or digits > 0.25 * length:  # labels, dates, counters, teaser rows
        if plain >= 40 and digits < 0.1 * length:
            return 0.3 * plain, False
        return -2.0 - 0.3 * min(plain, 30), False
    # a short line is weak evidence of prose: list rows and captions carry punctuation too
    return float(plain) - 15.0, False


def _best_container(root: lxml.html.HtmlElement, blocks: list[_Block]) -> lxml.html.HtmlElement:
    """The element with the most prose, discounted by its share of noise: ``pos² / (pos + noise)``.

    A plain sum would let a long list of links under the article outweigh it (so the article's
    cell loses to a lone disclaimer elsewhere); the ratio keeps big noisy wrappers (``<body>``)
    from winning while tolerating a footer of related links inside the article container.
    """
    pos: dict[lxml.html.HtmlElement, float] = {}
    neg: dict[lxml.html.HtmlElement, float] = {}
    for block in blocks:
        side = pos if block.score > 0 else neg
        side[block.owner] = side.get(block.owner, 0.0) + abs(block.score)
    for element in reversed(list(root.iter())):  # children before parents
        parent = element.getparent()
        if parent is None:
            continue
        for side in (pos, neg):
            if element in side:
                side[parent] = side.get(parent, 0.0) + side[element]
    if not pos:
        return root
    return max(pos, key=lambda e: pos[e] * pos[e] / (pos[e] + neg.get(e, 0.0)))


def _is_ancestor(ancestor: lxml.html.HtmlElement, element: lxml.html.HtmlElement) -> bool:
    return any(parent is ancestor for parent in element.iterancestors())


def _best_run(blocks: list[_Block]) -> list[_Block]:
    """Maximum-sum contiguous run (Kadane) that trims headers and footers around the prose.

    Inside the chosen container a short plain line (a list item, a sub-heading, a caption) costs
    almost nothing, so lists inside the article survive; links, boilerplate and the title still
    cost their full penalty, so a trailing "related news" list or a byline row is cut off.
    """
    best_sum, best = 0.0, (0, 0)
    running, start = 0.0, 0
    for i, block in enumerate(blocks):
        if running <= 0:
            running, start = 0.0, i
        running += block.score if block.score > 0 or block.furniture else -1.0
        if running > best_sum:
            best_sum, best = running, (start, i + 1)
    return blocks[best[0] : best[1]]


def _cut_tail(lines: list[str]) -> list[str]:
    """Drop a trailing "related/comments" section and boilerplate lines left inside the run."""
    for i, line in enumerate(lines):
        if i > 0 and xpaths.TAIL_MARKERS.match(line):
            lines = lines[:i]
            break
    return [line for line in lines if not xpaths.BOILERPLATE_LINE.match(line)]


def _trim_boilerplate_edges(lines: list[str]) -> list[str]:
    while lines and xpaths.BOILERPLATE_LINE.match(lines[-1]):
        lines = lines[:-1]
    return lines
