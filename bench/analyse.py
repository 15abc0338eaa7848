"""Analysis benchmark: one command, one table.

    .venv/bin/python bench/analyse.py [--sizes 10000,100000]

Each stage runs in its own child process pinned to one core, so the peak resident memory
(ru_maxrss) belongs to that stage alone. Texts are ~200-character posts built from real Weibo
posts and headlines in shared/data, read in place (nothing is copied into the project).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("YUQING_SHARED_DATA", REPO.parent / "shared" / "data"))
POST_CHARS = 200


def source_lines() -> list[str]:
    corpora = SHARED / "corpora"
    with gzip.open(corpora / "weibo_covid19_emotion" / "labeledData.csv.gz", "rt", encoding="utf-8-sig") as f:
        weibo = [row[0] for row in list(csv.reader(io.StringIO(f.read())))[1:] if row]
    with gzip.open(corpora / "toutiao_headlines_20k" / "toutiao_cat_data.test.txt.gz", "rt", encoding="utf-8") as f:
        toutiao = [line.split("_!_")[3] for line in f if line.count("_!_") >= 4]
    thuc = [
        line.split("\t")[0]
        for line in (corpora / "thucnews_titles_20k" / "test.txt").read_text(encoding="utf-8").splitlines()
    ]
    return [t.strip() for t in weibo + toutiao + thuc if t.strip()]


def posts(n: int, seed: int = 0) -> list[str]:
    """n distinct ~200-character posts: random real lines joined until long enough."""
    lines, rng = source_lines(), random.Random(seed)
    out = []
    for _ in range(n):
        parts: list[str] = []
        while sum(map(len, parts)) < POST_CHARS:
            parts.append(rng.choice(lines))
        out.append("，".join(parts)[:POST_CHARS])
    return out


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


class Timer:
    """Wall and CPU seconds of a block. Rates use CPU time: the process is pinned to one core,
    and on a shared machine the wall clock also counts time spent waiting for that core."""

    def __enter__(self) -> Timer:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_segment(n: int) -> dict[str, Any]:
    from analysis.text import _segmenter, build_jieba, engine_name, normalise, segment

    texts = [normalise(t) for t in posts(n)]
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    _segmenter()
    with Timer() as ours:
        for text in texts:
            segment(text)
    reference = build_jieba()
    reference.cut("预热")
    with Timer() as ref:
        for text in texts:
            reference.cut(text)
    return {
        "rows": [
            [f"segment ({engine_name()})", n, ours.cpu, ours.wall, f"{megabytes / ours.cpu:.1f} MB/s"],
            ["segment (jieba, reference)", n, ref.cpu, ref.wall, f"{megabytes / ref.cpu:.1f} MB/s"],
        ]
    }


def stage_classify(n: int) -> dict[str, Any]:
    from analysis.classify import active_model, classify_texts
    from analysis.schemes import default_scheme_set

    items = [{"text": t} for t in posts(n)]
    model, schemes = active_model(), default_scheme_set()
    list(classify_texts(items[:50], model, schemes))  # warm: segmenter, OpenCC, feature names
    with Timer() as timer:
        results = list(classify_texts(items, model, schemes))
    sensitive = sum(r["sensitive"] for r in results)
    note = f"{sensitive / n:.1%} flagged sensitive"
    return {"rows": [["classify_texts (with explanations)", n, timer.cpu, timer.wall, note]]}


def stage_full(n: int) -> dict[str, Any]:
    from analysis.classify import active_model, classify_texts
    from analysis.cluster import ClusterDoc, Clusterer, grade, load_policy
    from analysis.models import Severity
    from analysis.schemes import default_scheme_set
    from analysis.text import normalise

    texts = posts(n)
    model, schemes = active_model(), default_scheme_set()
    end = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)
    step = timedelta(hours=48) / n
    clusterer = Clusterer(policy=load_policy(), idf=model.word_idf)
    timer = Timer().__enter__()
    results = classify_texts(({"text": t} for t in texts), model, schemes)
    for i, (text, result) in enumerate(zip(texts, results)):
        at = end - timedelta(hours=48) + step * i
        doc = ClusterDoc(
            id=str(i), text=normalise(text), fetched_at=at, published_at=at,
            source=f"s{i % 500}", severity=Severity(result["severity"]), topic=result["topic"],
        )  # fmt: skip
        cluster, _ = clusterer.add(doc, at)
        grade(cluster, clusterer.policy, at)
    timer.__exit__()
    note = f"{len(clusterer.clusters)} clusters"
    row = ["full analysis (normalise, segment, classify, cluster)", n, timer.cpu, timer.wall, note]
    return {"rows": [row]}


STAGES = {"segment": stage_segment, "classify": stage_classify, "full": stage_full}


def run_child(stage: str, n: int) -> list[list[Any]]:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, __file__, "--child", stage, "--n", str(n)],
        capture_output=True, text=True, env=env, cwd=REPO, check=True,
    )  # fmt: skip
    rows: list[list[Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--child")
    parser.add_argument("--n", type=int, default=10000)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(REPO))
        pin_one_core()
        result = STAGES[args.child](args.n)
        print(json.dumps([row + [peak_mb()] for row in result["rows"]], ensure_ascii=False))
        return
    plan = [("segment", 10000), ("classify", 10000)] + [
        ("full", int(s)) for s in args.sizes.split(",")
    ]
    print(f"{'stage':<56}{'docs':>8}{'cpu s':>8}{'wall s':>8}{'docs/s':>9}{'peak MB':>9}  note")
    for stage, n in plan:
        for name, docs, cpu, wall, note, peak in run_child(stage, n):
            print(f"{name:<56}{docs:>8}{cpu:>8.2f}{wall:>8.2f}{docs / cpu:>9.0f}{peak:>9.0f}  {note}")
    print("docs/s = documents per CPU second on one pinned core; peak MB = the stage's max RSS")


if __name__ == "__main__":
    main()
