"""Shared selectors and patterns for article extraction (data only, like trafilatura's xpaths.py).

Everything here is generic: meta-tag names used across Chinese and international sites, and
boilerplate patterns. Nothing names one particular site's layout.
"""

from __future__ import annotations

import re

# Meta tags, most trusted first. Matched on @property, @name or @itemprop (lower-cased).
TITLE_META = ("og:title", "twitter:title", "articletitle", "title", "headline")
PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "og:release_date",
    "pubdate",
    "publishdate",
    "publish_date",
    "publishtime",
    "publish-time",
    "datepublished",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "weibo:article:create_at",
    "firstpublishedtime",
    "releasedate",
    "date",
    "ptime",
    "created",
)
AUTHOR_META = ("author", "article:author", "og:article:author", "dc.creator", "byline", "twitter:creator")

# Elements that carry a machine-readable publish time.
TIME_XPATHS = (
    "//time[@datetime]/@datetime",
    "//*[@itemprop='datePublished']/@content",
    "//*[@itemprop='datePublished']/@datetime",
    "//*[@pubdate]/@datetime",
)

# Tags removed before any scoring: never article text.
DROP_TAGS = (
    "script", "style", "noscript", "iframe", "object", "embed", "svg", "canvas", "template",
    "select", "option", "button", "input", "textarea", "form", "nav", "footer", "aside",
    "head", "link", "meta", "map", "area", "audio", "video", "source", "label",
)

# class/id tokens marking boilerplate containers. Matched against class and id split on
# non-alphanumerics, so "share" hits "share-box" and "bdsharebuttonbox" is caught by its prefix.
NOISE_TOKENS = re.compile(
    r"^(?:nav|navbar|navi|menu|menus|topnav|subnav|breadcrumbs?|crumbs?|footer|foot|ft|header|"
    r"sidebar|side|aside|share|sharing|bdshare\w*|bdsharebuttonbox|social|comments?|cmt|"
    r"reply|replies|related|recommend\w*|relate\w*|hot\w*|rank\w*|ads?|advert\w*|adv|"
    r"banner|copyright|copy|tags?|keywords?|pagination|pager|paging|page-?nav|"
    r"login|signup|subscribe|qrcode|ewm|erweima|print|tools?|toolbar|search|weixin-?share|"
    r"popup|modal|cookie|disclaimer|statement|editor|zbbj|bianji|source|laiyuan|"
    r"more|next|prev|feedback|jubao|report|gotop|backtop|totop|logo|hidden|hide)$",
    re.IGNORECASE,
)
# ...unless the same element also says it is the content.
CONTENT_TOKENS = re.compile(
    r"^(?:article|content|contents|main|post|entry|text|body|detail|story|news_?txt|"
    r"zw|zhengwen|artibody|rich_media_content|TRS_Editor|article-content)$",
    re.IGNORECASE,
)
TOKEN_SPLIT = re.compile(r"[^A-Za-z0-9]+")

# Block-level tags: a text break before and after.
BLOCK_TAGS = frozenset(
    (
        "p", "div", "section", "article", "main", "header", "h1", "h2", "h3", "h4", "h5", "h6",
        "ul", "ol", "li", "dl", "dt", "dd", "table", "tbody", "thead", "tr", "td", "th",
        "blockquote", "pre", "center", "figure", "figcaption", "address", "hr", "br", "form",
    )
)
# Containers that may be chosen as the article body.
CANDIDATE_TAGS = frozenset(("div", "section", "article", "main", "td", "body", "center", "font", "span"))

# Punctuation that marks prose (Chinese and Western): the more, the likelier a paragraph.
PROSE_PUNCTUATION = re.compile(r"[，。！？；：、“”,.!?;]")

# Lines that end the article or are furniture around it (checked on whole lines).
BOILERPLATE_LINE = re.compile(
    r"^[\s\[【（(]*(?:"
    r"责任编辑|责编|编辑|本文编辑|审核|校对|值班编辑|实习编辑|监制|来源|稿源|原标题|"
    r"相关阅读|相关新闻|相关链接|相关报道|相关文章|延伸阅读|推荐阅读|热点推荐|热门推荐|"
    r"猜你喜欢|更多精彩|分享到|分享让更多人看到|打印本页|关闭窗口|返回顶部|我来说两句|"
    r"发表评论|查看评论|网友评论|扫一扫|扫描二维码|点击进入|打开.{0,6}APP|下载.{0,6}客户端|"
    r"上一篇|下一篇|版权所有|版权声明|免责声明|Copyright|©|\(c\)|ICP|"
    r"页面功能|字号|小字号|大字号|【大 中 小】|纠错|关注.{0,8}(?:微信|公众号)|"
    r"本文来源|文章来源|举报"
    r")",
    re.IGNORECASE,
)
# Once one of these appears as a line of its own, the rest is furniture (related lists, comments).
TAIL_MARKERS = re.compile(
    r"^[\s\[【（(]*(?:相关阅读|相关新闻|相关链接|相关报道|相关文章|延伸阅读|推荐阅读|热点推荐|"
    r"热门推荐|猜你喜欢|更多精彩|网友评论|最新评论|热门评论|我来说两句|发表评论)",
)

# Author patterns in visible text, most specific first. Group "name" is the author.
# Extra names after the first must end at a non-Han character, so "彭冲 山东冠县报道" stops at 彭冲.
_MORE_NAMES = r"(?:[ 　、,，][\u4e00-\u9fa5·]{2,4}(?![\u4e00-\u9fa5])){0,4}"
# A name is 2-4 Han characters that end at a non-Han character (or at 发自/报道), so prose such as
# "记者联系采访了…" is not read as a byline.
_NAME = r"[\u4e00-\u9fa5·]{2,4}(?:(?=[^\u4e00-\u9fa5·]|$)|(?=发自|报道|摄))"
AUTHOR_TEXT = (
    re.compile(r"作\s*者\s*[:：]\s*(?P<name>[\u4e00-\u9fa5·]{2,12}(?![\u4e00-\u9fa5])" + _MORE_NAMES + ")"),
    re.compile(r"(?:本报|新华社|中新社|本台|本网)?记者\s*[:：]?\s*(?P<name>" + _NAME + _MORE_NAMES + ")"),
    re.compile(r"(?:责任编辑|编辑|责编)\s*[:：]\s*(?P<name>" + _NAME + ")"),
)
AUTHOR_STOPWORDS = frozenset(("发自", "报道", "摄影", "通讯员", "实习生", "来源", "编辑", "记者", "时间", "日期"))
# A meta author that names an organisation, a site or an account rather than a person.
AUTHOR_NOT_PERSON = re.compile(
    r"网|报$|社$|台$|站|编辑|中心|公司|集团|频道|新闻|编辑部|政府|Team|Inc|@|\.com|_\d|\d{3,}|介绍|搜索",
    re.IGNORECASE,
)
# Suffixes glued to a name without a space: "罗科苏盈发自北京", "姚峰上海报道".
AUTHOR_TRAILERS = re.compile(r"(?:发自|报道|摄影?|撰文|整理)$")

# Finds date-time candidates in text; each match is handed to crawler.dates.parse_cn_datetime.
DATE_CANDIDATE = re.compile(
    r"(?:(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
    r"(?:\s*(?:T|\s)?\s*\d{1,2}\s*[:：时]\s*\d{1,2}(?:\s*[:：分]\s*\d{1,2})?)?)"
)
# A date in the URL path: /2020-02/19/, /20240509/, /2024/0510/ (date only, last resort).
URL_DATE = re.compile(r"/((?:19|20)\d{2})[-/_]?(0[1-9]|1[0-2])[-/_]?(0[1-9]|[12]\d|3[01])(?:/|[^0-9])")

# Site suffix separators in <title>: "标题_频道_网站", "标题 | 网站", "标题 - 网站".
TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜|--|—|\s-\s|－)\s*")

# Elements that may hold the headline; the page <title> decides which one (see extract.auto_title).
TITLE_CANDIDATES = (
    "//h1 | //h2 | //h3"
    " | //*[contains(translate(@class, 'TITLE', 'title'), 'title')]"
    " | //*[contains(translate(@id, 'TITLE', 'title'), 'title')]"
)
