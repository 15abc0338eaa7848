"""Topic, sensitivity and severity classifiers: pipelines, the artefact loader and the service API.

One TF-IDF step (words from rjieba with the domain dictionary, plus character uni- and bigrams)
is shared by four logistic regressions, so a document is normalised and segmented once however
many decisions are made about it: topic; remit (is it the bureau's business at all); negative
opinion among items of the bureau's business; severity among sensitive items. The sensitivity
score is a calibrated probability made of remit and negativity; severity words raise the
model's level by explicit rules (``analysis.severity``). A long document is judged by its lead
(the title and the first sentences of the body), which is what the training items are. Each
decision is explained by the n-grams that weighed most, the scheme words and the severity rule.
"""

from __future__ import annotations

import gc
import hashlib
import json
import platform
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import version as package_version
from itertools import islice
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from analysis.features import ZhVectorizer
from analysis.models import Severity
from analysis.schemes import SchemeMatch, SchemeSet, default_scheme_set
from analysis.severity import SeverityRule, apply_rules
from analysis.text import in_domain, normalise_all, normalise_many

TOPICS = (
    "legal_aid",
    "exam",
    "notary",
    "lawyer",
    "appraisal",
    "mediation",
    "corrections",
    "prison",
    "justice_admin",
    "other",
)
SEVERITIES = tuple(s.value for s in Severity)
SENSITIVE_SEVERITIES = SEVERITIES[1:]
MODEL_ROOT = Path(__file__).parent / "model"
BATCH = 1024
EXPLAIN_TOP = 5
KINDS = ("topic", "remit", "sensitive", "severity")
# The part of a body that is classified: corpus items are a headline plus the body's first
# sentences up to 200 characters, so a crawled article is judged on the same view of it.
LEAD_CHARS = 200
_SENTENCE_END = "。！？!?；;\n"


class ModelError(Exception):
    """The model artefact is missing, was not built by us, or needs other library versions."""


# ---------------------------------------------------------------- pipelines


def make_vectorizer() -> ZhVectorizer:
    """TF-IDF over domain-dictionary words plus character uni- and bigrams of normalised text.

    Out-of-fold on the seed corpus, words + characters reached precision 0.91 at recall 0.93
    for sensitivity, against 0.70 for words and word pairs alone.
    """
    return ZhVectorizer(min_df=2, max_features=60000, sublinear_tf=True)


def make_classifier(kind: str) -> LogisticRegression:
    """Linear models: their probabilities are usable as scores and their weights explain.
    C values were chosen by event-grouped cross-validation on the real corpus's training part."""
    c = {"topic": 10.0, "remit": 8.0, "sensitive": 8.0, "severity": 4.0}[kind]
    return LogisticRegression(C=c, class_weight="balanced", max_iter=3000)


def make_pipeline(kind: str, vectorizer: ZhVectorizer | None = None) -> Pipeline:
    """The whole pipeline for one decision, raw text in, label out (what cross-validation fits)."""
    return Pipeline(
        [
            ("normalise", FunctionTransformer(normalise_all)),
            ("tfidf", vectorizer if vectorizer is not None else make_vectorizer()),
            ("clf", make_classifier(kind)),
        ]
    )


@dataclass(frozen=True)
class Operating:
    """How the sensitivity score becomes decisions: a sigmoid calibration of the raw score
    (fitted on out-of-fold scores) and thresholds on the calibrated probability."""

    threshold: float  # sensitive: an incident and its clocks may open
    watch: float  # 待研判 from here up to ``threshold``: shown to the duty officer, no clock
    slope: float = 1.0
    intercept: float = 0.0
    outside: float = 0.0  # the least score of a text without any domain term (analysis.text.in_domain)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        clipped = np.clip(raw, 1e-6, 1 - 1e-6)
        logit = np.log(clipped / (1 - clipped))
        result: np.ndarray = 1.0 / (1.0 + np.exp(-(self.slope * logit + self.intercept)))
        return result


@dataclass
class Model:
    """The loaded artefact: four pipelines sharing one fitted vectorizer, plus metadata."""

    pipelines: dict[str, Pipeline]
    operating: Operating
    version: str
    meta: dict[str, Any]
    vectorizer: ZhVectorizer = field(init=False, repr=False)
    classifiers: dict[str, LogisticRegression] = field(init=False, repr=False)
    names: np.ndarray = field(init=False, repr=False)
    explain_coef: dict[str, np.ndarray] = field(init=False, repr=False)
    word_idf: dict[str, float] = field(init=False, repr=False)
    explainable: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Looked up once: Pipeline.named_steps builds a new Bunch on every access.
        self.vectorizer = self.pipelines["topic"].named_steps["tfidf"]
        self.classifiers = {k: p.named_steps["clf"] for k, p in self.pipelines.items()}
        self.names = self.vectorizer.get_feature_names_out()
        # Single characters (法, 援) weigh in the decision but explain nothing to an officer,
        # and a character bigram that prints like a word (提醒) would name it twice:
        # explanations use the weights with those features zeroed (words come first in names).
        readable = np.fromiter((len(n) > 1 for n in self.names), float, len(self.names))
        unique = np.zeros(len(self.names))
        unique[np.unique(self.names, return_index=True)[1]] = 1.0
        readable *= unique
        self.explainable = readable > 0
        self.explain_coef = {k: c.coef_ * readable for k, c in self.classifiers.items()}
        # The background IDF of incident grouping: how rare each word is in the training text.
        idf = self.vectorizer.tfidf_.idf_
        self.word_idf = {w: float(idf[k]) for w, k in self.vectorizer.vocabulary_.items()}

    @property
    def threshold(self) -> float:
        return self.operating.threshold

    def clf(self, kind: str) -> LogisticRegression:
        return self.classifiers[kind]


# ---------------------------------------------------------------- artefact


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "scikit-learn": sklearn.__version__}
    for name in ("jieba", "rjieba", "opencc", "numpy", "scipy", "joblib"):
        try:
            versions[name] = package_version(name)
        except Exception:  # noqa: BLE001 - PackageNotFoundError and metadata quirks alike
            versions[name] = "absent"
    return versions


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(model: Model, directory: Path) -> Path:
    """Write ``model.joblib`` and ``model.json`` (with the artefact's sha256) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    artefact = directory / "model.joblib"
    joblib.dump({"pipelines": model.pipelines, "operating": asdict(model.operating)}, artefact,
                compress=3)
    meta = dict(model.meta, version=model.version, artefact_sha256=sha256_file(artefact))
    meta["operating"] = asdict(model.operating)
    (directory / "model.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return directory


def active_version(root: Path = MODEL_ROOT) -> str:
    """The version named in ``root/ACTIVE``; ``ModelError`` when there is none."""
    marker = root / "ACTIVE"
    if not marker.is_file():
        raise ModelError(f"no active model: {marker} is missing (run `yuqing model train`)")
    return marker.read_text(encoding="utf-8").strip()


def load_model(directory: Path) -> Model:
    """Load an artefact we built: same scikit-learn version and the sha256 recorded beside it.

    joblib files are pickles; loading one runs code, so anything unrecorded is refused.
    """
    meta_path, artefact = directory / "model.json", directory / "model.joblib"
    if not meta_path.is_file() or not artefact.is_file():
        raise ModelError(f"model files missing in {directory}")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    built_with = meta.get("versions", {}).get("scikit-learn")
    if built_with != sklearn.__version__:
        raise ModelError(
            f"model {directory.name} was built with scikit-learn {built_with}, "
            f"this is {sklearn.__version__}: retrain it"
        )
    if sha256_file(artefact) != meta.get("artefact_sha256"):
        raise ModelError(f"model {directory.name}: model.joblib does not match its recorded sha256")
    payload = joblib.load(artefact)
    if set(payload.get("pipelines", {})) != set(KINDS):
        raise ModelError(f"model {directory.name} is of an older design: retrain it")
    return Model(payload["pipelines"], Operating(**payload["operating"]), str(meta["version"]), meta)


_cache: dict[Path, Model] = {}


def active_model(root: Path = MODEL_ROOT) -> Model:
    """The active model, loaded once per process per version."""
    directory = root / active_version(root)
    if directory not in _cache:
        _cache[directory] = load_model(directory)
    return _cache[directory]


# ---------------------------------------------------------------- prediction


@dataclass(frozen=True)
class Predictions:
    topic: list[str]
    bureau_topic: list[str]
    topic_prob: np.ndarray
    score: np.ndarray  # calibrated P(sensitive)
    sensitive: np.ndarray
    watch: np.ndarray  # 待研判: below the operating threshold, above the watch threshold
    severity: list[str]
    rules: list[SeverityRule | None]
    matrix: csr_matrix


def lead(text: str, limit: int = LEAD_CHARS) -> str:
    """The first sentences of a body up to ``limit`` characters, cut after a sentence end when
    one falls in the second half of the limit (as the corpus items were cut)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = max(head.rfind(c) for c in _SENTENCE_END)
    return head[: cut + 1] if cut >= limit // 2 else head


def document_text(item: Any) -> str:
    """Title and the lead of the text as one string; ``ValueError`` naming the problem for a
    malformed item."""
    if not isinstance(item, dict):
        raise ValueError(f"expected a JSON object, got {type(item).__name__}")
    parts = []
    for key in ("title", "text"):
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"field {key!r} must be a string")
        if value and value.strip():
            parts.append(lead(value.strip()) if key == "text" else value.strip())
    if not parts:
        raise ValueError("item has neither 'title' nor 'text'")
    return "。".join(parts)


def predict_normalised(model: Model, texts: Sequence[str],
                       scheme_hits: Sequence[bool] | None = None) -> Predictions:
    """All decisions for normalised texts, segmenting each text once; ``scheme_hits`` marks
    texts that a monitoring scheme matched: such a text is at least 待研判 when its score
    reaches half the watch threshold (a scheme is the bureau's own word for trouble)."""
    matrix = model.vectorizer.transform(texts)
    topic_clf = model.clf("topic")
    topic_p = topic_clf.predict_proba(matrix)
    op = model.operating
    score = op.calibrate(raw_score(model, matrix))
    allowed = in_domain(texts) | (score >= op.outside)
    sensitive = allowed & (score >= op.threshold)
    watch = allowed & ~sensitive & (score >= op.watch)
    if scheme_hits is not None:
        watch |= ~sensitive & np.asarray(scheme_hits, dtype=bool) & (score >= op.watch / 2)
    topics = [str(topic_clf.classes_[i]) for i in topic_p.argmax(axis=1)]
    levels = severity_levels(model.clf("severity"), matrix, sensitive)
    levels, rules = apply_rules(levels, texts)
    return Predictions(topics, bureau_topics(topic_clf, topic_p), topic_p.max(axis=1), score,
                       sensitive, watch, levels, rules, matrix)


def raw_score(model: Model, matrix: csr_matrix) -> np.ndarray:
    """The uncalibrated sensitivity score of each row (see ``combined_score``)."""
    remit, negative = model.clf("remit"), model.clf("sensitive")
    p_remit = remit.predict_proba(matrix)[:, list(remit.classes_).index(True)]
    p_negative = negative.predict_proba(matrix)[:, list(negative.classes_).index(True)]
    return combined_score(p_negative, p_remit)


def combined_score(p_negative: np.ndarray, p_remit: np.ndarray) -> np.ndarray:
    """√P(the bureau's business) × P(negative | the bureau's business).

    Negativity among the bureau's items is the easy part (grouped CV AUC 0.96); telling a court,
    police or Taiwan story from the bureau's is the hard one (AUC 0.85), so the remit factor is
    softened: at recall 0.95 this gave precision 0.61, against 0.57 for the plain product and
    0.59 for one classifier trained on the sensitive label directly."""
    result: np.ndarray = np.sqrt(p_remit) * p_negative
    return result


def bureau_topics(clf: LogisticRegression, topic_p: np.ndarray) -> list[str]:
    """The most probable of the bureau's own topics (never "other"): the section an incident
    goes to when a sensitive document's most probable topic is "other". A sensitive document
    keeps its plain topic guess; grouped CV found that forcing a bureau topic onto every
    flagged document cost topic macro-F1 0.05, and gating sensitivity on the topic dropped
    a fifth of the sensitive items."""
    classes = list(clf.classes_)
    ours = topic_p.copy()
    if "other" in classes:
        ours[:, classes.index("other")] = -1.0
    return [str(classes[i]) for i in ours.argmax(axis=1)]


def severity_levels(clf: LogisticRegression, matrix: csr_matrix, sensitive: np.ndarray) -> list[str]:
    """Severity of sensitive documents as the probability-weighted level, rounded.

    The expected level rather than the most probable one: a wrong guess lands next to the right
    level more often, which is what the officers' 'within one level' tolerance rewards.
    """
    result = [Severity.NONE.value] * matrix.shape[0]
    rows = np.flatnonzero(sensitive)
    if rows.size == 0:
        return result
    ranks = np.array([SEVERITIES.index(str(c)) for c in clf.classes_], dtype=float)
    expected = clf.predict_proba(matrix[rows]) @ ranks
    for row, value in zip(rows, np.clip(np.rint(expected), 1, 4).astype(int)):
        result[int(row)] = SEVERITIES[value]
    return result


def top_ngrams(
    contributions: np.ndarray, indptr: np.ndarray, indices: np.ndarray, names: np.ndarray,
    k: int = EXPLAIN_TOP,
) -> list[list[tuple[str, float]]]:  # fmt: skip
    """Per row of a CSR layout, the k n-grams with the largest positive contribution (tf-idf ×
    the weight of the decided class), down to a tenth of the strongest. One sort for all rows;
    features that would print alike carry no weight (``Model.explain_coef``)."""
    n_rows = len(indptr) - 1
    lengths = np.diff(indptr)
    rows = np.repeat(np.arange(n_rows), lengths)
    # Only n-grams worth at least a tenth of the row's strongest one are candidates: the rest
    # explain nothing, and dropping them first keeps the batch sort small.
    row_max = np.zeros(n_rows, dtype=contributions.dtype)
    if contributions.size:
        row_max[lengths > 0] = np.maximum.reduceat(contributions, indptr[:-1][lengths > 0])
    keep = np.flatnonzero((contributions > 0) & (contributions >= 0.1 * row_max[rows]))
    values, rows, features = contributions[keep], rows[keep], indices[keep]
    if values.size == 0:
        return [[] for _ in range(n_rows)]
    # Row number minus a share of the value in [0, 1): sorts by row, then by value descending.
    order = np.argsort(rows - values / (values.max() * 1.0001))
    rows, values, features = rows[order], values[order], features[order]
    counts = np.bincount(rows, minlength=n_rows)
    rank = np.arange(len(rows)) - (np.cumsum(counts) - counts)[rows]  # place within its row
    top = np.flatnonzero(rank < k)  # the first k of each row
    values, features = values[top], features[top]
    starts = [0, *np.cumsum(np.minimum(counts, k)).tolist()]
    pairs = list(zip(names[features].tolist(), np.round(values.astype(np.float64), 3).tolist()))
    return [pairs[start:end] for start, end in zip(starts[:-1], starts[1:])]


def explanations(
    model: Model, preds: Predictions
) -> tuple[list[list[tuple[str, float]]], list[list[tuple[str, float]]]]:
    """Top n-grams for each row's topic and sensitivity decisions, in one pass over the batch."""
    m = _explainable(preds.matrix, model.explainable)
    topic_w = _aligned_weights(model.clf("topic"), model.explain_coef["topic"], m, preds.topic)
    sens_w = _aligned_weights(
        model.clf("sensitive"), model.explain_coef["sensitive"], m, list(preds.sensitive)
    )
    both = top_ngrams(
        np.concatenate([m.data * topic_w, m.data * sens_w]),
        np.concatenate([m.indptr, m.indptr[1:] + m.indptr[-1]]),
        np.concatenate([m.indices, m.indices]),
        model.names,
    )
    return both[: m.shape[0]], both[m.shape[0] :]


def _explainable(matrix: csr_matrix, wanted: np.ndarray) -> csr_matrix:
    """The matrix with only the entries of explainable features (a third of the entries are
    single characters, which explain nothing): less to weigh and sort."""
    keep = wanted[matrix.indices]
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    per_row = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=matrix.shape[0]), out=per_row[1:])
    return csr_matrix((matrix.data[keep], matrix.indices[keep], per_row), shape=matrix.shape)


def _aligned_weights(
    clf: LogisticRegression, coef: np.ndarray, matrix: csr_matrix, labels: Sequence[Any]
) -> np.ndarray:
    """The weight (from ``coef``, shaped like ``clf.coef_``) of each stored feature toward its
    row's decided label."""
    per_row = np.diff(matrix.indptr)
    if coef.shape[0] == 1:  # binary: one row of weights for classes_[1]; the other side is -w
        sign = np.where(np.asarray(labels) == clf.classes_[1], 1.0, -1.0)
        return np.asarray(coef[0][matrix.indices] * np.repeat(sign, per_row))
    class_index = {label: i for i, label in enumerate(clf.classes_)}
    rows = np.repeat([class_index[label] for label in labels], per_row)
    return np.asarray(coef[rows, matrix.indices])


def _results(
    model: Model, matched: list[list[SchemeMatch]], texts: list[str], preds: Predictions
) -> Iterator[dict[str, Any]]:
    topic_grams, sens_grams = explanations(model, preds)
    threshold, watch = round(model.operating.threshold, 4), round(model.operating.watch, 4)
    # Rounded and converted for the whole batch: per-item float()/round() calls added up.
    scores = np.round(preds.score.astype(np.float64), 4).tolist()
    topic_probs = np.round(preds.topic_prob.astype(np.float64), 3).tolist()
    flags, watched = preds.sensitive.tolist(), preds.watch.tolist()
    version = model.version
    columns = zip(matched, preds.topic, flags, watched, scores, preds.severity, preds.rules,
                  topic_probs, preds.bureau_topic, topic_grams, sens_grams)
    for matches, topic, flag, watching, score, level, rule, prob, bureau, t_grams, s_grams in columns:
        words = list(dict.fromkeys(w for m in matches for w in m.words)) if matches else []
        yield {
            "topic": topic,
            "sensitive": flag,
            "watch": watching,
            "score": score,
            "severity": level,
            "keywords": words,
            "explain": {
                "model_version": version,
                "topic_probability": prob,
                "bureau_topic": bureau,
                "topic_ngrams": t_grams,
                "sensitive_ngrams": s_grams,
                "threshold": threshold,
                "watch_threshold": watch,
                "decided_by": "scheme" if watching and score < watch else "model",
                "schemes": [m.scheme for m in matches],
                "scheme_words": words,
                "severity_rule": (f"“{rule.word}” → 至少{rule.floor.label}" if rule else None),
            },
        }


def classify_texts(
    items: Iterable[Any], model: Model | None = None, schemes: SchemeSet | None = None
) -> Iterator[dict[str, Any]]:
    """The ``yuqing classify`` contract, one output per input in order.

    A malformed item yields ``{"error": ...}`` in its place and the others go on. Raises
    ``ModelError`` (before yielding anything) when no usable model is installed.
    """
    model = model or active_model()
    schemes = schemes or default_scheme_set()
    iterator = iter(items)
    while batch := list(islice(iterator, BATCH)):
        with _gc_paused():
            results = _classify_batch(batch, model, schemes)
        yield from results


def _classify_batch(batch: list[Any], model: Model, schemes: SchemeSet) -> list[dict[str, Any]]:
    raw: list[str] = []
    errors: dict[int, str] = {}
    for i, item in enumerate(batch):
        try:
            raw.append(document_text(item))
        except ValueError as exc:
            errors[i] = str(exc)
    texts = normalise_many(raw)
    matched = [schemes.match(text, normalised=True) for text in texts]
    preds = predict_normalised(model, texts, [bool(m) for m in matched]) if texts else None
    good = _results(model, matched, texts, preds) if preds is not None else iter(())
    return [{"error": errors[i]} if i in errors else next(good) for i in range(len(batch))]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector held off while a batch is worked on: a batch makes some
    twenty thousand small containers (results, explanations, token lists) that all live on,
    and each collection they set off walks the objects already alive, the model's among
    them (a seventh of classification time). Collection resumes after the batch; a caller
    that had it off keeps it off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
