"""The real, labelled corpus (``shared/data/corpora/justice_real``), read in place.

The text belongs to its publishers and never enters the project: what the project keeps is
the event-wise split (ids, ``corpus/split.json``) and our label corrections (``id``, field,
old and new value, reason; ``corpus/corrections.jsonl``), applied every time the corpus is
loaded. The held-out side of the split is chosen once and is never used for a choice.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CORPUS_DIR = Path(__file__).parent / "corpus"
SPLIT_PATH = CORPUS_DIR / "split.json"
CORRECTIONS_PATH = CORPUS_DIR / "corrections.jsonl"
RELATIVE = Path("corpora") / "justice_real" / "items.jsonl"
LABEL_FIELDS = ("topic", "sensitive", "severity")
HELD_OUT_FOLDS = (0, 1, 2)  # of SPLIT_FOLDS event-grouped, label-stratified folds
SPLIT_FOLDS = 10
SPLIT_SEED = 20261202


class CorpusError(Exception):
    """The real corpus is absent, or our split or corrections do not fit it."""


@dataclass(frozen=True)
class RealItem:
    id: str
    title: str
    text: str
    url: str
    topic: str
    sensitive: bool
    severity: str
    hard: bool
    script: str
    event: str

    @property
    def group(self) -> str:
        """Reports of one event stay on one side of every split; other items stand alone."""
        return f"event:{self.event}" if self.event else f"item:{self.id}"

    @property
    def site(self) -> str:
        host = urlsplit(self.url).hostname or ""
        return host.removeprefix("www.")


def shared_dir() -> Path | None:
    """``YUQING_SHARED_DATA``, else ``../shared/data`` beside the checkout; None when absent."""
    override = os.environ.get("YUQING_SHARED_DATA")
    path = Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "data"
    return path if path.is_dir() else None


def corpus_path(shared: Path | None = None) -> Path:
    """The corpus file; ``CorpusError`` saying where it was looked for when it is absent."""
    base = shared or shared_dir()
    path = (base / RELATIVE) if base is not None else None
    if path is None or not path.is_file():
        where = path or "../shared/data (or YUQING_SHARED_DATA)"
        raise CorpusError(f"真实语料缺失 / the real corpus is needed and was not found at {where}")
    return path


def _item(record: dict[str, Any]) -> RealItem:
    return RealItem(
        id=str(record["id"]), title=str(record.get("title") or ""),
        text=str(record.get("text") or ""), url=str(record.get("url") or ""),
        topic=str(record["topic"]), sensitive=bool(record["sensitive"]),
        severity=str(record["severity"]), hard=bool(record.get("hard")),
        script=str(record.get("script") or "simplified"), event=str(record.get("event") or ""),
    )  # fmt: skip


@dataclass(frozen=True)
class Correction:
    id: str
    field: str
    old: Any
    new: Any
    reason: str


def load_corrections(path: Path = CORRECTIONS_PATH) -> list[Correction]:
    """Our label corrections; ``CorpusError`` for a line that is not one."""
    out: list[Correction] = []
    if not path.is_file():
        return out
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            fix = Correction(row["id"], row["field"], row["old"], row["new"], row["reason"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CorpusError(f"{path.name} line {number}: not a correction ({exc})") from None
        if fix.field not in LABEL_FIELDS or not str(fix.reason).strip():
            raise CorpusError(f"{path.name} line {number}: field must be one of "
                              f"{', '.join(LABEL_FIELDS)} and a reason is required")
        out.append(fix)
    return out


def apply_corrections(items: Sequence[RealItem], fixes: Iterable[Correction]) -> list[RealItem]:
    """Items with our corrections; a correction whose old value no longer matches the corpus
    (the annotator changed it) or whose id is gone is an error, not silently skipped."""
    by_id = {i.id: i for i in items}
    for fix in fixes:
        item = by_id.get(fix.id)
        if item is None:
            raise CorpusError(f"correction for unknown item {fix.id}")
        if getattr(item, fix.field) != fix.old:
            raise CorpusError(f"correction {fix.id}.{fix.field}: corpus has "
                              f"{getattr(item, fix.field)!r}, correction expects {fix.old!r}")
        by_id[fix.id] = replace(item, **{fix.field: fix.new})
    return [by_id[i.id] for i in items]


def load_real(shared: Path | None = None, corrections: Path = CORRECTIONS_PATH
              ) -> tuple[list[RealItem], dict[str, Any]]:
    """Every item with our corrections applied, and provenance (file hash, counts; no text)."""
    path = corpus_path(shared)
    raw = path.read_bytes()
    items = [_item(json.loads(line)) for line in raw.decode("utf-8").splitlines() if line.strip()]
    fixes = load_corrections(corrections)
    items = apply_corrections(items, fixes)
    provenance = {"file": str(RELATIVE), "sha256": hashlib.sha256(raw).hexdigest(),
                  "items": len(items), "corrections": len(fixes),
                  "corrections_sha256": _sha256_or_none(corrections)}
    return items, provenance


def _sha256_or_none(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


# ---------------------------------------------------------------- the split


def read_split(path: Path = SPLIT_PATH) -> dict[str, list[str]]:
    """The recorded split; an optional ``unused`` list names items left out of both sides
    (small experiments)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return {side: list(data.get(side, [])) for side in ("train", "heldout", "unused")}


def split_items(items: Sequence[RealItem], path: Path = SPLIT_PATH
                ) -> tuple[list[RealItem], list[RealItem]]:
    """The training and held-out parts by the recorded ids; an item the split does not name
    (a grown corpus) is an error: the split is never silently redrawn."""
    split = read_split(path)
    train_ids, held_ids = set(split["train"]), set(split["heldout"])
    unknown = [i.id for i in items if i.id not in train_ids | held_ids | set(split["unused"])]
    if unknown:
        raise CorpusError(f"{len(unknown)} corpus items are in neither side of {path.name} "
                          f"(first {unknown[0]}): extend the split by hand, keeping its held-out part")
    return [i for i in items if i.id in train_ids], [i for i in items if i.id in held_ids]


def draw_split(items: Sequence[RealItem]) -> dict[str, Any]:
    """The one-time event-grouped split, stratified by topic and severity (kept for the record;
    the project uses the stored result, never a fresh draw)."""
    from sklearn.model_selection import StratifiedGroupKFold

    labels = [f"{i.topic}|{i.severity}" for i in items]
    groups = [i.group for i in items]
    folds = StratifiedGroupKFold(SPLIT_FOLDS, shuffle=True, random_state=SPLIT_SEED)
    held: set[str] = set()
    for n, (_, test) in enumerate(folds.split(list(range(len(items))), labels, groups)):
        if n in HELD_OUT_FOLDS:
            held.update(items[k].id for k in test)
    return {
        "rule": (f"StratifiedGroupKFold({SPLIT_FOLDS}, shuffle, random_state={SPLIT_SEED}) over "
                 "topic|severity, grouped by event (an item without one is its own group); "
                 f"folds {list(HELD_OUT_FOLDS)} are held out. Drawn once; never redrawn."),
        "train": sorted(i.id for i in items if i.id not in held),
        "heldout": sorted(held),
    }


def event_set(items: Sequence[RealItem], min_reports: int = 3) -> list[RealItem]:
    """Items of the events reported at least ``min_reports`` times from different sites."""
    sites: dict[str, set[str]] = {}
    for item in items:
        if item.event:
            sites.setdefault(item.event, set()).add(item.site)
    wanted = {e for e, s in sites.items() if len(s) >= min_reports}
    return [i for i in items if i.event in wanted]


def counts(items: Sequence[RealItem]) -> dict[str, Any]:
    """Per topic: not sensitive / sensitive and severities (for reports)."""
    table: dict[str, Counter[str]] = {}
    for item in items:
        row = table.setdefault(item.topic, Counter())
        row["sensitive" if item.sensitive else "not_sensitive"] += 1
        if item.sensitive:
            row[item.severity] += 1
    return {topic: dict(row) for topic, row in sorted(table.items())}
