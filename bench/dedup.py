"""Dedup and storage at scale: time per document and peak memory while storing N documents
(10 % of them reprints of earlier ones) into a fresh SQLite database.

    .venv/bin/python bench/dedup.py [N ...]     (default: 10000 100000)
"""

from __future__ import annotations

import gzip
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.store import Item, store_items  # noqa: E402
from yuqing.core.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from yuqing.core.migrate import upgrade  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "corpora"
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def headlines() -> list[str]:
    """Real headlines (read in place) to compose article-length bodies from."""
    lines: list[str] = []
    toutiao = SHARED / "toutiao_headlines_20k" / "toutiao_cat_data.dev.txt.gz"
    with gzip.open(toutiao, "rt", encoding="utf-8") as handle:
        lines += [row.split("_!_")[3] for row in handle if row.count("_!_") >= 3]
    thuc = SHARED / "thucnews_titles_20k" / "dev.txt"
    lines += [row.split("\t")[0] for row in thuc.read_text("utf-8").splitlines() if row]
    return lines


def documents(n: int, rng: random.Random, pool: list[str]) -> list[Item]:
    items: list[Item] = []
    for i in range(n):
        if items and rng.random() < 0.1:
            base = items[rng.randrange(len(items))]
            body = "转载自某网\n" + base.content[: int(len(base.content) * 0.85)] + "\n责任编辑：某"
        else:
            body = "。".join(rng.choice(pool) for _ in range(12))
        items.append(Item(f"http://127.0.0.1/bench/{i}", body[:20], body,
                          T0 + timedelta(seconds=i)))
    return items


def run(n: int, pool: list[str]) -> tuple[float, float, int, int]:
    items = documents(n, random.Random(n), pool)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        new = reprints = 0
        start = time.perf_counter()
        for offset in range(0, n, 500):
            with session_scope(sessions) as session:
                result = store_items(session, None, items[offset:offset + 500], T0)
                new += len(result.new)
                reprints += result.reprints
        elapsed = time.perf_counter() - start
        engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return elapsed / n * 1000, peak_mb, new, reprints


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    if not SHARED.is_dir():
        print(f"shared corpora not found at {SHARED}; nothing to measure")
        return
    pool = headlines()
    table = Table(title="dedup + storage (SQLite, batches of 500)")
    for col in ("documents", "ms / document", "peak RSS MB", "stored", "reprints linked"):
        table.add_column(col, justify="right")
    for n in sizes:
        per_doc, peak, new, reprints = run(n, pool)
        table.add_row(f"{n:,}", f"{per_doc:.2f}", f"{peak:.0f}", f"{new:,}", f"{reprints:,}")
    Console().print(table)


if __name__ == "__main__":
    main()
