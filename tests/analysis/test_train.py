"""Training on a small part of the corpora in a temporary directory: versions side by side, the
active model replaced only by one not worse in cross-validation (or by force), the report and
provenance it records (hashes and ids, never text), and a clear refusal without the real corpus."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from analysis.classify import TOPICS, active_version, load_model
from analysis.real_corpus import load_real, read_split
from analysis.train import CORPUS_DIR, train_model
from tests.conftest import CliResult
from tests.shared_data import require_shared

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)


def small_seed(target: Path) -> Path:
    (target / "seed").mkdir(parents=True)
    for path in sorted((CORPUS_DIR / "seed").glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()[::12]
        (target / "seed" / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def small_split(target: Path) -> Path:
    """A third of the real training part and of the held-out part; the rest unused."""
    split = read_split()
    small = {"train": split["train"][::3], "heldout": split["heldout"][::3]}
    small["unused"] = sorted(set(split["train"]) | set(split["heldout"]) - set(small["train"]) - set(small["heldout"]))
    path = target / "split.json"
    path.write_text(json.dumps(small), encoding="utf-8")
    return path


def flipped(target: Path, train_ids: list[str]) -> Path:
    """Corrections that invert the sensitivity of every real training item: a clearly worse
    model, by cross-validation, than one trained on the true labels."""
    items, _ = load_real()
    by_id = {i.id: i for i in items}
    lines = []
    for item_id in train_ids:
        item = by_id[item_id]
        lines.append(json.dumps({"id": item_id, "field": "sensitive", "old": item.sensitive,
                                 "new": not item.sensitive, "reason": "test: inverted"}))
    path = target / "inverted.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require_shared("corpora", "justice_real", "items.jsonl")
    base = tmp_path_factory.mktemp("training")
    out, data, split = base / "models", small_seed(base / "seed"), small_split(base)
    common: dict[str, Any] = {"split_path": split, "baselines": False}
    good = train_model(data, out, now=NOW, **common)
    inverted = flipped(base, read_split(split)["train"])
    refused = train_model(data, out, now=NOW.replace(hour=9), corrections=inverted, **common)
    after_refusal = active_version(out)
    forced = train_model(data, out, True, now=NOW.replace(hour=10), corrections=inverted, **common)
    return {"out": out, "good": good, "refused": refused, "after_refusal": after_refusal,
            "forced": forced, "split": read_split(split)}


def test_the_first_model_becomes_active(trained: dict[str, Any]) -> None:
    assert trained["good"]["activated"] is True
    assert trained["good"]["held_out"]["items"] == len(trained["split"]["heldout"])


def test_a_worse_model_is_kept_beside_but_not_activated(trained: dict[str, Any]) -> None:
    refused = trained["refused"]
    assert refused["activated"] is False and refused["score"] < refused["previous_score"]
    assert trained["after_refusal"] == trained["good"]["version"]
    assert (trained["out"] / refused["version"] / "model.joblib").is_file()


def test_force_activates_the_new_model_anyway(trained: dict[str, Any]) -> None:
    assert trained["forced"]["activated"] is True
    assert active_version(trained["out"]) == trained["forced"]["version"]


def test_the_report_is_grouped_cross_validation_on_the_real_training_part(trained: dict[str, Any]) -> None:
    cv = trained["good"]["cross_validation"]
    assert cv["folds"] == 5 and cv["items"] == len(trained["split"]["train"])
    assert set(cv["topic"]["per_class"]) == set(TOPICS)
    assert {"precision", "recall", "f1", "brier", "recall_with_watch"} <= set(cv["sensitive"])
    # The operating threshold reaches the target recall on the out-of-fold scores.
    assert cv["sensitive"]["recall"] >= 0.95


def test_the_metadata_records_hashes_and_ids_but_no_text(trained: dict[str, Any]) -> None:
    directory = trained["out"] / trained["good"]["version"]
    model = load_model(directory)
    real = model.meta["provenance"]["real"]
    assert sorted(real["train_ids"]) == sorted(trained["split"]["train"]) and len(real["sha256"]) == 64
    assert model.meta["trained_at"] == NOW.isoformat()
    assert 0 < model.operating.watch <= model.operating.threshold < 1
    raw = (directory / "model.json").read_text(encoding="utf-8")
    items, _ = load_real()
    assert not [i.id for i in items if len(i.text) >= 24 and i.text[:24] in raw]


def test_training_without_the_real_corpus_fails_with_a_clear_line(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    empty = tmp_path / "no-shared"
    empty.mkdir()
    env = {"YUQING_SHARED_DATA": str(empty)}
    assert run_cli("init", env=env).code == 0
    result = run_cli("model", "train", env=env)
    assert result.code == 2 and "真实语料" in result.stderr and "Traceback" not in result.stderr
    assert run_cli("model", "evaluate", env=env).code == 2
