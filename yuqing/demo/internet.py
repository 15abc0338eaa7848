"""The demo's simulated internet: one HTTP server on 127.0.0.1 serving the story's items as
they appear on the simulated clock (the same file the daemon reads).

- ``/news/``: a news site, list page and articles (one article in GBK);
- ``/rss/feed.xml``: another outlet's RSS 2.0 feed;
- ``/weibo/api/search``: a Weibo-style JSON API (``data.cards[].mblog``), posts at ``/weibo/detail/``;
- ``/bbs/``: a forum's thread list and threads;
- ``/sfj/xwfb/``: the bureau's own news page, where the statement appears once posted.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from yuqing.core.clock import SHANGHAI
from yuqing.demo.loopback import LocalServer
from yuqing.demo.story import EVENT, ROUTINE, Channel, Item

Page = tuple[int, str, bytes]  # status, content type, body


class SimulatedInternet(LocalServer):
    """Serves the story: an item is online once ``start + item.at_minutes`` has come on
    ``clock``; items posted with :meth:`post` (the bureau's statement) from their time."""

    def __init__(self, start: datetime, clock: Callable[[], datetime],
                 items: tuple[Item, ...] = ROUTINE + EVENT) -> None:
        self.start = start
        self.clock = clock
        self.items = list(items)
        self.lock = threading.Lock()
        self.hits: dict[str, int] = {}
        super().__init__(self._handler(), "demo-internet")

    def post(self, item: Item) -> str:
        """Put ``item`` online (from its time on) and return its address."""
        with self.lock:
            self.items.append(item)
        return self.url_of(item)

    def time_of(self, item: Item) -> datetime:
        return self.start + timedelta(minutes=item.at_minutes)

    def url_of(self, item: Item) -> str:
        paths = {"news": f"/news/{item.key}.html", "rss": f"/rss/{item.key}.html",
                 "weibo": f"/weibo/detail/{_mid(item)}", "forum": f"/bbs/thread-{item.key}.html",
                 "bureau": f"/sfj/xwfb/{item.key}.html"}
        return self.base_url + paths[item.channel]

    def online(self, channel: Channel) -> list[Item]:
        """The channel's items online now, newest first."""
        now = self.clock()
        with self.lock:
            items = [i for i in self.items if i.channel == channel and self.time_of(i) <= now]
        return sorted(items, key=self.time_of, reverse=True)

    def page(self, path: str) -> Page:
        route = path.split("?", 1)[0]
        with self.lock:
            self.hits[route] = self.hits.get(route, 0) + 1
        if route == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nAllow: /\n"
        pages: dict[str, Callable[[], Page]] = {
            "/news/index.html": self._news_list, "/rss/feed.xml": self._feed,
            "/weibo/api/search": self._weibo_api, "/bbs/forum-2-1.html": self._forum_list,
            "/sfj/xwfb/index.html": self._bureau_list}
        if route in pages:
            return pages[route]()
        for item in self.online_all():
            if self.url_of(item) == self.base_url + route:
                return self._article(item)
        return 404, "text/html; charset=utf-8", _html("页面不存在", "<p>404 页面不存在</p>")

    def online_all(self) -> list[Item]:
        return [i for channel in ("news", "rss", "weibo", "forum", "bureau")
                for i in self.online(channel)]  # type: ignore[arg-type]

    # --- pages ---------------------------------------------------------------------------

    def _local(self, item: Item, fmt: str) -> str:
        return self.time_of(item).astimezone(SHANGHAI).strftime(fmt)

    def _news_list(self) -> Page:
        links = "".join(f"<li><a href='/news/{i.key}.html'>{html.escape(i.title)}</a>"
                        f"<span class='date'>{self._local(i, '%m-%d')}</span></li>"
                        for i in self.online("news"))
        body = f"<h2>本地要闻</h2><ul class='news-list'>{links}</ul>"
        return 200, "text/html; charset=utf-8", _html("都市晨报网 - 本地要闻", body)

    def _article(self, item: Item) -> Page:
        paragraphs = "".join(f"<p>{html.escape(p)}。</p>" for p in item.body.split("。") if p)
        if item.channel == "weibo":
            when = self._local(item, "%Y-%m-%d %H:%M")
            body = (f"<div class='weibo'><p class='author'>@{html.escape(item.author)}</p>"
                    f"<p class='time'>{when}</p><div class='text'>{html.escape(item.body)}</div>"
                    f"<p>转发 {item.reposts}　评论 {item.comments}　赞 {item.likes}</p></div>")
            return 200, "text/html; charset=utf-8", _html(f"@{item.author}的微博", body)
        if item.channel == "forum":
            body = (f"<h1 class='thread-title'>{html.escape(item.title)}</h1><div class='post'>"
                    f"<div class='author'>{html.escape(item.author)}</div>"
                    f"<div class='posted'>发表于 {self._local(item, '%Y-%m-%d %H:%M')}</div>"
                    f"<div class='message'>{paragraphs}</div></div>")
            return 200, "text/html; charset=utf-8", _html(item.title, body)
        if item.gbk:
            when = self._local(item, "%Y年%m月%d日 %H:%M")
        else:
            when = self._local(item, "%Y-%m-%d %H:%M")
        body = (f"<h1 class='title'>{html.escape(item.title)}</h1><div class='meta'>发布时间："
                f"{when}　来源：{html.escape(item.outlet)}</div>"
                f"<div class='article'>{paragraphs}</div>")
        if item.gbk:
            page = _html(item.title, body, charset="gbk").decode("utf-8")
            return 200, "text/html; charset=gbk", page.encode("gbk")
        return 200, "text/html; charset=utf-8", _html(item.title, body)

    def _feed(self) -> Page:
        entries = "".join(
            f"<item><title>{html.escape(i.title)}</title><link>{self.url_of(i)}</link>"
            f"<guid>{self.url_of(i)}</guid><pubDate>{format_datetime(self.time_of(i))}</pubDate>"
            f"<description>{html.escape(i.body)}</description></item>"
            for i in self.online("rss"))
        xml = (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
               f"<title>法治生活报</title><link>{self.base_url}/rss/</link>"
               f"<description>法治生活报 要闻</description>{entries}</channel></rss>")
        return 200, "application/rss+xml; charset=utf-8", xml.encode("utf-8")

    def _weibo_api(self) -> Page:
        cards = [{"card_type": 9, "mblog": {
            "mid": _mid(i), "text": html.escape(i.body),
            "created_at": self.time_of(i).astimezone(SHANGHAI).strftime(
                "%a %b %d %H:%M:%S +0800 %Y"),
            "user": {"screen_name": i.author}, "reposts_count": i.reposts,
            "comments_count": i.comments, "attitudes_count": i.likes}}
            for i in self.online("weibo")]
        data = {"ok": 1, "data": {"cards": cards}}
        return 200, "application/json", json.dumps(data, ensure_ascii=False).encode("utf-8")

    def _forum_list(self) -> Page:
        rows = "".join(f"<tr><td class='subject'><a href='/bbs/thread-{i.key}.html'>"
                       f"{html.escape(i.title)}</a></td><td>{html.escape(i.author)}</td></tr>"
                       for i in self.online("forum"))
        body = f"<h2>百姓话题</h2><table class='threads'>{rows}</table>"
        return 200, "text/html; charset=utf-8", _html("江城论坛 - 百姓话题", body)

    def _bureau_list(self) -> Page:
        links = "".join(f"<li><a href='/sfj/xwfb/{i.key}.html'>{html.escape(i.title)}</a>"
                        f"<span>{self._local(i, '%Y-%m-%d')}</span></li>"
                        for i in self.online("bureau"))
        body = f"<h2>新闻发布</h2><ul class='list'>{links}</ul>"
        return 200, "text/html; charset=utf-8", _html("市司法局 - 新闻发布", body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        internet = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                status, kind, body = internet.page(self.path)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        return Handler


def _mid(item: Item) -> str:
    return str(4900000000000000 + sum(ord(c) * 31 ** n for n, c in enumerate(item.key)))


def _html(title: str, body: str, charset: str = "utf-8") -> bytes:
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='{charset}'>"
            f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
            ).encode("utf-8")


def sources(base_url: str) -> list[dict[str, object]]:
    """The demo's source declarations, as a user writes them in the config."""
    return [
        {"name": "demo_news", "kind": "site", "url": f"{base_url}/news/index.html",
         "platform": "news", "every_minutes": 60,
         "selectors": {"links": "ul.news-list a::attr(href)", "title": "h1.title",
                       "published_at": "div.meta", "content": "div.article"}},
        {"name": "demo_rss", "kind": "feed", "url": f"{base_url}/rss/feed.xml",
         "platform": "news", "every_minutes": 60},
        {"name": "demo_weibo", "kind": "api",
         "url": f"{base_url}/weibo/api/search?q=%E5%85%AC%E8%AF%81",  # q=公证
         "platform": "weibo", "every_minutes": 20,
         "mapping": {"items": "data.cards[].mblog", "text": "text", "id": "mid",
                     "url_template": f"{base_url}/weibo/detail/{{id}}",
                     "author": "user.screen_name", "created_at": "created_at",
                     "reposts": "reposts_count", "comments": "comments_count",
                     "likes": "attitudes_count"}},
        {"name": "demo_forum", "kind": "site", "url": f"{base_url}/bbs/forum-2-1.html",
         "platform": "forum", "every_minutes": 60,
         "selectors": {"links": "td.subject a::attr(href)", "title": "h1.thread-title",
                       "published_at": "div.posted", "author": "div.author",
                       "content": "div.message"}},
        {"name": "bureau_site", "kind": "site", "url": f"{base_url}/sfj/xwfb/index.html",
         "own_channel": True, "every_minutes": 60,
         "selectors": {"links": "ul.list a::attr(href)", "title": "h1.title",
                       "published_at": "div.meta", "content": "div.article"}},
    ]
