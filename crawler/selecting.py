"""Apply a configured selector: XPath when it starts with ``/`` or ``(``, CSS otherwise
(the same rule as ``crawler.extract.SiteSelectors``)."""

from __future__ import annotations

from parsel import Selector, SelectorList


def select(page: Selector, expression: str) -> SelectorList[Selector]:
    if expression.lstrip().startswith(("/", "(")):
        return page.xpath(expression)
    return page.css(expression)
