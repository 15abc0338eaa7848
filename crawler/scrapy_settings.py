"""Scrapy settings for yuqing's spiders (`scrapy crawl site -a source=NAME` uses these too)."""

BOT_NAME = "yuqing"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
USER_AGENT = "yuqing-monitor/0.1 (+public-opinion monitoring of a justice bureau)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# enforces CONCURRENT_REQUESTS_PER_DOMAIN, which the stock downloader does not under asyncio
DOWNLOADER = "crawler.runner.SlotLimitedDownloader"
DOWNLOAD_TIMEOUT = 20
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
REDIRECT_MAX_TIMES = 5
ITEM_PIPELINES = {"crawler.pipelines.StoragePipeline": 500}
# `scrapy crawl` (by hand, or a Scrapyd job) takes the source's crawl lease like `yuqing crawl`
EXTENSIONS = {"crawler.extensions.ScrapyCrawlLease": 500}
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "WARNING"
LOG_INSTALL_ROOT_HANDLER = True
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
YUQING_BATCH_SIZE = 200
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.SourceTimeoutMiddleware": 340,
    "crawler.middlewares.RetryBackoffMiddleware": 345,
}
# `scrapy crawl <spider> -a source=NAME` reads its source through the application's config
# (named here, so that the crawler imports nothing from the layers above it)
YUQING_SOURCE_LOADER = "yuqing.services.config.source_for_scrapy"
