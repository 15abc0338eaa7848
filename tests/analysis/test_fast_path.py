"""The batch path of ``yuqing classify`` (one segmenter call per batch, integer character keys,
the radix-grouped count matrix, regex pre-checks before the scheme automaton and the severity
rules, garbage collection held off) answers exactly as a plain one-text-at-a-time path does,
and as the shipped model answered before those optimisations, on the real held-out items.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from analysis import severity
from analysis.classify import (
    BATCH,
    Model,
    active_model,
    classify_texts,
    document_text,
    predict_normalised,
)
from analysis.features import ZhVectorizer
from analysis.real_corpus import RealItem, load_real, split_items
from analysis.schemes import SchemeSet, default_scheme_set
from analysis.severity import severity_rule
from analysis.text import _segmenter, normalise, normalise_many, segment_cached, segment_joined
from tests.shared_data import require_shared

RECORDED = Path(__file__).parent / "data" / "heldout_answers.json"
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def heldout() -> list[RealItem]:
    require_shared("corpora", "justice_real", "items.jsonl")
    items, _ = load_real()
    _, held = split_items(items)
    return held


def inputs(items: list[RealItem]) -> list[dict[str, str]]:
    return [{"title": i.title, "text": i.text} for i in items]


def probabilities(model: Model, matrix: csr_matrix) -> dict[str, np.ndarray]:
    return {kind: model.clf(kind).predict_proba(matrix) for kind in ("topic", "remit", "sensitive", "severity")}


# ---------------------------------------------------------------- a plain reference path


def plain_counts(vectorizer: ZhVectorizer, texts: list[str]) -> csr_matrix:
    """Term counts one text at a time: a segmenter call per text, a dictionary of character
    n-grams, scipy's own COO → CSR conversion."""
    n_words = len(vectorizer.vocabulary_)
    char_column = {int(k): n_words + i for i, k in enumerate(vectorizer.char_keys_)}
    rows, cols = [], []
    for row, text in enumerate(texts):
        counts: Counter[int] = Counter()
        for token in _segmenter().cut(text):
            if token in vectorizer.vocabulary_:
                counts[vectorizer.vocabulary_[token]] += 1
        compact = text.replace(" ", "")
        grams = [ord(c) for c in compact] + [(ord(a) << 21) | ord(b) for a, b in zip(compact, compact[1:])]
        counts.update(char_column[g] for g in grams if g in char_column)
        for column, n in counts.items():
            rows += [row] * n
            cols += [column] * n
    matrix = csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)),
        shape=(len(texts), n_words + len(vectorizer.char_keys_)),
    )
    matrix.sum_duplicates()
    return matrix


def plain_tfidf(vectorizer: ZhVectorizer, texts: list[str]) -> csr_matrix:
    """Sublinear tf × idf with L2-normalised rows, in the same float32 arithmetic."""
    matrix = plain_counts(vectorizer, texts)
    data = matrix.data
    data[:] = np.log(data) + 1
    data *= vectorizer.tfidf_.idf_.astype(np.float32)[matrix.indices]
    for row in range(matrix.shape[0]):
        start, stop = matrix.indptr[row], matrix.indptr[row + 1]
        if stop > start:  # summed in index order (reduceat), as the batch path sums
            part = data[start:stop]
            part /= np.sqrt(np.add.reduceat(part * part, [0])[0])
    return matrix


def plain_rule(text: str) -> severity.SeverityRule | None:
    """The severity rules as written: one search per pattern, in order, no pre-check."""
    for pattern in (severity._MAJOR, severity._SUPERVISED_KILLING, severity._EXAM_LEAK,
                    severity._LARGE_SUM):
        if match := pattern.search(text):
            return severity.SeverityRule(severity.Severity.MAJOR, match.group())
    if match := severity._SERIOUS.search(text):
        return severity.SeverityRule(severity.Severity.SERIOUS, match.group())
    return None


# ---------------------------------------------------------------- tests


def test_the_batch_path_gives_the_plain_paths_probabilities_on_real_held_out_items(
    heldout: list[RealItem],
) -> None:
    model = active_model()
    raw = [document_text(x) for x in inputs(heldout)]
    texts = [normalise(t) for t in raw]
    assert normalise_many(raw) == texts
    fast = predict_normalised(model, texts)
    plain = plain_tfidf(model.vectorizer, texts)
    assert np.array_equal(fast.matrix.indptr, plain.indptr)
    assert np.array_equal(fast.matrix.indices, plain.indices)
    assert np.abs(fast.matrix.data - plain.data).max() <= TOLERANCE
    got, want = probabilities(model, fast.matrix), probabilities(model, plain)
    for kind in got:
        assert np.abs(got[kind] - want[kind]).max() <= TOLERANCE, kind
    for text, level, rule in zip(texts, fast.severity, fast.rules):
        if level != "none":
            assert severity_rule(text) == plain_rule(text)
    sensitive_rules = [r for r in fast.rules if r is not None]
    assert sensitive_rules, "no held-out item set off a severity rule: the comparison is empty"


def test_the_shipped_model_answers_the_held_out_items_as_it_did_before(heldout: list[RealItem]) -> None:
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    model = active_model()
    if model.version != recorded["model_version"]:
        pytest.skip(f"answers were recorded for model {recorded['model_version']}, active is {model.version}")
    answers = recorded["answers"]
    assert sorted(answers) == sorted(i.id for i in heldout)
    # Two batches of different sizes: answers must not depend on what shares a batch.
    results = list(classify_texts(inputs(heldout) + inputs(heldout[:7])))
    assert results[len(heldout):] == results[:7]
    texts = normalise_many([document_text(x) for x in inputs(heldout)])
    preds = predict_normalised(model, texts)
    probs = probabilities(model, preds.matrix)
    remit = list(model.clf("remit").classes_).index(True)
    negative = list(model.clf("sensitive").classes_).index(True)
    for k, (item, result) in enumerate(zip(heldout, results)):
        before = answers[item.id]
        assert (result["topic"], result["sensitive"], result["watch"], result["severity"]) == (
            before["topic"], before["sensitive"], before["watch"], before["severity"]), item.id
        assert result["explain"]["severity_rule"] == before["severity_rule"], item.id
        assert abs(float(preds.score[k]) - before["score"]) <= TOLERANCE, item.id
        assert np.abs(probs["topic"][k] - before["p_topic"]).max() <= TOLERANCE, item.id
        assert abs(probs["remit"][k, remit] - before["p_remit"]) <= TOLERANCE, item.id
        assert abs(probs["sensitive"][k, negative] - before["p_negative"]) <= TOLERANCE, item.id


def test_scheme_matches_are_the_automatons_whatever_the_pre_check(heldout: list[RealItem]) -> None:
    schemes = default_scheme_set()
    unchecked = SchemeSet.__new__(SchemeSet)
    unchecked.__dict__.update(schemes.__dict__, _any_word=re.compile(""))  # always walks the automaton
    texts = normalise_many([document_text(x) for x in inputs(heldout)])
    matched = [schemes.match(t, normalised=True) for t in texts]
    assert matched == [unchecked.match(t, normalised=True) for t in texts]
    assert sum(map(bool, matched)) >= 20  # the held-out part does set schemes off


def test_one_segmenter_call_per_batch_gives_each_text_its_own_tokens(heldout: list[RealItem]) -> None:
    texts = normalise_many([document_text(x) for x in inputs(heldout)])
    texts += ["", "法律援助", "", "12348 热线 无人接听", "a b c", "監獄 民警", "!?。", ""]
    joined = segment_joined(texts)
    assert joined is not None
    alone = [_segmenter().cut(t) for t in texts]
    expected: list[str] = []
    for i, tokens in enumerate(alone):
        expected += (["\n"] if i else []) + tokens
    assert joined == expected
    # A text with its own line break is refused, and the per-text path still segments it.
    assert segment_joined(["第一行\n第二行", "另一条"]) is None
    assert list(segment_cached("第一行\n第二行")) == _segmenter().cut("第一行\n第二行")


def test_a_batch_larger_than_one_classifier_batch_keeps_order_and_errors(heldout: list[RealItem]) -> None:
    items: list[Any] = inputs(heldout)
    items = (items * (BATCH // len(items) + 2))[: BATCH + 50]
    items[3], items[BATCH + 10] = {"title": 7}, "not an object"
    results = list(classify_texts(items))
    assert len(results) == len(items)
    assert set(results[3]) == {"error"} and set(results[BATCH + 10]) == {"error"}
    alone = list(classify_texts([items[BATCH + 20]]))[0]
    assert results[BATCH + 20] == alone


@pytest.mark.parametrize("text", [
    "某公证处员工伙同他人骗取购房款3000万元,已被刑事拘留。",
    "该团伙以投资养老为名非法集资2.5亿元,受害老人逾千人。",
    "社区矫正对象王某在矫正期间持刀杀害邻居,当地司法局被约谈。",
    "网传今年法考主观题泄题,司法部回应称正在核查。",
    "某监狱一名服刑人员脱逃,警方正在全力追捕。",
    "律师事务所主任涉嫌受贿被查,律协启动调查。",
    "市司法局召开全市人民调解工作推进会,部署下半年工作。",
    "法律援助中心热线12348全天有人接听,群众满意度达到98%。",
])  # fmt: skip
def test_the_severity_pre_check_never_hides_a_rule(text: str) -> None:
    assert severity_rule(normalise(text)) == plain_rule(normalise(text))
