"""The admin-edited config, validated once at start-up into typed objects that are passed down
(the sweep and the crawl jobs never re-parse it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from alerts.policy import DEFAULT_POLICY, Policy
from alerts.roster import Roster
from alerts.sweep import AlertSetup
from analysis.ownership import DEFAULT_OWNERSHIP, Ownership
from analysis.schemes import SchemeConfig, SchemesSection, load_schemes_yaml, scheme_queries
from responses.schedule import ReportAttachments, ReportsSection
from crawler.sources import CrawlSettings, SourceConfig, SourcesSection
from yuqing.core.clock import SHANGHAI
from yuqing.core.settings import AppConfig, Settings, SettingsError, section


@dataclass(frozen=True)
class Config:
    """Every section of the config, validated; search sources carry their scheme's queries."""

    sources: list[SourceConfig] = field(default_factory=list)
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    schemes: list[SchemeConfig] = field(default_factory=list)  # configured, else the shipped ones
    policy: Policy = DEFAULT_POLICY
    roster: Roster = field(default_factory=Roster)
    ownership: Ownership = DEFAULT_OWNERSHIP  # topic -> owning section (谁主管谁负责)
    reports: ReportsSection = field(default_factory=ReportsSection)  # scheduled reports
    dashboard_url: str | None = None
    tz: ZoneInfo = SHANGHAI

    @property
    def alerts(self) -> AlertSetup:
        # A scheduled report's e-mail carries its .docx (responses.schedule).
        return AlertSetup(policy=self.policy, roster=self.roster,
                          dashboard_url=self.dashboard_url, tz=self.tz, ownership=self.ownership,
                          attachments=ReportAttachments(self.reports.out_dir))

    def sources_named(self, names: list[str] | None = None) -> list[SourceConfig]:
        """The configured sources, or only those named (``SettingsError`` for an unknown one)."""
        if not names:
            return list(self.sources)
        by_name = {s.name: s for s in self.sources}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise SettingsError(f"未知数据源 / unknown source(s): {', '.join(missing)} "
                                f"(configured: {', '.join(by_name) or 'none'})")
        return [by_name[n] for n in names]

    @property
    def crawlable(self) -> list[SourceConfig]:
        return [s for s in self.sources if s.kind != "import"]

    @property
    def source_names(self) -> frozenset[str]:
        """The configured sources' names: a source removed from the config is not judged."""
        return frozenset(s.name for s in self.sources)


def load(config: AppConfig, settings: Settings | None = None) -> Config:
    """Validate every section; raises ``SettingsError`` (one line) at the first problem."""
    schemes = section(config, "schemes", SchemesSection, config.schemes).root or load_schemes_yaml()
    sources = section(config, "sources", SourcesSection, {"sources": config.sources}).sources
    return Config(
        sources=[with_queries(s, schemes) for s in sources],
        crawl=section(config, "crawl", CrawlSettings, config.crawl),
        schemes=schemes,
        policy=section(config, "policy", Policy, config.policy or {}),
        roster=section(config, "roster", Roster, config.roster or {}),
        ownership=section(config, "ownership", Ownership, config.ownership or {}),
        reports=section(config, "reports", ReportsSection, config.reports or {}),
        dashboard_url=settings.dashboard_url if settings else None,
        tz=settings.tz if settings else SHANGHAI,
    )


def with_queries(source: SourceConfig, schemes: list[SchemeConfig]) -> SourceConfig:
    """A search source naming a keyword scheme gets that scheme's queries as its keywords."""
    if source.kind != "search" or not source.scheme:
        return source
    try:
        queries = scheme_queries(schemes, source.scheme)
    except KeyError:
        raise SettingsError(f"数据源 {source.name} 引用了不存在的监测方案 / source {source.name!r}: "
                            f"no scheme named {source.scheme!r}") from None
    return source.model_copy(update={"keywords": [*source.keywords, *queries]})


def source_for_scrapy(name: str) -> SourceConfig:
    """``scrapy crawl <spider> -a source=NAME``: the source as ``yuqing crawl`` sees it (named
    by ``YUQING_SOURCE_LOADER`` in ``crawler.scrapy_settings``, so the crawler imports nothing
    from here)."""
    from yuqing.core.settings import load_config, load_settings

    settings = load_settings()
    return load(load_config(settings), settings).sources_named([name])[0]
