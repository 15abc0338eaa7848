"""The real corpus as the project keeps it: an event-wise split recorded once (ids), label
corrections applied on load, and no corpus text in any tracked file."""

from __future__ import annotations

import json
import subprocess
import unicodedata
from pathlib import Path

import ahocorasick
import pytest

from analysis.real_corpus import (
    CORRECTIONS_PATH,
    SPLIT_PATH,
    CorpusError,
    RealItem,
    apply_corrections,
    corpus_path,
    event_set,
    load_corrections,
    load_real,
    read_split,
    split_items,
)
from tests.shared_data import REPO_ROOT, require_shared


@pytest.fixture(scope="module")
def items() -> list[RealItem]:
    require_shared("corpora", "justice_real", "items.jsonl")
    loaded, _ = load_real()
    return loaded


def test_the_split_names_every_item_once_and_holds_out_at_least_400(items: list[RealItem]) -> None:
    split = read_split()
    assert not set(split["train"]) & set(split["heldout"])
    assert set(split["train"]) | set(split["heldout"]) == {i.id for i in items}
    train, held = split_items(items)
    assert len(held) >= 400 and sum(i.sensitive for i in held) >= 100


def test_no_event_has_reports_on_both_sides(items: list[RealItem]) -> None:
    train, held = split_items(items)
    assert not {i.event for i in train if i.event} & {i.event for i in held if i.event}


def test_an_item_missing_from_the_split_is_an_error_not_a_silent_redraw(
    items: list[RealItem], tmp_path: Path
) -> None:
    split = json.loads(SPLIT_PATH.read_text(encoding="utf-8"))
    for side in ("train", "heldout"):
        split[side] = [i for i in split[side] if i != items[0].id]
    path = tmp_path / "split.json"
    path.write_text(json.dumps(split), encoding="utf-8")
    with pytest.raises(CorpusError, match=items[0].id):
        split_items(items, path)


def test_corrections_are_applied_on_load_and_must_match_the_corpus(
    items: list[RealItem], tmp_path: Path
) -> None:
    target = next(i for i in items if i.topic == "other")
    good = tmp_path / "corrections.jsonl"
    good.write_text(json.dumps({"id": target.id, "field": "topic", "old": "other",
                                "new": "lawyer", "reason": "test"}) + "\n", encoding="utf-8")
    fixed, provenance = load_real(corrections=good)
    assert next(i for i in fixed if i.id == target.id).topic == "lawyer"
    assert provenance["corrections"] == 1
    stale = load_corrections(good)
    with pytest.raises(CorpusError, match="expects"):
        apply_corrections([i for i in fixed if i.id == target.id], stale)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": target.id, "field": "text", "old": "", "new": "", "reason": "x"}) + "\n",
                   encoding="utf-8")
    with pytest.raises(CorpusError, match="line 1"):
        load_corrections(bad)


def test_the_projects_own_corrections_fit_the_corpus(items: list[RealItem]) -> None:
    fixes = load_corrections(CORRECTIONS_PATH)
    by_id = {i.id: i for i in items}
    assert all(getattr(by_id[f.id], f.field) == f.new for f in fixes)


def test_without_the_shared_data_the_corpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="真实语料"):
        corpus_path(tmp_path)


def test_the_event_set_is_events_reported_from_three_sites(items: list[RealItem]) -> None:
    chosen = event_set(items)
    sites: dict[str, set[str]] = {}
    for item in chosen:
        sites.setdefault(item.event, set()).add(item.site)
    assert len(sites) >= 60 and all(len(s) >= 3 for s in sites.values())


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(c for c in text if unicodedata.category(c)[0] not in "PSZC")


def test_no_tracked_file_holds_corpus_text() -> None:
    path = require_shared("corpora", "justice_real", "items.jsonl")
    automaton = ahocorasick.Automaton()
    for line in path.read_text(encoding="utf-8").splitlines():
        probe = _fold(json.loads(line)["text"])[:24]
        if len(probe) == 24:
            automaton.add_word(probe, probe)
    automaton.make_automaton()
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    copied = []
    for name in tracked:
        try:
            text = _fold((REPO_ROOT / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        if next(automaton.iter(text), None) is not None:
            copied.append(name)
    assert copied == []
