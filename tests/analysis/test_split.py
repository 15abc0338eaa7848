"""The held-out split never touches training: no shared id, no shared normalised text."""

from __future__ import annotations

import json
from typing import Any

import pytest

from analysis.text import normalise
from analysis.train import CORPUS_DIR, Item, dedupe, is_test_id, load_external, load_seed
from tests.shared_data import require_shared


@pytest.fixture(scope="module")
def split() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CORPUS_DIR / "split.json").read_text(encoding="utf-8"))
    return data


def test_train_and_test_ids_never_overlap(split: dict[str, Any]) -> None:
    assert split["train"] and split["test"]
    assert not set(split["train"]) & set(split["test"])


def test_the_split_follows_the_id_hash_rule(split: dict[str, Any]) -> None:
    assert all(is_test_id(i) for i in split["test"])
    assert not any(is_test_id(i) for i in split["train"])
    share = len(split["test"]) / (len(split["test"]) + len(split["train"]))
    assert 0.15 <= share <= 0.25


def texts_by_side(items: list[Item], split: dict[str, Any]) -> tuple[set[str], set[str]]:
    train_ids, test_ids = set(split["train"]), set(split["test"])
    train = {normalise(i.text) for i in items if i.id in train_ids}
    test = {normalise(i.text) for i in items if i.id in test_ids}
    return train, test


def test_no_seed_text_appears_on_both_sides(split: dict[str, Any]) -> None:
    seed, _ = load_seed(CORPUS_DIR)
    train, test = texts_by_side(seed, split)
    assert train and test and not train & test


def test_no_real_corpus_text_appears_on_both_sides(split: dict[str, Any]) -> None:
    external, _ = load_external(require_shared())
    seed, _ = load_seed(CORPUS_DIR)
    train, test = texts_by_side(external + seed, split)
    assert not train & test


def test_deduplication_keeps_the_first_id_of_identical_texts() -> None:
    a = Item("b-2", "法援電話佔線", "legal_aid", True, "general", "seed")
    b = Item("a-1", "法援电话占线", "legal_aid", True, "general", "seed")
    kept, dropped = dedupe([a, b])
    assert [i.id for i in kept] == ["a-1"] and dropped == 1
