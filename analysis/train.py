"""Training and evaluation: corpus loading with provenance, the held-out split, cross-validation,
baselines, model versions and the "replace only when not worse" rule.

The seed corpus (``<data_dir>/seed/*.jsonl``) is ours. Real headlines and Weibo posts from
shared/data are read in place at training time as ``other`` / not sensitive; only their file
hashes and line numbers are recorded, never their text.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import subprocess
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from analysis import baselines
from analysis.classify import (
    MODEL_ROOT,
    SENSITIVE_SEVERITIES,
    SEVERITIES,
    TOPICS,
    Model,
    ModelError,
    combined_score,
    library_versions,
    load_model,
    make_pipeline,
    make_vectorizer,
    predict_normalised,
    save_model,
)
from analysis.schemes import default_scheme_set
from analysis.text import normalise, userdict_hash
from yuqing.core.clock import system_clock

CORPUS_DIR = Path(__file__).parent / "corpus"
TEST_PERCENT = 20
FOLDS = 5
TARGET_RECALL = 0.93  # threshold chosen on out-of-fold scores, with room above the 0.90 target
EXTERNAL_PER_FILE = 700
# Headlines that mention the bureau's own business are not safe "other" examples.
DOMAIN_TERMS = (
    "律师", "律所", "公证", "司法", "法律援助", "法援", "调解", "鉴定", "矫正", "帮教", "监狱",
    "戒毒", "服刑", "狱", "法考", "法律职业", "普法", "复议", "12348", "法律服务", "刑满",
)  # fmt: skip


@dataclass(frozen=True)
class Item:
    id: str
    text: str  # raw title + text
    topic: str
    sensitive: bool
    severity: str
    source: str
    style: str = ""
    hard_case: str | None = None


# ---------------------------------------------------------------- corpus


def _seed_item(record: dict[str, Any]) -> Item:
    topic, severity = record["topic"], record["severity"]
    if topic not in TOPICS or severity not in SEVERITIES or not isinstance(record["sensitive"], bool):
        raise ValueError(f"bad labels in {record.get('id')}")
    text = "。".join(p for p in (record.get("title") or "", record.get("text") or "") if p)
    if not text.strip():
        raise ValueError(f"empty item {record.get('id')}")
    sensitive = record["sensitive"]
    # The format says severity is always none when not sensitive; trust the flag over a slip.
    severity = severity if sensitive else "none"
    if sensitive and severity == "none":
        severity = "general"
    return Item(
        str(record["id"]), text, topic, sensitive, severity, "seed",
        str(record.get("style") or ""), record.get("hard_case"),
    )  # fmt: skip


def load_seed(corpus_dir: Path) -> tuple[list[Item], dict[str, Any]]:
    """Seed items and, per file, its sha256 and how many lines were used or skipped."""
    items: list[Item] = []
    files: dict[str, Any] = {}
    for path in sorted((corpus_dir / "seed").glob("*.jsonl")):
        raw = path.read_bytes()
        used = skipped = 0
        for line in raw.decode("utf-8").splitlines():
            if not line.strip():
                continue
            try:
                items.append(_seed_item(json.loads(line)))
                used += 1
            except (ValueError, KeyError, TypeError):
                skipped += 1  # a half-written or mislabelled line: counted, not trained on
        files[path.name] = {"sha256": hashlib.sha256(raw).hexdigest(), "used": used, "skipped": skipped}
    return items, files


def load_feedback(corpus_dir: Path) -> list[Item]:
    """Officer feedback exported as seed-format lines in ``feedback/*.jsonl`` (optional)."""
    items = []
    for path in sorted((corpus_dir / "feedback").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                items.append(_seed_item(json.loads(line)))
    return items


def default_shared_dir() -> Path | None:
    """``YUQING_SHARED_DATA`` or ``../shared/data`` beside the checkout; None when absent."""
    override = os.environ.get("YUQING_SHARED_DATA")
    path = Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "data"
    return path if path.is_dir() else None


def _pick(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)


def _external_lines(name: str, lines: Sequence[tuple[int, str]], style: str) -> list[Item]:
    """Up to ``EXTERNAL_PER_FILE`` distinct lines in a fixed hash order, none about our business."""
    seen: set[str] = set()
    chosen: list[Item] = []
    for number, text in sorted(lines, key=lambda nl: _pick(f"{name}:{nl[0]}")):
        clean = text.strip()
        key = normalise(clean)
        if len(key) < 6 or key in seen or any(term in key for term in DOMAIN_TERMS):
            continue
        seen.add(key)
        chosen.append(Item(f"ext:{name}:{number}", clean, "other", False, "none", name, style))
        if len(chosen) == EXTERNAL_PER_FILE:
            break
    return chosen


def _read_toutiao(path: Path) -> list[tuple[int, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [(n, line.split("_!_")[3]) for n, line in enumerate(handle, 1) if line.count("_!_") >= 4]


def _read_thucnews(path: Path) -> list[tuple[int, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(n, line.split("\t")[0]) for n, line in enumerate(lines, 1) if "\t" in line]


def _read_weibo(path: Path) -> list[tuple[int, str]]:
    with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    return [(n, row[0]) for n, row in enumerate(rows[1:], 2) if row]


EXTERNAL_SOURCES: dict[str, tuple[str, Callable[[Path], list[tuple[int, str]]], str]] = {
    "toutiao": ("corpora/toutiao_headlines_20k/toutiao_cat_data.dev.txt.gz", _read_toutiao, "news"),
    "thucnews": ("corpora/thucnews_titles_20k/dev.txt", _read_thucnews, "news"),
    "weibo": ("corpora/weibo_covid19_emotion/labeledData.csv.gz", _read_weibo, "social"),
}


# What each corpus README allows, recorded with the model (see shared/data/corpora/*/README.md).
EXTERNAL_TERMS = {
    "toutiao": "no licence stated; research/evaluation use only; not shipped",
    "thucnews": "THUCTC academic research use; not shipped",
    "weibo": "no licence stated; research use, cite Lyu et al., NLPCC 2020; not shipped",
}


def load_external(shared_dir: Path | None) -> tuple[list[Item], dict[str, Any]]:
    """Real ``other`` examples read in place; provenance = file hash + the line numbers used."""
    items: list[Item] = []
    provenance: dict[str, Any] = {}
    if shared_dir is None:
        return items, {"absent": "shared/data not found; trained on the seed corpus only"}
    for name, (relative, reader, style) in EXTERNAL_SOURCES.items():
        path = shared_dir / relative
        chosen = _external_lines(name, reader(path), style)
        items.extend(chosen)
        provenance[name] = {
            "file": relative,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "lines": sorted(int(i.id.rsplit(":", 1)[1]) for i in chosen),
            "selected_sha256": hashlib.sha256("\n".join(i.text for i in chosen).encode()).hexdigest(),
            "use": "label other / not sensitive; research-use corpus read in place, text not stored",
            "terms": EXTERNAL_TERMS[name],
        }
    return items, provenance


# ---------------------------------------------------------------- split


def is_test_id(item_id: str) -> bool:
    """Deterministic held-out membership: ~20 % of ids by hash, stable as the corpus grows."""
    return int(hashlib.sha256(item_id.encode()).hexdigest()[:8], 16) % 100 < TEST_PERCENT


def dedupe(items: Iterable[Item]) -> tuple[list[Item], int]:
    """Keep the first item (by id) of each normalised text, so no text sits on both sides."""
    seen: set[str] = set()
    kept: list[Item] = []
    dropped = 0
    for item in sorted(items, key=lambda i: i.id):
        key = normalise(item.text)
        if key in seen:
            dropped += 1
        else:
            seen.add(key)
            kept.append(item)
    return kept, dropped


def split(items: list[Item]) -> tuple[list[Item], list[Item]]:
    train = [i for i in items if not is_test_id(i.id)]
    test = [i for i in items if is_test_id(i.id)]
    return train, test


def write_split(path: Path, train: Sequence[Item], test: Sequence[Item]) -> None:
    data = {
        "rule": f"sha256(id)[:8] % 100 < {TEST_PERCENT} -> test; duplicates by normalised text dropped",
        "train": sorted(i.id for i in train),
        "test": sorted(i.id for i in test),
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


def snapshot_hash(items: Sequence[Item]) -> str:
    digest = hashlib.sha256()
    for item in sorted(items, key=lambda i: i.id):
        digest.update(f"{item.id}\t{item.topic}\t{item.sensitive}\t{item.severity}\t{item.text}\n".encode())
    return digest.hexdigest()


# ---------------------------------------------------------------- metrics


def per_class(y_true: Sequence[Any], y_pred: Sequence[Any], labels: Sequence[Any]) -> dict[str, Any]:
    report = classification_report(
        y_true, y_pred, labels=list(labels), output_dict=True, zero_division=0
    )
    present = [str(k) for k in labels if report[str(k)]["support"] > 0]
    return {
        "per_class": {
            str(k): {m: round(float(v[m]), 4) for m in ("precision", "recall", "f1-score", "support")}
            for k, v in report.items()
            if isinstance(v, dict) and k not in ("macro avg", "weighted avg")
        },
        # Macro over the classes present in the evaluated set: an absent class is not a miss.
        "macro_f1": round(float(np.mean([report[k]["f1-score"] for k in present])), 4),
        "accuracy": round(float(np.mean(np.asarray(y_true) == np.asarray(y_pred))), 4),
        "labels": [str(x) for x in labels],
        "confusion": confusion_matrix(y_true, y_pred, labels=list(labels)).tolist(),
    }


def binary(y_true: Sequence[bool], y_pred: Sequence[bool]) -> dict[str, float]:
    p, r, f, _ = precision_recall_fscore_support(
        y_true, y_pred, average="binary", pos_label=True, zero_division=0
    )
    flagged = float(np.mean(np.asarray(y_pred, dtype=bool))) if len(y_pred) else 0.0
    return {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4),
            "flagged_share": round(flagged, 4)}  # fmt: skip


def brier(y_true: Sequence[bool], scores: np.ndarray) -> float:
    """Mean squared error of the score as a probability (0 is perfect; 0.25 is a coin)."""
    return round(float(np.mean((np.asarray(scores) - np.asarray(y_true, dtype=float)) ** 2)), 4)


def within_one(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    pairs = [(SEVERITIES.index(t), SEVERITIES.index(p)) for t, p in zip(y_true, y_pred)]
    return round(sum(abs(t - p) <= 1 for t, p in pairs) / max(len(pairs), 1), 4)


def choose_threshold(y: Sequence[bool], scores: np.ndarray) -> float:
    """The highest threshold whose out-of-fold recall still reaches ``TARGET_RECALL``."""
    truth = np.asarray(y, dtype=bool)
    for threshold in np.arange(0.80, 0.05, -0.01):
        if truth.sum() and (scores[truth] >= threshold).mean() >= TARGET_RECALL:
            return round(float(threshold), 2)
    return 0.05


# ---------------------------------------------------------------- training


def folds(labels: Sequence[Any]) -> StratifiedKFold:
    """``FOLDS`` stratified folds, fewer when the rarest class has fewer members (small corpora)."""
    smallest = min(Counter(labels).values())
    return StratifiedKFold(max(2, min(FOLDS, smallest)), shuffle=True, random_state=0)


def cross_validate(train: Sequence[Item]) -> tuple[dict[str, Any], float]:
    """k-fold reports for the whole pipelines, and the threshold picked on out-of-fold scores."""
    texts = [i.text for i in train]
    topics = [i.topic for i in train]
    topic_p = cross_val_predict(make_pipeline("topic"), texts, topics, cv=folds(topics), method="predict_proba")
    labels = sorted(set(topics))  # the column order of predict_proba
    topic_pred = [labels[i] for i in topic_p.argmax(axis=1)]
    flags = [i.sensitive for i in train]
    p_sens = cross_val_predict(make_pipeline("sensitive"), texts, flags, cv=folds(flags), method="predict_proba")[:, 1]
    scores = combined_score(p_sens, topic_p[:, labels.index("other")])
    threshold = choose_threshold(flags, scores)
    sens = [i for i in train if i.sensitive]
    levels = [i.severity for i in sens]
    sev_pred = cross_val_predict(make_pipeline("severity"), [i.text for i in sens], levels, cv=folds(levels))
    report = {
        "folds": {"topic": folds(topics).n_splits, "sensitive": folds(flags).n_splits,
                  "severity": folds(levels).n_splits},  # fmt: skip
        "topic": per_class(topics, topic_pred, TOPICS),
        "sensitive": binary(flags, list(scores >= threshold))
        | {"threshold": threshold, "brier": brier(flags, scores)},
        "severity": per_class([i.severity for i in sens], list(sev_pred), SENSITIVE_SEVERITIES)
        | {"within_one": within_one([i.severity for i in sens], list(sev_pred))},
    }
    return report, threshold


def fit(train: Sequence[Item], threshold: float, version: str, meta: dict[str, Any]) -> Model:
    """Fit the shared vectorizer once and the three classifiers on its matrix."""
    texts = [normalise(i.text) for i in train]
    vectorizer = make_vectorizer().fit(texts)
    matrix = vectorizer.transform(texts)
    pipelines = {kind: make_pipeline(kind, vectorizer) for kind in ("topic", "sensitive", "severity")}
    for pipeline in pipelines.values():
        pipeline.named_steps["normalise"].fit(texts[:1])
    pipelines["topic"].named_steps["clf"].fit(matrix, [i.topic for i in train])
    pipelines["sensitive"].named_steps["clf"].fit(matrix, [i.sensitive for i in train])
    rows = [n for n, i in enumerate(train) if i.sensitive]
    pipelines["severity"].named_steps["clf"].fit(matrix[rows], [train[n].severity for n in rows])
    return Model(pipelines, threshold, version, meta)


def evaluate_on(
    model: Model, test: Sequence[Item], shared_dir: Path | None, baselines_too: bool = True
) -> dict[str, Any]:
    """Held-out metrics of the model and, on the same items, of the baselines."""
    texts = [normalise(i.text) for i in test]
    schemes = default_scheme_set()
    preds = predict_normalised(model, texts, [bool(schemes.match(t, normalised=True)) for t in texts])
    flags = [i.sensitive for i in test]
    predicted = [bool(flag) for flag in preds.sensitive]
    sens_rows = [n for n, i in enumerate(test) if i.sensitive]
    result: dict[str, Any] = {
        "items": len(test),
        "sources": {s: sum(i.source == s for i in test) for s in sorted({i.source for i in test})},
        "sensitive": binary(flags, predicted) | {"brier": brier(flags, preds.score)},
        "topic": per_class([i.topic for i in test], preds.topic, TOPICS),
        "severity_within_one": within_one(
            [test[n].severity for n in sens_rows], [preds.severity[n] for n in sens_rows]
        ),
        # Exact levels of the gold-sensitive items; "none" where the model missed the item.
        "severity": per_class(
            [test[n].severity for n in sens_rows], [preds.severity[n] for n in sens_rows], SEVERITIES
        ),
        "hard_cases": _hard_case_accuracy(test, predicted, preds.topic),
    }
    if baselines_too:
        result["baselines"] = _baselines(test, texts, flags, shared_dir)
    return result


def _hard_case_accuracy(test: Sequence[Item], predicted: list[bool], topics: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in sorted({i.hard_case for i in test if i.hard_case}):
        rows = [n for n, i in enumerate(test) if i.hard_case == kind]
        out[kind] = {
            "items": len(rows),
            "sensitive_accuracy": round(sum(predicted[n] == test[n].sensitive for n in rows) / len(rows), 4),
            "topic_accuracy": round(sum(topics[n] == test[n].topic for n in rows) / len(rows), 4),
        }
    return out


def _baselines(
    test: Sequence[Item], texts: list[str], flags: list[bool], shared_dir: Path | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "keyword_topic": per_class([i.topic for i in test], [baselines.keyword_topic(t) for t in texts], TOPICS)
    }
    if shared_dir is not None:
        union = [False] * len(texts)
        for name, paths in baselines.lexicon_files(shared_dir).items():
            hits = baselines.lexicon_flags(baselines.build_lexicon(paths), texts)
            union = [a or b for a, b in zip(union, hits)]
            out[name] = binary(flags, hits)
        out["lexicon_any"] = binary(flags, union)
    snow = baselines.snownlp_flags(texts)
    out["snownlp_below_0.5"] = binary(flags, snow) if snow is not None else "snownlp not installed"
    return out


def headline_score(held_out: dict[str, Any]) -> float:
    """One number to compare versions on the same held-out split (higher is better)."""
    parts = (held_out["sensitive"]["f1"], held_out["topic"]["macro_f1"], held_out["severity_within_one"])
    return round(sum(float(p) for p in parts) / 3, 4)


def _git_commit(repo: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def prepare(data_dir: Path, shared_dir: Path | None) -> tuple[list[Item], list[Item], dict[str, Any]]:
    """Load, de-duplicate and split everything; write ``split.json``; return provenance."""
    seed, seed_files = load_seed(data_dir)
    feedback = load_feedback(data_dir)
    external, external_prov = load_external(shared_dir)
    everything = seed + feedback + external
    items, dropped = dedupe(everything)
    train, test = split(items)
    write_split(data_dir / "split.json", train, test)
    provenance = {
        "seed_files": seed_files,
        "feedback_items": len(feedback),
        "external": external_prov,
        "duplicates_dropped": dropped,
        "train_items": len(train),
        "test_items": len(test),
    }
    return train, test, provenance


def train_model(
    data_dir: Path = CORPUS_DIR,
    out_dir: Path = MODEL_ROOT,
    force: bool = False,
    *,
    shared_dir: Path | None = None,
    external: bool = True,
    baselines: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Train a new version into ``out_dir/<version>``; make it active unless the active model
    does better on the same held-out split (``force`` activates it regardless).

    ``external=False`` trains on ``data_dir`` alone (no shared/data corpora); ``baselines=False``
    skips the baseline comparison (SnowNLP is slow and dev-only).
    """
    shared = (shared_dir or default_shared_dir()) if external else None
    now = now or system_clock()
    train, test, provenance = prepare(data_dir, shared)
    cv, threshold = cross_validate(train)
    snapshot = snapshot_hash(train)
    version = f"{now:%Y%m%dT%H%M%SZ}-{snapshot[:8]}"
    meta = _metadata(now, snapshot, provenance, cv, data_dir)
    model = fit(train, threshold, version, meta)
    model.meta["held_out"] = evaluate_on(model, test, shared, baselines_too=baselines)
    save_model(model, out_dir / version)
    decision = _activate(model, out_dir, test, force)
    return {"version": version, "cross_validation": cv, "held_out": model.meta["held_out"], **decision}


def _metadata(
    now: datetime, snapshot: str, provenance: dict[str, Any], cv: dict[str, Any], data_dir: Path
) -> dict[str, Any]:
    return {
        "trained_at": now.isoformat(),
        "versions": library_versions(),
        "git_commit": _git_commit(data_dir),
        "training_snapshot_sha256": snapshot,
        "userdict_sha256": userdict_hash(),
        "labels": {"topic": list(TOPICS), "sensitive": [False, True], "severity": list(SEVERITIES)},
        "provenance": provenance,
        "cross_validation": cv,
    }


def _activate(model: Model, out_dir: Path, test: Sequence[Item], force: bool) -> dict[str, Any]:
    new_score = headline_score(model.meta["held_out"])
    marker = out_dir / "ACTIVE"
    old_score = None
    if marker.is_file():
        try:
            current = load_model(out_dir / marker.read_text(encoding="utf-8").strip())
            old_score = headline_score(evaluate_on(current, test, None, baselines_too=False))
        except ModelError:
            old_score = None  # an unusable active model is no reason to keep it
    activate = force or old_score is None or new_score >= old_score
    if activate:
        marker.write_text(model.version + "\n", encoding="utf-8")
    return {"activated": activate, "score": new_score, "previous_score": old_score}


def evaluate_model(
    data_dir: Path = CORPUS_DIR, model_dir: Path | None = None, *, shared_dir: Path | None = None
) -> dict[str, Any]:
    """Held-out metrics (and baselines) of a model version, by default the active one."""
    from analysis.classify import active_version

    shared_dir = shared_dir or default_shared_dir()
    model_dir = model_dir or MODEL_ROOT / active_version(MODEL_ROOT)
    model = load_model(model_dir)
    seed, _ = load_seed(data_dir)
    external, _ = load_external(shared_dir)
    items, _ = dedupe(seed + load_feedback(data_dir) + external)
    _, test = split(items)
    return {"version": model.version, "held_out": evaluate_on(model, test, shared_dir)}



def summary(report: dict[str, Any]) -> str:
    """A few lines for a terminal: the figures the targets are stated in."""
    held, cv = report["held_out"], report["cross_validation"]
    base = held.get("baselines", {})
    lines = [
        f"version {report['version']}  activated={report['activated']}  score={report['score']}"
        f"  previous={report['previous_score']}",
        f"CV sensitive {json.dumps(cv['sensitive'])}",
        f"CV topic macro-F1 {cv['topic']['macro_f1']}  severity within one {cv['severity']['within_one']}",
        f"held-out {held['items']} items {json.dumps(held['sources'])}",
        f"held-out sensitive {json.dumps(held['sensitive'])}",
        f"held-out topic macro-F1 {held['topic']['macro_f1']}  severity within one {held['severity_within_one']}"
        f"  severity exact {held['severity']['accuracy']}",
        "held-out topic F1 " + json.dumps({k: v["f1-score"] for k, v in held["topic"]["per_class"].items()}),
        f"hard cases {json.dumps(held['hard_cases'])}",
    ]
    lines += [f"baseline {name}: {json.dumps(value)}" for name, value in base.items() if name != "keyword_topic"]
    if "keyword_topic" in base:
        lines.append(f"baseline keyword_topic macro-F1 {base['keyword_topic']['macro_f1']}")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(summary(train_model(force="--force" in sys.argv)))
