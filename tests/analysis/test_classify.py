"""The shipped model: the classify contract, held-out floors, the loader's refusals, and a
save/load round trip on a tiny model trained in a temporary directory (nothing is retrained)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import sklearn

from analysis.classify import (
    MODEL_ROOT,
    SEVERITIES,
    TOPICS,
    ModelError,
    active_model,
    active_version,
    classify_texts,
    load_model,
    predict_normalised,
    save_model,
)
from analysis.text import normalise
from analysis.train import CORPUS_DIR, dedupe, evaluate_on, fit, load_external, load_seed
from tests.shared_data import require_shared

KEYS = {"topic", "sensitive", "score", "severity", "keywords", "explain"}


def check_contract(result: dict[str, Any]) -> None:
    assert set(result) == KEYS
    assert result["topic"] in TOPICS
    assert isinstance(result["sensitive"], bool)
    assert 0.0 <= result["score"] <= 1.0
    assert result["severity"] in SEVERITIES
    assert (result["severity"] == "none") is (not result["sensitive"])
    assert isinstance(result["keywords"], list)
    json.dumps(result, ensure_ascii=False)  # the CLI writes it as one JSON line


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
    assert sum(r["topic"] == "other" for r in good) / len(good) >= 0.95
    assert sum(r["sensitive"] for r in good) / len(good) <= 0.05


@pytest.fixture(scope="module")
def shipped_meta() -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(
        (MODEL_ROOT / active_version() / "model.json").read_text(encoding="utf-8")
    )
    return meta


def test_the_shipped_model_meets_the_targets_on_its_held_out_split(shipped_meta: dict[str, Any]) -> None:
    held_out = shipped_meta["held_out"]
    assert held_out["sensitive"]["recall"] >= 0.90
    assert held_out["sensitive"]["precision"] >= 0.80
    assert held_out["topic"]["macro_f1"] >= 0.92
    assert held_out["severity_within_one"] >= 0.90


def test_the_shipped_model_beats_every_baseline(shipped_meta: dict[str, Any]) -> None:
    held_out, base = shipped_meta["held_out"], shipped_meta["held_out"]["baselines"]
    for name in ("lexicon_konsheng", "lexicon_houbb", "lexicon_any", "snownlp_below_0.5"):
        assert held_out["sensitive"]["f1"] > base[name]["f1"], name
    assert held_out["topic"]["macro_f1"] > base["keyword_topic"]["macro_f1"]


def test_the_shipped_metadata_records_versions_hashes_and_provenance(shipped_meta: dict[str, Any]) -> None:
    assert {"python", "scikit-learn", "rjieba", "jieba"} <= set(shipped_meta["versions"])
    assert len(shipped_meta["training_snapshot_sha256"]) == 64
    assert len(shipped_meta["userdict_sha256"]) == 64
    assert shipped_meta["labels"]["topic"] == list(TOPICS)
    external = shipped_meta["provenance"]["external"]
    assert all(len(source["sha256"]) == 64 and source["lines"] for source in external.values())
    assert set(shipped_meta["cross_validation"]["topic"]["per_class"]) == set(TOPICS)
    size = (MODEL_ROOT / active_version() / "model.joblib").stat().st_size
    assert size < 15 * 1024 * 1024


def test_recomputed_held_out_metrics_stay_above_the_floor() -> None:
    shared = require_shared()
    split = json.loads((CORPUS_DIR / "split.json").read_text(encoding="utf-8"))
    wanted = set(split["test"])
    seed, _ = load_seed(CORPUS_DIR)
    external, _ = load_external(shared)
    items, _ = dedupe(seed + external)
    test = [i for i in items if i.id in wanted]
    assert len(test) >= 0.9 * len(wanted)
    result = evaluate_on(active_model(), test, None, baselines_too=False)
    assert result["sensitive"]["recall"] >= 0.90
    assert result["sensitive"]["precision"] >= 0.80
    assert result["topic"]["macro_f1"] >= 0.92
    assert result["severity_within_one"] >= 0.90


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
    model = fit(tiny, 0.5, "tiny-1", {"versions": {"scikit-learn": sklearn.__version__}})
    save_model(model, tmp_path / "tiny-1")
    loaded = load_model(tmp_path / "tiny-1")
    texts = [normalise(i.text) for i in seed[:50]]
    before, after = predict_normalised(model, texts), predict_normalised(loaded, texts)
    assert after.topic == before.topic and after.severity == before.severity
    assert after.score.tolist() == before.score.tolist()
    assert loaded.version == "tiny-1" and loaded.threshold == 0.5


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
