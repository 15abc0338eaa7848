"""A keyword rule standing in for the trained classifiers in the walking skeleton.

It is deliberately simple and is replaced by ``analysis.classify`` once a model ships.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.models import Severity

TOPIC_WORDS: dict[str, tuple[str, ...]] = {
    "legal_aid": ("法律援助", "法援"),
    "exam": ("法考", "司法考试", "法律职业资格考试"),
    "notary": ("公证",),
    "lawyer": ("律师", "律所"),
    "appraisal": ("司法鉴定", "鉴定"),
    "mediation": ("人民调解", "调解"),
    "corrections": ("社区矫正", "安置帮教"),
    "prison": ("监狱", "戒毒", "服刑"),
    "justice_admin": ("司法局", "司法所", "普法", "行政复议"),
}
NEGATIVE_WORDS = ("投诉", "举报", "泄题", "作弊", "受贿", "诈骗", "造假", "敷衍", "死亡", "殴打",
                  "抗议", "维权", "曝光", "乱收费", "失联")
GRAVE_WORDS = ("死亡", "泄题", "抗议")


@dataclass(frozen=True)
class Verdict:
    topic: str
    sensitive: bool
    score: float
    severity: Severity
    keywords: tuple[str, ...]


def placeholder_classify(title: str, text: str) -> Verdict:
    """Topic by the first matching word list; sensitive when a negative word appears."""
    body = f"{title}\n{text}"
    topic = next((code for code, words in TOPIC_WORDS.items() if any(w in body for w in words)),
                 "other")
    hits = tuple(w for w in NEGATIVE_WORDS if w in body)
    sensitive = topic != "other" and bool(hits)
    if not sensitive:
        return Verdict(topic, False, 0.1, Severity.NONE, hits)
    grave = any(w in body for w in GRAVE_WORDS)
    return Verdict(topic, True, 0.9 if grave else 0.7,
                   Severity.MAJOR if grave else Severity.SERIOUS, hits)
