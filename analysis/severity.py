"""Words that decide severity, as rules beside the model (pure).

The severity model sees few major cases and spreads its guesses toward the middle level, so a
death in custody or a minister under investigation could come out 一般. These rules raise the
model's level to a floor when a word of the kind LABELS.md names for 重大 (deaths, escapes,
ministers, nationwide scandals, large frauds) or for 较大 appears, and say which word did it.
They only ever raise a level, and only for documents already judged sensitive.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.models import Severity

# In training (grouped CV on the real corpus) each of these words, in a sensitive item, marked a
# major case far more often than not: 越狱 9 of 11, 部长 14 of 17, 身亡 3 of 3, 落马 5 of 6.
MAJOR_WORDS = (
    "身亡", "死亡", "致死", "猝死", "非正常死亡", "越狱", "脱逃", "逃脱", "在逃", "部长", "落马",
    "严重违纪", "双开", "酷刑", "纸面服刑", "全国人大", "涉案金额", "以房养老",
)  # fmt: skip
SERIOUS_WORDS = (
    "杀人", "杀害", "遇害", "受贿", "殴打", "被查", "血案", "命案", "黑幕", "冒名顶替", "全国",
    "曝光", "热议", "刷屏", "冲上热搜", "通报批评",
)  # fmt: skip
# The national 法考 paper leaking touches every candidate in the country (LABELS.md: nationwide).
_LEAK_WORDS = ("泄题", "漏题", "试题泄露", "泄露试题")
_EXAM_LEAK = re.compile(r"(法考|司法考试|法律职业资格考试)[^。！？]{0,30}(" + "|".join(_LEAK_WORDS) + ")")
# 一亿 or more, or 1,000万 or more: a large fraud.
_LARGE_SUM = re.compile(r"(\d+(\.\d+)?|[一二三四五六七八九十几数]+)\s*亿|\d{4,}\s*万")
# A killing by someone under the bureau's supervision (LABELS.md: major).
_KILL_WORDS = ("杀人", "杀害", "命案", "砍死", "捅死")
_SUPERVISED_KILLING = re.compile(r"(矫正对象|社区服刑|刑满释放|刑释|假释|监外执行|保外就医)"
                                 r"[^。！？]{0,30}(" + "|".join(_KILL_WORDS) + ")")


@dataclass(frozen=True)
class SeverityRule:
    floor: Severity
    word: str


def _alternation(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, words)))


_MAJOR = _alternation(MAJOR_WORDS)
_SERIOUS = _alternation(SERIOUS_WORDS)
# A word every rule needs (one of its words, or the character 亿/万 of a large sum): a text
# without any is ruled out by one search instead of five.
_ANY = _alternation(MAJOR_WORDS + SERIOUS_WORDS + _KILL_WORDS + _LEAK_WORDS + ("亿", "万"))


def severity_rule(text: str) -> SeverityRule | None:
    """The strongest floor the words of a normalised text call for, with the (first) word;
    None when no severity word appears. One regex search per level."""
    if _ANY.search(text) is None:
        return None
    for pattern in (_MAJOR, _SUPERVISED_KILLING, _EXAM_LEAK, _LARGE_SUM):
        if match := pattern.search(text):
            return SeverityRule(Severity.MAJOR, match.group())
    if match := _SERIOUS.search(text):
        return SeverityRule(Severity.SERIOUS, match.group())
    return None


def apply_rules(levels: Sequence[str], texts: Sequence[str]
                ) -> tuple[list[str], list[SeverityRule | None]]:
    """Each sensitive level raised to its text's rule floor; the rule that applied (or None)."""
    out: list[str] = []
    used: list[SeverityRule | None] = []
    for level, text in zip(levels, texts):
        rule = severity_rule(text) if level != Severity.NONE.value else None
        if rule is not None and rule.floor.rank > Severity(level).rank:
            out.append(rule.floor.value)
            used.append(rule)
        else:
            out.append(level)
            used.append(None)
    return out, used
