"""The shipped model on real text: floors on the real held-out part (which no choice was made
on), real hard cases by corpus id, Traditional answered like Simplified, long crawled articles
answered like their lead, the classify contract, the loader's refusals and a save/load round
trip on a tiny model (nothing here retrains the shipped one)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import sklearn

from analysis.classify import (
    LEAD_CHARS,
    MODEL_ROOT,
    SEVERITIES,
    TOPICS,
    ModelError,
    Operating,
    active_model,
    active_version,
    classify_texts,
    lead,
    load_model,
    predict_normalised,
    save_model,
)
from analysis.real_corpus import RealItem, load_real, split_items
from analysis.text import normalise
from analysis.train import CORPUS_DIR, evaluate_on, fit, load_seed, real_item
from tests.shared_data import require_shared

KEYS = {"topic", "sensitive", "watch", "score", "severity", "keywords", "explain"}


def check_contract(result: dict[str, Any]) -> None:
    assert set(result) == KEYS
    assert result["topic"] in TOPICS
    assert isinstance(result["sensitive"], bool) and isinstance(result["watch"], bool)
    assert not (result["sensitive"] and result["watch"])
    assert 0.0 <= result["score"] <= 1.0
    assert result["severity"] in SEVERITIES
    assert (result["severity"] == "none") is (not result["sensitive"])
    assert isinstance(result["keywords"], list)
    json.dumps(result, ensure_ascii=False)  # the CLI writes it as one JSON line


@pytest.fixture(scope="module")
def real() -> dict[str, RealItem]:
    require_shared("corpora", "justice_real", "items.jsonl")
    items, _ = load_real()
    return {i.id: i for i in items}


@pytest.fixture(scope="module")
def heldout(real: dict[str, RealItem]) -> list[RealItem]:
    _, held = split_items(list(real.values()))
    return held


def answer(item: RealItem) -> dict[str, Any]:
    (result,) = classify_texts([{"title": item.title, "text": item.text}])
    return result


# ---------------------------------------------------------------- real held-out part


def test_the_shipped_model_holds_its_floors_on_the_real_held_out_part(heldout: list[RealItem]) -> None:
    assert len(heldout) >= 400
    result = evaluate_on(active_model(), [real_item(i) for i in heldout], None, baselines_too=False)
    assert result["sensitive"]["recall"] >= 0.90
    assert result["sensitive"]["precision"] >= 0.55
    assert result["topic"]["macro_f1"] >= 0.80
    assert result["severity_within_one"] >= 0.90
    assert result["major_at_least_serious"] >= 0.90
    scripts = result["by_script"]
    assert scripts["traditional"]["sensitive"]["f1"] >= scripts["simplified"]["sensitive"]["f1"] - 0.05


def test_no_held_out_item_was_trained_on() -> None:
    meta = json.loads((MODEL_ROOT / active_version() / "model.json").read_text(encoding="utf-8"))
    trained = set(meta["provenance"]["real"]["train_ids"])
    split = json.loads((CORPUS_DIR / "split.json").read_text(encoding="utf-8"))
    assert trained == set(split["train"]) and not trained & set(split["heldout"])


@pytest.mark.parametrize("item_id", ["rt-0001", "ea-0069", "gc-0007"])
def test_routine_work_with_alarming_words_is_not_sensitive(real: dict[str, RealItem], item_id: str) -> None:
    item = real[item_id]
    assert item.hard and not item.sensitive and item.topic != "other"
    result = answer(item)
    assert (result["topic"], result["sensitive"]) == (item.topic, False)


@pytest.mark.parametrize("item_id", ["ja-0021", "am-0046", "ja-0002"])
def test_a_calmly_worded_negative_item_is_caught(real: dict[str, RealItem], item_id: str) -> None:
    item = real[item_id]
    assert item.hard and item.sensitive
    result = answer(item)
    assert (result["topic"], result["sensitive"]) == (item.topic, True)
    assert result["severity"] in ("serious", "major", "critical")


@pytest.mark.parametrize("item_id", ["ot-0121", "nl-0257"])
def test_a_look_alike_from_outside_the_remit_is_not_ours(real: dict[str, RealItem], item_id: str) -> None:
    item = real[item_id]
    assert item.hard and item.topic == "other"
    result = answer(item)
    assert (result["topic"], result["sensitive"]) == ("other", False)


def test_a_minister_sentenced_is_graded_major_and_the_rule_says_why(real: dict[str, RealItem]) -> None:
    result = answer(real["ja-0018"])
    assert result["sensitive"] and result["severity"] == "major"
    assert result["explain"]["severity_rule"] is None or "部长" in result["explain"]["severity_rule"]


def test_a_traditional_item_is_answered_like_its_simplified_form(heldout: list[RealItem]) -> None:
    import opencc

    to_traditional = opencc.OpenCC("s2t").convert
    simplified = [i for i in heldout if i.script == "simplified"][:80]
    plain = list(classify_texts([{"title": i.title, "text": i.text} for i in simplified]))
    converted = list(classify_texts([{"title": to_traditional(i.title), "text": to_traditional(i.text)}
                                     for i in simplified]))
    assert any(to_traditional(i.text) != i.text for i in simplified)
    same = sum((a["topic"], a["sensitive"], a["severity"]) == (b["topic"], b["sensitive"], b["severity"])
               for a, b in zip(plain, converted))
    assert same >= 0.95 * len(simplified)


# ---------------------------------------------------------------- long documents


@pytest.fixture(scope="module")
def articles() -> list[tuple[str, str]]:
    from datetime import datetime, timezone

    from crawler.extract import extract_file

    pages = require_shared("pages")
    manifest = json.loads((pages / "manifest.json").read_text(encoding="utf-8"))
    names = [e["file"] for e in manifest["pages"] if e["page_type"] == "article"]
    now = datetime(2026, 12, 2, tzinfo=timezone.utc)
    drafts = [extract_file(pages / name, now) for name in names]
    return [(d.title or "", d.content) for d in drafts if len(d.content) > 3 * LEAD_CHARS]


def test_a_full_crawled_article_gets_the_answer_its_lead_gets(articles: list[tuple[str, str]]) -> None:
    assert len(articles) >= 30
    full = list(classify_texts([{"title": t, "text": body} for t, body in articles]))
    leads = list(classify_texts([{"title": t, "text": lead(body)} for t, body in articles]))
    assert all(len(lead(body)) <= LEAD_CHARS < len(body) for _, body in articles)
    for a, b in zip(full, leads):
        assert {k: a[k] for k in KEYS} == {k: b[k] for k in KEYS}


def test_the_lead_ends_at_a_sentence_end_when_one_is_near() -> None:
    body = "第一句。" * 30 + "很长的一句没有标点" * 30
    cut = lead(body)
    assert cut.endswith("。") and len(cut) <= LEAD_CHARS
    assert lead("短文。") == "短文。"


# ---------------------------------------------------------------- the contract


def test_each_input_gets_one_output_in_order_and_malformed_items_get_errors() -> None:
    items: list[Any] = [
        {"title": "某监狱服刑人员死亡 家属质疑监狱隐瞒死因", "text": "家属称遗体有多处伤痕，要求尸检。"},
        "not an object",
        {"title": "市司法局举办民法典普法讲座"},
        {"text": 12348},
        {},
        {"title": "", "text": "   "},
        {"text": "法援電話一直佔線，投訴無門"},
    ]
    results = list(classify_texts(items))
    assert len(results) == len(items)
    assert [("error" in r) for r in results] == [False, True, False, True, True, True, False]
    assert "object" in results[1]["error"] and "'text'" in results[3]["error"]
    for result in (results[0], results[2], results[6]):
        check_contract(result)
    assert (results[0]["topic"], results[0]["sensitive"]) == ("prison", True)
    assert results[0]["severity"] in ("serious", "major", "critical")
    assert (results[2]["topic"], results[2]["sensitive"]) == ("justice_admin", False)
    assert results[6]["topic"] == "legal_aid" and results[6]["sensitive"] is True
    assert results[6]["keywords"] == ["法援", "占线", "投诉"]


def test_explanations_name_the_ngrams_and_scheme_words_that_decided() -> None:
    (result,) = classify_texts([{"text": "今年法考某考点疑似泄题，多名考生称答案提前流出"}])
    explain = result["explain"]
    assert explain["model_version"] == active_version()
    assert explain["schemes"] == ["法考舞弊泄题"]
    assert explain["scheme_words"] == result["keywords"] == ["法考", "泄题", "答案"]
    grams = [g for g, _ in explain["sensitive_ngrams"]]
    assert grams and all(isinstance(w, float) and w > 0 for _, w in explain["sensitive_ngrams"])
    text = normalise("今年法考某考点疑似泄题，多名考生称答案提前流出")
    # Every n-gram is a word or character pair of this text, or a pair of its words.
    assert all(g in text or " " in g for g in grams)


@pytest.mark.parametrize(("text", "word"), [
    ("法律援助律师被指敷衍，当事人在看守所身亡", "身亡"),
    ("公证员违规办证致老人房产被骗，涉案金额1200万", "涉案金额"),
    ("社区矫正对象脱管后持刀杀人", "矫正对象脱管后持刀杀人"),
])
def test_a_severity_word_raises_the_level_and_is_named(text: str, word: str) -> None:
    (result,) = classify_texts([{"text": text}])
    assert result["sensitive"] and result["severity"] == "major"
    assert result["explain"]["severity_rule"] == f"“{word}” → 至少重大"


def test_severity_rules_only_raise_sensitive_levels() -> None:
    from analysis.severity import apply_rules

    texts = ["罪犯越狱", "律师被查", "律师被查", "普通投诉"]
    levels, rules = apply_rules(["general", "general", "major", "general"], texts)
    assert levels == ["major", "serious", "major", "general"]
    assert [r.word if r else None for r in rules] == ["越狱", "被查", None, None]
    assert apply_rules(["none"], ["罪犯越狱"])[0] == ["none"]


def test_it_streams_real_headlines_across_batches_keeping_order() -> None:
    path = require_shared("corpora", "thucnews_titles_20k", "test.txt")
    headlines = [line.split("\t")[0] for line in path.read_text(encoding="utf-8").splitlines()[:1200]]
    items: list[Any] = [{"title": h} for h in headlines]
    items[700] = ["broken"]
    results = list(classify_texts(iter(items)))
    assert len(results) == 1200 and "error" in results[700]
    good = [r for r in results if "error" not in r]
    assert all(set(r) == KEYS for r in good)
    # Portal headlines are not the bureau's business: nearly all are "other" and not sensitive.
    assert sum(r["topic"] == "other" for r in good) / len(good) >= 0.90
    assert sum(r["sensitive"] for r in good) / len(good) <= 0.10


def test_the_shipped_vocabulary_holds_nothing_from_the_research_corpora() -> None:
    names = set(active_model().names.tolist())
    assert not {"世界杯", "iphone", "万科"} & names
    meta = active_model().meta
    assert meta["provenance"]["real"]["sha256"] and "none" in meta["provenance"]["research_corpora"]


# ---------------------------------------------------------------- the artefact


@pytest.fixture
def copied_model(tmp_path: Path) -> Path:
    target = tmp_path / "v1"
    shutil.copytree(MODEL_ROOT / active_version(), target)
    return target


def test_the_loader_refuses_an_artefact_whose_hash_is_not_recorded(copied_model: Path) -> None:
    with (copied_model / "model.joblib").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelError, match="sha256"):
        load_model(copied_model)


def test_the_loader_refuses_another_scikit_learn_version(copied_model: Path) -> None:
    meta_path = copied_model / "model.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["versions"]["scikit-learn"] = "0.24.2"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="0.24.2"):
        load_model(copied_model)


def test_a_missing_active_marker_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="ACTIVE"):
        active_version(tmp_path)


def test_a_tiny_model_survives_a_save_and_load_round_trip(tmp_path: Path) -> None:
    seed, _ = load_seed(CORPUS_DIR)
    tiny = sorted(seed, key=lambda i: i.id)[::8]
    assert len({i.topic for i in tiny}) >= 3 and sum(i.sensitive for i in tiny) >= 10
    operating = Operating(0.4, 0.2, 1.5, -0.1)
    model = fit(tiny, operating, "tiny-1", {"versions": {"scikit-learn": sklearn.__version__}})
    save_model(model, tmp_path / "tiny-1")
    loaded = load_model(tmp_path / "tiny-1")
    texts = [normalise(i.text) for i in seed[:50]]
    before, after = predict_normalised(model, texts), predict_normalised(loaded, texts)
    assert after.topic == before.topic and after.severity == before.severity
    assert after.score.tolist() == before.score.tolist()
    assert loaded.version == "tiny-1" and loaded.operating == operating


def test_explanations_list_each_ngram_once_strongest_first() -> None:
    results = list(classify_texts([{"text": "市司法局举办反诈普法宣传讲座，提醒市民警惕电信诈骗"}]))
    for key in ("topic_ngrams", "sensitive_ngrams"):
        grams = results[0]["explain"][key]
        names = [g for g, _ in grams]
        assert len(names) == len(set(names)) and 1 <= len(names) <= 5
        assert [w for _, w in grams] == sorted((w for _, w in grams), reverse=True)


def test_explanations_leave_out_single_characters() -> None:
    (result,) = classify_texts([{"title": "某监狱服刑人员死亡 家属质疑监狱隐瞒死因"}])
    grams = result["explain"]["topic_ngrams"] + result["explain"]["sensitive_ngrams"]
    assert grams and all(len(g) > 1 for g, _ in grams)


def test_a_leak_of_the_national_exam_is_graded_major() -> None:
    (result,) = classify_texts([{"title": "网传法考考点疑似泄题", "text": "多名考生称考前收到押题材料，与考题高度相似。"}])
    assert result["sensitive"] and result["severity"] == "major"
    assert "泄题" in result["explain"]["severity_rule"]
