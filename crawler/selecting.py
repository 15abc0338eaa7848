"""Apply configured selectors (CSS, or XPath when prefixed ``xpath:``) to a page."""

from __future__ import annotations

from parsel import Selector, SelectorList


def select(page: Selector, expression: str) -> SelectorList[Selector]:
    if expression.startswith("xpath:"):
        return page.xpath(expression.removeprefix("xpath:"))
    return page.css(expression)


def select_text(page: Selector, expression: str | None) -> str | None:
    """Joined, stripped text of the first match; None when nothing matches."""
    if not expression:
        return None
    nodes = select(page, expression)
    if not nodes:
        return None
    first = nodes[0]
    parts = first.xpath(".//text()").getall() if first.root is not None and not isinstance(
        first.root, str) else [first.get() or ""]
    text = "\n".join(p.strip() for p in parts if p.strip())
    return text or None
