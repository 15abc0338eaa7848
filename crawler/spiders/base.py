"""What every source spider shares: its SourceConfig and error accounting."""

from __future__ import annotations

from typing import Any

import scrapy
from twisted.python.failure import Failure

from crawler.sources import SourceConfig


class SourceSpider(scrapy.Spider):
    """A spider bound to one configured source (``source`` is a SourceConfig or its name)."""

    source: SourceConfig

    def __init__(self, source: SourceConfig | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(source, str) or source is None:
            source = _load_source(source)
        self.source = source
        self.name = getattr(self, "name", "source")

    def on_error(self, failure: Failure) -> None:
        """Count the failed request; one page's failure never stops the crawl."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("yuqing/errors")
        self.crawler.stats.set_value("yuqing/last_error", _describe(failure))
        self.logger.warning("request failed: %s", _describe(failure))


def _describe(failure: Failure) -> str:
    request = getattr(failure, "request", None)
    where = f" {request.url}" if request is not None else ""
    return f"{failure.type.__name__ if failure.type else 'Error'}: {failure.getErrorMessage()}{where}"


def _load_source(name: str | None) -> SourceConfig:
    # Only for `scrapy crawl <spider> -a source=NAME`; yuqing's own runner passes the config.
    from crawler.sources import SourcesSection
    from yuqing.settings import load_config, load_settings, section

    if not name:
        raise ValueError("pass the source name: scrapy crawl <spider> -a source=NAME")
    config = load_config(load_settings())
    sources = section(config, "sources", SourcesSection, {"sources": config.sources}).sources
    for cfg in sources:
        if cfg.name == name:
            return cfg
    raise ValueError(f"no source named {name!r} in {config.path or 'the built-in config'}")
