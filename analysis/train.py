"""Training and evaluation: the corpora with provenance, event-grouped cross-validation on the
real corpus's training part (every choice is made there), the held-out report beside the
baselines, model versions and the "replace only when not worse" rule.

The shipped model learns from what the project may ship: the authored seed corpus (ours, in
``corpus/seed``), officers' feedback, and the training part of the real corpus read in place
from shared/data (only its hashes and ids are recorded, never its text). The real held-out part
(ids in ``corpus/split.json``) is only ever measured.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report, confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold

from analysis import baselines
from analysis.classify import (
    MODEL_ROOT,
    SEVERITIES,
    TOPICS,
    Model,
    ModelError,
    Operating,
    Predictions,
    library_versions,
    load_model,
    make_pipeline,
    make_vectorizer,
    predict_normalised,
    save_model,
)
from analysis.real_corpus import (
    CORPUS_DIR,
    SPLIT_PATH,
    RealItem,
    load_real,
    shared_dir,
    split_items,
)
from analysis.schemes import default_scheme_set
from analysis.text import in_domain, normalise_many, userdict_hash
from yuqing.core.clock import system_clock

FOLDS = 5
TARGET_RECALL = 0.95  # the operating threshold: out-of-fold recall of the training part
WATCH_RECALL = 0.98  # the 待研判 threshold
# Authored items teach the vocabulary but not the style of real text: at full weight they
# lowered out-of-fold precision at recall 0.95 (0.589 → 0.602 at 0.3; 0.577 at 1.0).
SEED_WEIGHT = 0.3


@dataclass(frozen=True)
class Item:
    id: str
    text: str  # raw title + text
    topic: str
    sensitive: bool
    severity: str
    source: str  # "seed", "feedback" or "real"
    style: str = ""
    hard_case: str | None = None
    script: str = "simplified"
    group: str = ""  # items of one group (a real event) stay on one side of every fold


# ---------------------------------------------------------------- corpora


def _seed_item(record: dict[str, Any], source: str = "seed") -> Item:
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
        str(record["id"]), text, topic, sensitive, severity, source,
        str(record.get("style") or ""), record.get("hard_case"), group=str(record["id"]),
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
                items.append(_seed_item(json.loads(line), "feedback"))
    return items


def real_item(item: RealItem) -> Item:
    text = "。".join(p for p in (item.title.strip(), item.text.strip()) if p)
    return Item(item.id, text, item.topic, item.sensitive, item.severity, "real",
                hard_case="hard" if item.hard else None, script=item.script, group=item.group)


@dataclass
class Corpus:
    fixed: list[Item]  # seed and feedback: in the training side of every fold
    train: list[Item]  # the real corpus's training part
    heldout: list[Item]  # the real held-out part: measured, never chosen on
    provenance: dict[str, Any] = field(default_factory=dict)


def prepare(data_dir: Path, shared: Path | None, split_path: Path = SPLIT_PATH,
            corrections: Path | None = None) -> Corpus:
    """Every corpus, split; ``CorpusError`` when the real corpus is absent (training without
    it would measure nothing real)."""
    seed, seed_files = load_seed(data_dir)
    feedback = load_feedback(data_dir)
    real, real_prov = load_real(shared, *(() if corrections is None else (corrections,)))
    train, heldout = split_items(real, split_path)
    provenance = {
        "seed_files": seed_files,
        "feedback_items": len(feedback),
        "real": real_prov | {
            "split_sha256": hashlib.sha256(split_path.read_bytes()).hexdigest(),
            "train_ids": [i.id for i in train], "heldout_items": len(heldout),
        },
        "research_corpora": "none (toutiao, thucnews, weibo and the lexicons are baselines only)",
    }
    return Corpus(seed + feedback, [real_item(i) for i in train], [real_item(i) for i in heldout],
                  provenance)


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


def major_caught(y_true: Sequence[str], y_pred: Sequence[str]) -> float | None:
    """Share of major (and critical) items graded 较大 or above; None when there are none."""
    pairs = [(t, p) for t, p in zip(y_true, y_pred) if SEVERITIES.index(t) >= 3]
    if not pairs:
        return None
    return round(sum(SEVERITIES.index(p) >= 2 for _, p in pairs) / len(pairs), 4)


def threshold_for(y: Sequence[bool], scores: np.ndarray, recall: float) -> float:
    """The highest threshold whose recall on ``scores`` reaches ``recall``."""
    positive = np.sort(np.asarray(scores)[np.asarray(y, dtype=bool)])
    if positive.size == 0:
        return 0.5
    k = int(np.floor((1.0 - recall) * positive.size + 1e-9))
    return float(np.floor(positive[min(k, positive.size - 1)] * 1e4) / 1e4)


def calibration(y: Sequence[bool], raw: np.ndarray) -> tuple[float, float]:
    """Platt scaling of out-of-fold raw scores: slope and intercept on their logit."""
    clipped = np.clip(raw, 1e-6, 1 - 1e-6)
    logit = np.log(clipped / (1 - clipped)).reshape(-1, 1)
    fitted = LogisticRegression(C=1e4, max_iter=1000).fit(logit, np.asarray(y, dtype=bool))
    return float(fitted.coef_[0][0]), float(fitted.intercept_[0])


# ---------------------------------------------------------------- fitting


def sample_weights(items: Sequence[Item]) -> np.ndarray:
    return np.array([SEED_WEIGHT if i.source == "seed" else 1.0 for i in items])


def fit(train: Sequence[Item], operating: Operating, version: str, meta: dict[str, Any]) -> Model:
    """Fit the shared vectorizer once and the four classifiers on its matrix."""
    texts = normalise_many([i.text for i in train])
    vectorizer = make_vectorizer().fit(texts)
    matrix = vectorizer.transform(texts)
    weights = sample_weights(train)
    pipelines = {kind: make_pipeline(kind, vectorizer) for kind in ("topic", "remit", "sensitive", "severity")}
    for pipeline in pipelines.values():
        pipeline.named_steps["normalise"].fit(texts[:1])
    remit = np.array([i.topic != "other" for i in train])
    sensitive = np.array([i.sensitive for i in train])

    def clf(kind: str, rows: np.ndarray, labels: Sequence[Any] | np.ndarray) -> None:
        pipelines[kind].named_steps["clf"].fit(matrix[rows], np.asarray(labels)[rows],
                                               sample_weight=weights[rows])

    every = np.arange(len(train))
    clf("topic", every, [i.topic for i in train])
    clf("remit", every, remit)
    clf("sensitive", np.flatnonzero(remit), sensitive)  # negativity among the bureau's items
    clf("severity", np.flatnonzero(sensitive), [i.severity for i in train])
    return Model(pipelines, operating, version, meta)


def folds(items: Sequence[Item]) -> list[tuple[np.ndarray, np.ndarray]]:
    """``FOLDS`` event-grouped folds of the real training part, stratified by topic and label."""
    labels = [f"{i.topic}|{i.sensitive}" for i in items]
    splitter = StratifiedGroupKFold(FOLDS, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        # Strata rarer than the folds (3 sensitive corrections items) are expected: the
        # stratification is best effort, the grouping by event is what must hold.
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        return list(splitter.split(np.zeros(len(items)), labels, [i.group for i in items]))


@dataclass
class OutOfFold:
    raw: np.ndarray
    topic_p: np.ndarray
    topic_classes: list[str]
    severity: list[str]  # each row's level as if it were sensitive (rules included)


def out_of_fold(corpus: Corpus) -> OutOfFold:
    """Scores of each real training item from a model trained without its fold."""
    n = len(corpus.train)
    raw, topic_p = np.zeros(n), np.zeros((n, len(TOPICS)))
    severity = ["none"] * n
    texts = normalise_many([i.text for i in corpus.train])
    for train_rows, test_rows in folds(corpus.train):
        part = corpus.fixed + [corpus.train[k] for k in train_rows]
        model = fit(part, Operating(0.0, 0.0), "cv", {})
        preds = predict_normalised(model, [texts[k] for k in test_rows])
        order = [list(model.clf("topic").classes_).index(t) for t in TOPICS]
        topic_p[test_rows] = model.clf("topic").predict_proba(preds.matrix)[:, order]
        raw[test_rows] = preds.score  # Operating(0, 0) leaves raw scores uncalibrated
        for k, level in zip(test_rows, preds.severity):
            severity[int(k)] = level
    return OutOfFold(raw, topic_p, list(TOPICS), severity)


def cross_validate(corpus: Corpus) -> tuple[dict[str, Any], Operating]:
    """Grouped k-fold report on the real training part, and the operating point chosen there:
    the calibration, the floor for texts without a domain term, the threshold for
    ``TARGET_RECALL`` and the 待研判 threshold."""
    oof = out_of_fold(corpus)
    flags = [i.sensitive for i in corpus.train]
    slope, intercept = calibration(flags, oof.raw)
    score = Operating(0.5, 0.5, slope, intercept).calibrate(oof.raw)
    domain = in_domain(normalise_many([i.text for i in corpus.train]))
    operating = choose_operating(flags, score, domain, slope, intercept)
    allowed = domain | (score >= operating.outside)
    predicted = allowed & (score >= operating.threshold)
    watch = allowed & ~predicted & (score >= operating.watch)
    topics = [oof.topic_classes[int(k)] for k in oof.topic_p.argmax(axis=1)]
    preds = Predictions(topics, topics, oof.topic_p.max(axis=1), score, predicted, watch,
                        [lvl if p else "none" for lvl, p in zip(oof.severity, predicted)],
                        [], csr_matrix((len(score), 0)))  # no one matrix out of fold
    report = _metrics(corpus.train, preds) | {"folds": FOLDS, "items": len(corpus.train)}
    return report, operating


OUTSIDE_FLOORS = (0.0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7)


def choose_operating(flags: Sequence[bool], score: np.ndarray, domain: np.ndarray,
                     slope: float, intercept: float) -> Operating:
    """The floor for texts without a domain term that gives the best precision at
    ``TARGET_RECALL`` (the higher floor on a tie: generic text then raises fewer alarms),
    and the thresholds under it."""
    truth = np.asarray(flags, dtype=bool)
    best: tuple[float, float, float] | None = None  # (precision, floor, threshold)
    for floor in OUTSIDE_FLOORS:
        usable = np.where(domain | (score >= floor), score, 0.0)
        threshold = threshold_for(flags, usable, TARGET_RECALL)
        if threshold <= 0.0:
            continue  # the recall is not reachable under this floor
        flagged = usable >= threshold
        precision = float((flagged & truth).sum() / max(flagged.sum(), 1))
        if best is None or precision >= best[0] - 1e-9:
            best = (precision, floor, threshold)
    _, floor, threshold = best if best is not None else (0.0, 0.0, 0.0)
    usable = np.where(domain | (score >= floor), score, 0.0)
    watch = threshold_for(flags, usable, WATCH_RECALL)
    if watch <= 0.0:  # past the floor's reach: the lowest sensitive score the floor admits
        admitted = usable[truth & (usable > 0.0)]
        watch = float(np.floor(admitted.min() * 1e4) / 1e4) if admitted.size else threshold
    return Operating(threshold, min(watch, threshold), slope, intercept, floor)


# ---------------------------------------------------------------- evaluation


def _metrics(items: Sequence[Item], preds: Predictions) -> dict[str, Any]:
    """The figures the targets are stated in, for one set of items and its predictions."""
    flags = [i.sensitive for i in items]
    predicted = [bool(f) for f in preds.sensitive]
    either = [bool(a or b) for a, b in zip(preds.sensitive, preds.watch)]
    sens_rows = [n for n, i in enumerate(items) if i.sensitive]
    gold = [items[n].severity for n in sens_rows]
    levels = [preds.severity[n] for n in sens_rows]
    return {
        "sensitive": binary(flags, predicted) | {"brier": brier(flags, preds.score),
                                                 "recall_with_watch": binary(flags, either)["recall"],
                                                 "watch_share": round(float(np.mean(preds.watch)), 4)},
        "topic": per_class([i.topic for i in items], preds.topic, TOPICS),
        "severity_within_one": within_one(gold, levels),
        "major_at_least_serious": major_caught(gold, levels),
        # Exact levels of the gold-sensitive items; "none" where the model missed the item.
        "severity": per_class(gold, levels, SEVERITIES),
        "by_script": _by_script(items, preds),
        "hard_cases": _hard_case_accuracy(items, predicted, preds.topic),
    }


def _by_script(items: Sequence[Item], preds: Predictions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for script in sorted({i.script for i in items}):
        rows = [n for n, i in enumerate(items) if i.script == script]
        flags = [items[n].sensitive for n in rows]
        out[script] = {
            "items": len(rows),
            "sensitive": binary(flags, [bool(preds.sensitive[n]) for n in rows]),
            "topic_macro_f1": per_class([items[n].topic for n in rows],
                                        [preds.topic[n] for n in rows], TOPICS)["macro_f1"],
        }
    return out


def _hard_case_accuracy(items: Sequence[Item], predicted: list[bool], topics: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in sorted({i.hard_case for i in items if i.hard_case}):
        rows = [n for n, i in enumerate(items) if i.hard_case == kind]
        out[kind] = {
            "items": len(rows),
            "sensitive_accuracy": round(sum(predicted[n] == items[n].sensitive for n in rows) / len(rows), 4),
            "topic_accuracy": round(sum(topics[n] == items[n].topic for n in rows) / len(rows), 4),
        }
    return out


def predict_items(model: Model, items: Sequence[Item]) -> Predictions:
    """What ``yuqing classify`` decides for these items (schemes included)."""
    texts = normalise_many([i.text for i in items])
    schemes = default_scheme_set()
    return predict_normalised(model, texts, [bool(schemes.match(t, normalised=True)) for t in texts])


def evaluate_on(
    model: Model, test: Sequence[Item], shared: Path | None, baselines_too: bool = True
) -> dict[str, Any]:
    """Held-out metrics of the model and, on the same items, of the baselines."""
    result: dict[str, Any] = {"items": len(test), "sensitive_items": sum(i.sensitive for i in test)}
    result |= _metrics(test, predict_items(model, test))
    if baselines_too:
        result["baselines"] = _baselines(test, shared)
    return result


def _baselines(test: Sequence[Item], shared: Path | None) -> dict[str, Any]:
    texts = normalise_many([i.text for i in test])
    flags = [i.sensitive for i in test]
    out: dict[str, Any] = {
        "keyword_topic": per_class([i.topic for i in test], [baselines.keyword_topic(t) for t in texts], TOPICS)
    }
    if shared is not None:
        union = [False] * len(texts)
        for name, paths in baselines.lexicon_files(shared).items():
            hits = baselines.lexicon_flags(baselines.build_lexicon(paths), texts)
            union = [a or b for a, b in zip(union, hits)]
            out[name] = binary(flags, hits)
        out["lexicon_any"] = binary(flags, union)
    snow = baselines.snownlp_flags(texts)
    out["snownlp_below_0.5"] = binary(flags, snow) if snow is not None else "snownlp not installed"
    return out


def headline_score(report: dict[str, Any]) -> float:
    """One number to compare versions on (higher is better): from cross-validation on the
    training part, never from the held-out part, which no choice may be made on."""
    parts = (report["sensitive"]["f1"], report["topic"]["macro_f1"], report["severity_within_one"])
    return round(sum(float(p) for p in parts) / 3, 4)


# ---------------------------------------------------------------- versions


def _git_commit(repo: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def train_model(
    data_dir: Path = CORPUS_DIR,
    out_dir: Path = MODEL_ROOT,
    force: bool = False,
    *,
    shared: Path | None = None,
    split_path: Path = SPLIT_PATH,
    corrections: Path | None = None,
    baselines: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Train a new version into ``out_dir/<version>``; make it active unless the active model
    did better in cross-validation (``force`` activates it regardless). ``CorpusError`` when
    the real corpus is absent. ``baselines=False`` skips the baseline comparison."""
    shared = shared or shared_dir()
    now = now or system_clock()
    corpus = prepare(data_dir, shared, split_path, corrections)
    cv, operating = cross_validate(corpus)
    items = corpus.fixed + corpus.train
    snapshot = snapshot_hash(items)
    version = f"{now:%Y%m%dT%H%M%SZ}-{snapshot[:8]}"
    meta = _metadata(now, snapshot, corpus.provenance, cv, data_dir)
    model = fit(items, operating, version, meta)
    model.meta["held_out"] = evaluate_on(model, corpus.heldout, shared, baselines_too=baselines)
    save_model(model, out_dir / version)
    decision = _activate(model, out_dir, force)
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
        "seed_weight": SEED_WEIGHT,
        "target_recall": TARGET_RECALL,
        "watch_recall": WATCH_RECALL,
        "provenance": provenance,
        "cross_validation": cv,
    }


def _activate(model: Model, out_dir: Path, force: bool) -> dict[str, Any]:
    new_score = headline_score(model.meta["cross_validation"])
    marker = out_dir / "ACTIVE"
    old_score = None
    if marker.is_file():
        try:
            current = load_model(out_dir / marker.read_text(encoding="utf-8").strip())
            old_score = headline_score(current.meta["cross_validation"])
        except (ModelError, KeyError):
            old_score = None  # an unusable active model is no reason to keep it
    activate = force or old_score is None or new_score >= old_score
    if activate:
        marker.write_text(model.version + "\n", encoding="utf-8")
    return {"activated": activate, "score": new_score, "previous_score": old_score}


def evaluate_model(
    data_dir: Path = CORPUS_DIR, model_dir: Path | None = None, *, shared: Path | None = None
) -> dict[str, Any]:
    """Held-out metrics (and baselines) of a model version, by default the active one;
    ``CorpusError`` when the real corpus is absent."""
    from analysis.classify import active_version

    shared = shared or shared_dir()
    model_dir = model_dir or MODEL_ROOT / active_version(MODEL_ROOT)
    model = load_model(model_dir)
    real, _ = load_real(shared)
    _, heldout = split_items(real)
    return {"version": model.version, "held_out": evaluate_on(model, [real_item(i) for i in heldout], shared)}

