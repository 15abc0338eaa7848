"""Crawl throughput: the full yuqing crawl against a bare Scrapy spider on the same local site.

Run: ``.venv/bin/python bench/crawl.py`` (``--articles N``, ``--rounds R``, ``--concurrency C``).

* The site: ``--articles`` generated Chinese news articles (3–8 KB of HTML each, varied titles,
  bodies, dates in several printed forms, authors and sources), reached through list pages of 50
  links with a next-page link. It is served by a threaded HTTP/1.1 server in its own process, so
  it never competes with a crawler for the GIL; its CPU time per run is reported to show whether
  it, rather than the crawler, was the limit.
* ``bare``: a Scrapy spider that follows the same list pages and article links and does nothing
  with the articles.
* ``full``: ``crawler.runner.run_crawl`` on a ``site`` source: automatic article extraction,
  canonical URLs, exact-duplicate checks and batched storage in a fresh SQLite file.

Both run in their own subprocess with the same Scrapy settings (yuqing's, with AutoThrottle off and
one concurrency for the crawl and the domain); the clock runs from building the CrawlerProcess to
the reactor stopping. Rounds alternate bare/full; the ratio compares the median rates.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

PER_LIST = 50
LINKS = "ul.news-list a::attr(href)"
NEXT = "a.next::attr(href)"
CLK_TCK = 100  # os.sysconf("SC_CLK_TCK") on Linux

# ---------------------------------------------------------------------------------------------
# The generated site

PLACES = ["市", "东城区", "西城区", "高新区", "经开区", "南湖区", "北山县", "青石镇", "滨江街道", "城关镇"]
ORGANS = ["司法局", "公证处", "法律援助中心", "人民调解委员会", "社区矫正中心", "律师协会",
          "司法所", "仲裁委员会", "公共法律服务中心", "普法办"]
EVENTS = ["开展“法律进社区”宣传活动", "发布年度法治政府建设报告", "推出预约办证便民措施",
          "召开律师行业警示教育大会", "化解一起拖欠农民工工资纠纷", "通报社区矫正对象脱管事件",
          "回应网友关于公证收费的投诉", "举办人民调解员业务培训班", "开通12348法律服务热线夜间服务",
          "启动“八五”普法中期检查", "处理一起律师违规收费举报", "发布法律援助典型案例"]
ROLES = ["工作人员", "调解员", "公证员", "执业律师", "社区干部", "志愿者", "当事人", "居民代表",
         "相关负责人", "值班律师", "网格员", "援助律师", "矫正社工", "普法讲师", "窗口人员"]
VERBS = ["介绍", "表示", "指出", "强调", "透露", "回应称", "解释说", "坦言", "建议", "提醒", "通报",
         "承诺", "说明", "补充道"]
ACTIONS = ["上门走访", "电话回访", "现场核实", "调取材料", "组织听证", "召开协调会", "开展专项检查",
           "约谈负责人", "发放明白纸", "设立咨询台", "延长办公时间", "开通绿色通道", "公开办理进度",
           "复核收费明细", "联合住建部门", "邀请人大代表旁听", "向当事人送达告知书", "梳理积案清单"]
OBJECTS = ["农民工欠薪问题", "物业服务合同纠纷", "遗产继承公证", "婚姻家庭矛盾", "交通事故赔偿",
           "医疗损害争议", "房屋租赁押金", "劳动合同解除", "邻里通道占用", "宅基地边界",
           "网络购物退款", "预付卡消费维权", "养老诈骗防范", "未成年人保护", "校园周边安全",
           "法律援助申请材料", "公证费用标准", "律师代理收费", "社区矫正报到", "行政复议受理"]
RESULTS = ["双方当场签订调解协议", "涉事企业承诺月底前付清", "群众对处理结果表示满意",
           "相关材料已移送有关部门", "办理时限由{m}个工作日压缩至{k}个", "挽回经济损失约{n}元",
           "累计服务群众{n}人次", "问题仍在进一步核查中", "已责令限期整改", "下周将公布处理结果",
           "涉及{m}户居民的诉求得到解决", "当事人撤回了网上投诉"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力国春梅鑫宇浩然晨曦子涵一鸣"
AUTHORS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷", "徐鹏",
           "孙丽"]
OUTLETS = ["本站", "市司法局", "法治日报", "新华网", "人民网", "晨报", "法制晚报", "新闻客户端"]
NAV = ["首页", "政务公开", "法治动态", "公共法律服务", "普法宣传", "政策法规", "互动交流", "办事指南",
       "通知公告", "专题专栏", "媒体聚焦", "基层动态"]


def _title(rng: random.Random, n: int) -> str:
    return f"{rng.choice(PLACES)}{rng.choice(ORGANS)}{rng.choice(EVENTS)}（第{n}期）"


def _printed_time(when: datetime, form: int) -> str:
    """The publish time in one of the forms Chinese sites print."""
    if form == 0:
        return when.strftime("%Y-%m-%d %H:%M")
    if form == 1:
        return f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}"
    if form == 2:
        return when.strftime("%Y/%m/%d %H:%M:%S")
    return when.strftime("%Y.%m.%d")


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def _sentence(rng: random.Random) -> str:
    n, m = rng.randint(20, 90000), rng.randint(2, 60)
    when = f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日{rng.choice(['上午', '下午', '晚间', ''])}"
    result = rng.choice(RESULTS).format(n=n, m=m, k=max(1, m // 3))
    place, organ, obj, act = (rng.choice(PLACES), rng.choice(ORGANS), rng.choice(OBJECTS),
                              rng.choice(ACTIONS))
    role, who, verb = rng.choice(ROLES), _person(rng), rng.choice(VERBS)
    forms = [
        f"{when}，{place}{organ}{role}{who}针对{obj}{act}，{result}。",
        f"“{obj}涉及{m}名群众，我们{act}，{rng.choice(ACTIONS)}。”{role}{who}{verb}。",
        f"据统计，{place}今年已办理{obj}相关事项{n}件，其中{m}件通过{act}化解。",
        f"{who}是{place}的一名{role}，从业{m}年来经手{obj}{n % 900}起。",
        f"记者从{organ}获悉，{result}，下一步还将{act}。",
        f"不少市民在留言板反映{obj}，{organ}随即{act}并于{when}给予答复。",
        f"{verb}时，{who}提到{obj}往往证据不足，需要{act}才能厘清责任。",
        f"截至{when}，{place}{organ}共{act}{m}次，{result}。",
    ]
    return rng.choice(forms)


def _paragraph(rng: random.Random) -> str:
    return "".join(_sentence(rng) for _ in range(rng.randint(2, 4)))


def article_page(n: int, seed: int, articles: int) -> tuple[str, bytes]:
    """Article ``n`` as (title, HTML bytes); the same for the same seed."""
    rng = random.Random(seed * 1_000_003 + n)
    title = _title(rng, n)
    when = datetime(2025, 1, 1, 8, 0) + timedelta(minutes=rng.randint(0, 600 * 24 * 60))
    author, outlet = rng.choice(AUTHORS), rng.choice(OUTLETS)
    paragraphs = "".join(f"<p>{_paragraph(rng)}</p>\n" for _ in range(rng.randint(4, 12)))
    nav = "".join(f"<li><a href='/col/{i}.html'>{name}</a></li>" for i, name in enumerate(NAV))
    related = "".join(
        f"<li><a href='/art/{rng.randrange(articles)}.html'>{_title(rng, rng.randrange(articles))}"
        "</a></li>" for _ in range(5))
    html = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{title}_{rng.choice(PLACES)}司法行政网</title>
<meta name="keywords" content="司法行政,{author},{outlet}">
<link rel="stylesheet" href="/static/site.css"></head>
<body><div class="header"><img src="/static/logo.png" alt="司法行政网"><ul class="nav">{nav}</ul></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/list/1.html">法治动态</a> &gt; 正文</div>
<div class="article"><h1>{title}</h1>
<div class="info"><span>发布时间：{_printed_time(when, n % 4)}</span> <span>来源：{outlet}</span>
<span>作者：{author}</span> <span>浏览次数：{rng.randint(10, 9999)}</span></div>
<div class="content" id="zoom">
{paragraphs}</div>
<div class="editor">（责任编辑：{rng.choice(AUTHORS)}）</div></div>
<div class="related"><h3>相关阅读</h3><ul>{related}</ul></div>
<div class="footer"><p>主办：{rng.choice(PLACES)}司法局 地址：人民路{rng.randint(1, 300)}号 电话：12348</p>
<p>备案号：某ICP备{rng.randint(10000000, 99999999)}号</p></div></body></html>"""
    return title, html.encode("utf-8")


def build_site(articles: int, seed: int) -> dict[str, bytes]:
    """Every path of the site with its body: robots.txt, list pages and articles."""
    site = {"/robots.txt": b"User-agent: *\nDisallow: /admin/\n"}
    titles: list[str] = []
    for n in range(articles):
        title, body = article_page(n, seed, articles)
        titles.append(title)
        site[f"/art/{n}.html"] = body
    pages = (articles + PER_LIST - 1) // PER_LIST
    for p in range(pages):
        first = p * PER_LIST
        items = "".join(f"<li><a href='/art/{n}.html'>{titles[n]}</a><span>2025-06-01</span></li>"
                        for n in range(first, min(first + PER_LIST, articles)))
        nxt = f"<a class='next' href='/list/{p + 2}.html'>下一页</a>" if p + 1 < pages else ""
        site[f"/list/{p + 1}.html"] = (
            f"<html><head><meta charset='utf-8'><title>法治动态 第{p + 1}页</title></head><body>"
            f"<ul class='news-list'>{items}</ul><div class='pager'>{nxt}</div></body></html>"
        ).encode()
    return site


class SiteHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real web server would
    # headers and body go out in two writes; with Nagle's algorithm the body waits for the
    # client's delayed ACK (≈ 40 ms per response, measured: 199 pages/s at 3 % server CPU)
    disable_nagle_algorithm = True
    site: dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802
        body = self.site.get(self.path.split("?", 1)[0])
        status = 200 if body is not None else 404
        body = body if body is not None else b"not found"
        kind = "text/plain" if self.path.endswith(".txt") or status == 404 else "text/html; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


class SiteServer(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


def serve(articles: int, seed: int) -> None:
    """The ``--serve`` child: build the site, print the port, serve until killed."""
    SiteHandler.site = build_site(articles, seed)
    server = SiteServer(("127.0.0.1", 0), SiteHandler)
    sizes = [len(b) for path, b in SiteHandler.site.items() if path.startswith("/art/")]
    print(json.dumps({"port": server.server_address[1], "min": min(sizes), "max": max(sizes),
                      "mean": sum(sizes) / len(sizes)}), flush=True)
    server.serve_forever()


# ---------------------------------------------------------------------------------------------
# The two crawls (each in its own subprocess)


def _overrides(concurrency: int) -> dict[str, object]:
    from crawler.sources import CrawlSettings

    return CrawlSettings(autothrottle=False, concurrent_requests=concurrency,
                         concurrent_per_domain=concurrency).scrapy_overrides()


def run_bare(base: str, concurrency: int, db_url: str) -> dict[str, Any]:
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import Response

    from crawler.runner import scrapy_settings_for

    class BareSpider(scrapy.Spider):
        name = "bare"

        async def start(self) -> AsyncIterator[scrapy.Request]:
            yield scrapy.Request(f"{base}/list/1.html", callback=self.parse, dont_filter=True)

        def parse(self, response: Response, **_: Any) -> Iterator[scrapy.Request]:
            for href in response.css(LINKS).getall():
                yield scrapy.Request(response.urljoin(href), callback=self.ignore)
            nxt = response.css(NEXT).get()
            if nxt:
                yield response.follow(nxt, callback=self.parse)

        def ignore(self, response: Response) -> None:
            return None

    settings = scrapy_settings_for(db_url, _overrides(concurrency))
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    started = time.monotonic()
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    crawler.settings.set("ROBOTSTXT_OBEY", True, priority="spider")  # as run_crawl does
    process.crawl(crawler)
    process.start()
    seconds = time.monotonic() - started
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    return {"pages": int(stats.get("response_received_count", 0)), "seconds": seconds,
            "stored": 0, "errors": int(stats.get("log_count/ERROR", 0))}


def run_full(base: str, concurrency: int, db_url: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from crawler.models import Document
    from crawler.runner import run_crawl
    from crawler.sources import Selectors, SourceConfig
    from yuqing.core.db import make_engine, make_sessionmaker, session_scope
    from yuqing.core.migrate import upgrade

    upgrade(db_url)
    source = SourceConfig(name="bench", kind="site", url=f"{base}/list/1.html", max_pages=1000,
                          selectors=Selectors(links=LINKS, next_page=NEXT))
    started = time.monotonic()
    runs = run_crawl(db_url, [source], _overrides(concurrency))
    seconds = time.monotonic() - started
    engine = make_engine(db_url)
    with session_scope(make_sessionmaker(engine)) as session:
        stored = session.scalar(select(func.count()).select_from(Document)) or 0
        dated = session.scalar(select(func.count()).select_from(Document)
                               .where(Document.published_at.is_not(None))) or 0
        reprints = session.scalar(select(func.count()).select_from(Document)
                                  .where(Document.near_duplicate_of_id.is_not(None))) or 0
    return {"pages": runs[0].pages, "seconds": seconds, "stored": stored, "dated": dated,
            "reprints": reprints, "errors": runs[0].errors, "new": runs[0].new}


def run_parts(articles: int, seed: int, db_url: str, sample: int) -> dict[str, Any]:
    """The full crawl's own work outside Scrapy, timed in-process on the first ``sample``
    articles: decoding + extraction per page, and storage (dedup, near-duplicate
    fingerprints, snapshot, batched commits of 200) per document."""
    from datetime import timezone

    from crawler.encoding import decode_html
    from crawler.extract import SiteSelectors, extract_article
    from crawler.store import Item, store_items
    from yuqing.core.db import make_engine, make_sessionmaker, session_scope
    from yuqing.core.migrate import upgrade

    now = datetime.now(timezone.utc)  # a bench, not core code: one reading for the run
    pages = [(f"http://127.0.0.1/art/{n}.html", article_page(n, seed, articles)[1])
             for n in range(min(sample, articles))]
    started = time.perf_counter()
    items = []
    for url, body in pages:
        draft = extract_article(decode_html(body, "utf-8").text, url, SiteSelectors(), now=now)
        items.append(Item(url=url, title=draft.title, content=draft.content,
                          published_at=draft.published_at, author=draft.author, raw=body))
    extract_s = time.perf_counter() - started
    upgrade(db_url)
    sessions = make_sessionmaker(make_engine(db_url))
    started = time.perf_counter()
    for first in range(0, len(items), 200):
        with session_scope(sessions) as session:
            store_items(session, None, items[first:first + 200], now)
    store_s = time.perf_counter() - started
    return {"extract_ms": 1000 * extract_s / len(pages), "store_ms": 1000 * store_s / len(items),
            "sample": len(pages)}


def child(kind: str, base: str, concurrency: int, db_url: str, args: argparse.Namespace) -> None:
    if kind == "parts":
        print(json.dumps(run_parts(args.articles, args.seed, db_url, 1000)), flush=True)
        return
    run = run_bare if kind == "bare" else run_full
    result = run(base, concurrency, db_url)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["rss_mb"] = usage.ru_maxrss / 1024
    result["cpu"] = usage.ru_utime + usage.ru_stime  # includes start-up and imports
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------------------------------------
# The parent: start the server, alternate the crawls, print the table


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def measure(kind: str, base: str, concurrency: int, workdir: Path, round_no: int,
            server_pid: int) -> dict[str, Any]:
    db_url = f"sqlite:///{workdir / f'{kind}-{round_no}.db'}"
    before = cpu_seconds(server_pid)
    done = subprocess.run([sys.executable, __file__, "--child", kind, "--base", base,
                           "--concurrency", str(concurrency), "--db", db_url],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"{kind} crawl failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["server_cpu"] = cpu_seconds(server_pid) - before
    result["kind"], result["round"] = kind, round_no
    result["rate"] = result["pages"] / result["seconds"]
    return result


def parts(workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", "parts", "--articles",
                           str(args.articles), "--seed", str(args.seed),
                           "--db", f"sqlite:///{workdir / 'parts.db'}"],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"parts failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def table(results: list[dict[str, Any]], site: dict[str, Any], args: argparse.Namespace,
          split: dict[str, Any]) -> str:
    lines = [f"site: {args.articles} articles ({site['min'] / 1024:.1f}–{site['max'] / 1024:.1f} KB, "
             f"mean {site['mean'] / 1024:.1f} KB), {(args.articles + PER_LIST - 1) // PER_LIST} "
             f"list pages; concurrency {args.concurrency} (per domain too), AutoThrottle off",
             "",
             f"{'run':<8}{'round':>6}{'pages':>8}{'seconds':>9}{'pages/s':>9}{'stored':>8}"
             f"{'dated':>7}{'reprints':>9}{'crawler CPU s':>14}{'peak RSS MB':>13}{'server CPU %':>14}"]
    for r in results:
        lines.append(f"{r['kind']:<8}{r['round']:>6}{r['pages']:>8}{r['seconds']:>9.2f}"
                     f"{r['rate']:>9.1f}{r['stored']:>8}{r.get('dated', '-'):>7}"
                     f"{r.get('reprints', '-'):>9}{r['cpu']:>14.1f}{r['rss_mb']:>13.1f}{100 * r['server_cpu'] / r['seconds']:>14.0f}")
    bare = statistics.median(r["rate"] for r in results if r["kind"] == "bare")
    full = statistics.median(r["rate"] for r in results if r["kind"] == "full")
    lines += ["", f"median pages/s: bare {bare:.1f}, full {full:.1f}; "
              f"ratio full/bare = {full / bare:.2f} (target >= 0.80)"]
    cpu = {kind: statistics.median(r["cpu"] / r["pages"] * 1000 for r in results
                                   if r["kind"] == kind) for kind in ("bare", "full")}
    lines += [f"crawler CPU per page (incl. start-up): bare {cpu['bare']:.2f} ms, "
              f"full {cpu['full']:.2f} ms",
              f"full crawl's own work, in-process on {split['sample']} articles: extraction "
              f"{split['extract_ms']:.2f} ms/page, storage {split['store_ms']:.2f} ms/document"]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["bare", "full", "parts"], help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.articles, args.seed)
        return 0
    if args.child:
        child(args.child, args.base, args.concurrency, args.db, args)
        return 0
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--articles",
                               str(args.articles), "--seed", str(args.seed)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        site = json.loads(server.stdout.readline())
        base = f"http://127.0.0.1:{site['port']}"
        results = []
        with tempfile.TemporaryDirectory(prefix="yuqing-bench-") as tmp:
            for round_no in range(1, args.rounds + 1):
                for kind in ("bare", "full"):
                    results.append(measure(kind, base, args.concurrency, Path(tmp), round_no,
                                           server.pid))
            split = parts(Path(tmp), args)
        print(table(results, site, args, split))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
