"""The cheap ways, measured side by side with the model on the same held-out split.

(a) any hit on a public sensitive-word lexicon → "sensitive"; (b) SnowNLP sentiment < 0.5 →
"sensitive" (a dev-only tool, absent in production installs); (c) a plain keyword rule for topic.
The lexicons are read in place from shared/data and never copied into the project.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import ahocorasick

# Ordered: the first topic with the most hits wins; no hit means "other".
TOPIC_KEYWORDS: dict[str, tuple[str, ...]] = {
    "legal_aid": ("法律援助", "法援", "援助律师"),
    "exam": ("法考", "司法考试", "法律职业资格", "考场", "考生"),
    "notary": ("公证",),
    "lawyer": ("律师", "律所"),
    "appraisal": ("鉴定",),
    "mediation": ("调解",),
    "corrections": ("社区矫正", "矫正对象", "刑满释放", "安置帮教", "帮教"),
    "prison": ("监狱", "戒毒", "服刑", "狱警", "罪犯"),
    "justice_admin": ("司法局", "司法所", "普法", "行政复议", "12348", "公共法律服务", "法治"),
}


def keyword_topic(text: str) -> str:
    """Topic by counting keyword hits; ``other`` when nothing hits."""
    best, best_hits = "other", 0
    for topic, words in TOPIC_KEYWORDS.items():
        hits = sum(text.count(w) for w in words)
        if hits > best_hits:
            best, best_hits = topic, hits
    return best


def lexicon_files(shared_dir: Path) -> dict[str, list[Path]]:
    corpora = shared_dir / "corpora"
    return {
        "lexicon_konsheng": sorted((corpora / "sensitive_lexicon_konsheng" / "Vocabulary").glob("*.txt")),
        "lexicon_houbb": [corpora / "sensitive_word_dict_houbb" / "dict_v20240407.txt"],
    }


def build_lexicon(paths: Sequence[Path]) -> ahocorasick.Automaton:
    """One automaton over all terms; one-character terms are left out (they hit nearly every
    text, which would only make the baseline look worse than it needs to)."""
    automaton = ahocorasick.Automaton()
    for path in paths:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            term = line.strip().lower()
            if len(term) >= 2:
                automaton.add_word(term, term)
    automaton.make_automaton()
    return automaton


def lexicon_flags(automaton: ahocorasick.Automaton, texts: Sequence[str]) -> list[bool]:
    flags = []
    for text in texts:
        flags.append(next(iter(automaton.iter(text)), None) is not None)
    return flags


def snownlp_flags(texts: Sequence[str]) -> list[bool] | None:
    """SnowNLP sentiment < 0.5 as "sensitive"; None when SnowNLP is not installed."""
    try:
        from snownlp import SnowNLP
    except ImportError:
        return None
    return [bool(SnowNLP(text).sentiments < 0.5) for text in texts]
