"""Article-extraction benchmark: ours vs trafilatura vs GNE on the shared real pages.

Run: ``.venv/bin/python bench/extract.py`` (peers come from the ``bench`` extra:
``trafilatura>=2,<3``, ``gne>=0.3,<0.5``; a missing peer is reported and skipped).

Every extractor gets the same decoded text (``crawler.encoding.decode_html`` on the raw bytes) and
the page URL from the manifest. Comparison rules, identical for every extractor:

* Title: both sides are NFKC-normalised and all whitespace is removed; a title counts when it equals
  the expected title, or the expected title without its site suffix (the text before the first
  ``_``, ``|``, `` - ``, `` — `` separator). That second form exists because the Readability
  fixtures keep suffixes such as ``_光明网`` while an extractor may rightly drop them; it never
  accepts an extractor's own unstripped suffix against a clean label.
* Publish time: both sides are read as Asia/Shanghai wall-clock time (an aware value is converted
  first) and compared to the minute; a date-only expectation compares the date only.
* Body: character F1 over the multiset of characters after removing all whitespace
  (NFKC-normalised first so full-width spaces and ``&nbsp;`` cannot matter).

Groups: ``human+benchmark`` (expected_kind human_labeled / benchmark_ground_truth),
``+test_expectation`` (adds the Readability / newspaper4k / Gerapy fixtures), and ``all`` (adds
GNE's own unverified 2019 output, which has known-wrong values).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from crawler.encoding import decode_html  # noqa: E402
from crawler.extract import extract_article  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
GROUPS = ("human+benchmark", "+test_expectation", "all")
SUFFIX_SEPARATORS = re.compile(r"_|\||\s-\s|\s—\s|－")
EXPECTED_TIME = re.compile(
    r"(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?"
)


@dataclass(frozen=True)
class Output:
    """What one extractor returned for one page (time as an aware datetime or a raw string)."""

    title: str
    published: datetime | str | None
    body: str


@dataclass(frozen=True)
class Page:
    name: str
    kind: str
    html: str
    url: str
    expected: dict[str, Any]
    body: str | None


@dataclass
class Score:
    """Per-extractor running totals for one group."""

    title: list[bool] = field(default_factory=list)
    time: list[bool] = field(default_factory=list)
    f1: list[float] = field(default_factory=list)
    snippets: list[bool] = field(default_factory=list)


def shared_pages_dir() -> Path | None:
    """``$YUQING_SHARED_DATA/pages`` or ``../shared/data/pages`` beside the checkout; None if absent."""
    override = os.environ.get("YUQING_SHARED_DATA")
    base = Path(override) if override else REPO_ROOT.parent / "shared" / "data"
    pages = base / "pages"
    return pages if (pages / "manifest.json").is_file() else None


def group_of(kind: str | None) -> int | None:
    """Index of the narrowest group a page belongs to; None for pages without labels."""
    if not kind:
        return None
    if kind.startswith(("human_labeled", "benchmark_ground_truth")):
        return 0
    if kind.startswith("test_expectation"):
        return 1
    return 2


def load_pages(folder: Path) -> list[Page]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    pages = []
    for entry in manifest["pages"]:
        expected = entry.get("expected") or {}
        content_file = expected.get("content_file")
        body = (folder / content_file).read_text(encoding="utf-8") if content_file else None
        html = decode_html((folder / entry["file"]).read_bytes(), None).text
        url = entry.get("url") or f"http://{entry.get('site') or 'example.invalid'}/"
        pages.append(
            Page(entry["file"], entry.get("expected_kind") or "", html, url, expected, body)
        )
    return pages


def norm_title(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def title_matches(got: str, expected: str) -> bool:
    stripped = SUFFIX_SEPARATORS.split(expected, maxsplit=1)[0]
    return norm_title(got) != "" and norm_title(got) in {norm_title(expected), norm_title(stripped)}


def parse_expected_time(text: str) -> tuple[date, tuple[int, int] | None] | None:
    """The expected wall-clock date and (hour, minute) when given; None when unreadable."""
    m = EXPECTED_TIME.search(text)
    if m is None:
        return None
    day = date(int(m[1]), int(m[2]), int(m[3]))
    if m[4] is None or text.strip().endswith("T00:00:00"):
        # newspaper4k's fixtures are date-only, serialised with a midnight time
        return day, None
    return day, (int(m[4]), int(m[5]))


def local_time(value: datetime | str | None) -> tuple[date, tuple[int, int] | None] | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        local = value.astimezone(SHANGHAI) if value.tzinfo else value
        return local.date(), (local.hour, local.minute)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("/", "-"))
    except ValueError:
        return parse_expected_time(value)
    local = parsed.astimezone(SHANGHAI) if parsed.tzinfo else parsed
    return local.date(), (local.hour, local.minute)


def time_matches(got: datetime | str | None, expected: str) -> bool:
    want, have = parse_expected_time(expected), local_time(got)
    if want is None or have is None or want[0] != have[0]:
        return False
    return want[1] is None or want[1] == have[1]


def char_f1(got: str, expected: str) -> float:
    def chars(text: str) -> Counter[str]:
        return Counter(re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)))

    a, b = chars(got), chars(expected)
    common = sum((a & b).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def snippets_ok(body: str, expected: dict[str, Any]) -> bool | None:
    must, must_not = expected.get("content_must_contain"), expected.get("content_must_not_contain")
    if not must and not must_not:
        return None
    flat = re.sub(r"\s+", "", body)
    return all(re.sub(r"\s+", "", s) in flat for s in must or []) and not any(
        re.sub(r"\s+", "", s) in flat for s in must_not or []
    )


def ours(now: datetime) -> Callable[[str, str], Output]:
    def run(html: str, url: str) -> Output:
        draft = extract_article(html, url, now=now)
        return Output(draft.title, draft.published_at, draft.content)

    return run


def peers() -> tuple[dict[str, Callable[[str, str], Output]], list[str]]:
    """Available peer extractors, and a message for each one that is not installed."""
    found: dict[str, Callable[[str, str], Output]] = {}
    missing: list[str] = []
    try:
        import trafilatura

        def run_trafilatura(html: str, url: str) -> Output:
            doc = trafilatura.bare_extraction(
                html,
                url=url,
                with_metadata=True,
                date_extraction_params={
                    "extensive_search": True,
                    "original_date": True,
                    "outputformat": "%Y-%m-%d %H:%M:%S",
                },
            )
            if doc is None:
                return Output("", None, "")
            fields = doc if isinstance(doc, dict) else doc.as_dict()
            return Output(fields.get("title") or "", fields.get("date"), fields.get("text") or "")

        found["trafilatura"] = run_trafilatura
    except ImportError:
        missing.append("trafilatura 未安装（pip install 'trafilatura>=2,<3'），跳过")
    try:
        from gne import GeneralNewsExtractor

        def run_gne(html: str, url: str) -> Output:
            result = GeneralNewsExtractor().extract(html)
            return Output(result.get("title") or "", result.get("publish_time"), result.get("content") or "")

        found["gne"] = run_gne
    except ImportError:
        missing.append("gne 未安装（pip install 'gne>=0.3,<0.5'），跳过")
    return found, missing


def run_one(fn: Callable[[str, str], Output], page: Page) -> tuple[Output, float, str | None]:
    start = time.perf_counter()
    try:
        out = fn(page.html, page.url)
    except Exception as exc:  # a peer crashing on a page is a result to report, not a bench failure
        return Output("", None, ""), time.perf_counter() - start, f"{type(exc).__name__}: {exc}"
    return out, time.perf_counter() - start, None


def score_page(scores: list[Score], page: Page, out: Output) -> None:
    g = group_of(page.kind)
    if g is None:
        return
    exp = page.expected
    for target in scores[g:]:
        if exp.get("title"):
            target.title.append(title_matches(out.title, exp["title"]))
        if exp.get("publish_time"):
            target.time.append(time_matches(out.published, exp["publish_time"]))
        if page.body is not None:
            target.f1.append(char_f1(out.body, page.body))
        ok = snippets_ok(out.body, exp)
        if ok is not None:
            target.snippets.append(ok)


def rate(values: list[bool]) -> str:
    return f"{sum(values) / len(values):.3f} ({sum(values)}/{len(values)})" if values else "—"


def mean(values: list[float]) -> str:
    return f"{sum(values) / len(values):.3f} (n={len(values)})" if values else "—"


def print_table(
    scores: dict[str, list[Score]], timing: dict[str, list[float]], errors: dict[str, int]
) -> None:
    header = f"{'group':<18} {'extractor':<12} {'title exact':<16} {'time exact':<16} {'body char-F1':<16} {'snippets':<12}"
    print(header)
    print("-" * len(header))
    for gi, group in enumerate(GROUPS):
        for name, per_group in scores.items():
            s = per_group[gi]
            print(
                f"{group:<18} {name:<12} {rate(s.title):<16} {rate(s.time):<16} "
                f"{mean(s.f1):<16} {rate(s.snippets):<12}"
            )
    print()
    print(f"{'extractor':<12} {'pages':>5} {'errors':>6} {'mean ms/page':>13} {'max ms/page':>12}")
    for name, times in timing.items():
        print(
            f"{name:<12} {len(times):>5} {errors[name]:>6} "
            f"{1000 * sum(times) / len(times):>13.1f} {1000 * max(times):>12.1f}"
        )


def main() -> int:
    folder = shared_pages_dir()
    if folder is None:
        print("跳过：未找到共享数据 shared/data/pages（可设置 YUQING_SHARED_DATA）")
        return 0
    pages = load_pages(folder)
    # the bench is an edge: it may read the real clock, and passes it down like any caller
    extractors = {"ours": ours(datetime.now(timezone.utc))}
    found, missing = peers()
    extractors.update(found)
    for message in missing:
        print(message)
    scores = {name: [Score() for _ in GROUPS] for name in extractors}
    timing: dict[str, list[float]] = {name: [] for name in extractors}
    errors = dict.fromkeys(extractors, 0)
    verbose = "-v" in sys.argv[1:]
    for page in pages:
        for name, fn in extractors.items():
            out, elapsed, error = run_one(fn, page)
            timing[name].append(elapsed)
            errors[name] += error is not None
            score_page(scores[name], page, out)
            if verbose:
                print_detail(name, page, out, error)
    print(f"{len(pages)} pages from {folder}")
    print_table(scores, timing, errors)
    return 0


def print_detail(name: str, page: Page, out: Output, error: str | None) -> None:
    exp = page.expected
    parts = [f"{page.name:<42} {name:<12}"]
    if exp.get("title"):
        parts.append(f"title={'ok' if title_matches(out.title, exp['title']) else 'NO ' + repr(out.title)}")
    if exp.get("publish_time"):
        ok = time_matches(out.published, exp["publish_time"])
        parts.append(f"time={'ok' if ok else 'NO ' + str(out.published) + ' want ' + exp['publish_time']}")
    if page.body is not None:
        parts.append(f"f1={char_f1(out.body, page.body):.3f}")
    if error:
        parts.append(f"error={error}")
    print(" ".join(parts))


if __name__ == "__main__":
    raise SystemExit(main())
