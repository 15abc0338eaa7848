"""Training on a small copy of the seed corpus in a temporary directory: model versions side by
side, and the active model replaced only by one not worse on the held-out split (or by force)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from analysis.classify import TOPICS, active_version, load_model
from analysis.train import CORPUS_DIR, is_test_id, train_model

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)


def small_corpus(target: Path, *, scramble_training_topics: bool = False) -> Path:
    """Every twelfth seed item per topic; optionally with the training side's topics rotated,
    which must make a clearly worse model on the untouched held-out side."""
    (target / "seed").mkdir(parents=True)
    for path in sorted((CORPUS_DIR / "seed").glob("*.jsonl")):
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[::12]]
        if scramble_training_topics:
            for record in records:
                if not is_test_id(record["id"]):
                    record["topic"] = TOPICS[(TOPICS.index(record["topic"]) + 1) % len(TOPICS)]
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        (target / "seed" / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("training")
    out = base / "models"
    good = train_model(small_corpus(base / "good"), out, external=False, baselines=False, now=NOW)
    bad_data = small_corpus(base / "bad", scramble_training_topics=True)
    later = NOW.replace(hour=9)
    refused = train_model(bad_data, out, external=False, baselines=False, now=later)
    marker_after_refusal = active_version(out)
    forced = train_model(bad_data, out, force=True, external=False, baselines=False, now=NOW.replace(hour=10))
    return {"out": out, "good": good, "refused": refused, "after_refusal": marker_after_refusal,
            "forced": forced, "split": json.loads((base / "good" / "split.json").read_text())}  # fmt: skip


def test_the_first_model_becomes_active(trained: dict[str, Any]) -> None:
    assert trained["good"]["activated"] is True
    assert trained["good"]["held_out"]["topic"]["macro_f1"] >= 0.8


def test_a_worse_model_is_kept_beside_but_not_activated(trained: dict[str, Any]) -> None:
    refused = trained["refused"]
    assert refused["activated"] is False and refused["score"] < refused["previous_score"]
    assert trained["after_refusal"] == trained["good"]["version"]
    assert (trained["out"] / refused["version"] / "model.joblib").is_file()


def test_force_activates_the_new_model_anyway(trained: dict[str, Any]) -> None:
    assert trained["forced"]["activated"] is True
    assert active_version(trained["out"]) == trained["forced"]["version"]


def test_the_report_has_k_fold_per_class_metrics_and_a_confusion_matrix(trained: dict[str, Any]) -> None:
    cv = trained["good"]["cross_validation"]
    assert cv["folds"]["topic"] == 5 and 2 <= cv["folds"]["severity"] <= 5
    assert set(cv["topic"]["per_class"]) == set(TOPICS)
    assert len(cv["topic"]["confusion"]) == len(TOPICS)
    assert {"precision", "recall", "f1", "threshold", "brier"} <= set(cv["sensitive"])


def test_the_saved_metadata_matches_the_split_and_loads(trained: dict[str, Any]) -> None:
    model = load_model(trained["out"] / trained["good"]["version"])
    provenance = model.meta["provenance"]
    assert provenance["test_items"] == len(trained["split"]["test"])
    assert "absent" in provenance["external"]
    assert model.meta["trained_at"] == NOW.isoformat()
