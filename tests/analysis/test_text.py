"""Normalisation and segmentation: Traditional and full-width input, the domain dictionary,
and the chosen engine (rjieba) cutting domain terms exactly as Python jieba does."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from analysis.text import (
    build_jieba,
    engine_name,
    normalise,
    normalise_many,
    read_userdict,
    segment,
    tokenize_zh,
)
from analysis.features import ZhVectorizer
from tests.shared_data import require_shared

DOMAIN_SENTENCES = [
    "我市法律援助中心今年共受理法律援助案件三千余件",
    "考生反映国家统一法律职业资格考试某考点存在作弊行为",
    "今年法考主观题成绩公布",
    "某区公证处公证员违规出具公证书被停止执业",
    "当事人对司法鉴定意见不服申请重新鉴定",
    "街道人民调解委员会调解员化解邻里纠纷",
    "社区矫正对象脱管后再犯罪，司法所被问责",
    "刑满释放人员安置帮教工作推进会召开",
    "市民拨打12348热线咨询劳动争议",
    "某律师事务所执业律师因虚假承诺被投诉",
    "强制隔离戒毒所开展戒毒人员家属开放日活动",
    "市司法局公布行政复议决定和政府信息公开年度报告",
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("法律援助中心電話一直佔線，請問怎麼辦", "法律援助中心电话一直占线,请问怎么办"),
        ("國家統一法律職業資格考試", "国家统一法律职业资格考试"),
        ("ＡＢＣ１２３４８　熱線", "abc12348 热线"),
        ("<p>公证处&nbsp;<b>通报</b></p>\n\n", "公证处 通报"),
        ("社区\u200b矫正", "社区矫正"),
    ],
)
def test_it_normalises_traditional_full_width_and_markup(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_normalisation_is_idempotent_on_real_weibo_text() -> None:
    path = require_shared("corpora", "weibo_covid19_emotion", "unlabeled_sample_gbk", "1.20.csv")
    posts = path.read_text(encoding="gb18030").splitlines()[1:80]
    assert posts
    assert all(normalise(normalise(p)) == normalise(p) for p in posts)


@pytest.fixture(scope="module")
def jieba_engine() -> Any:
    """Python jieba with the same user dictionary: the reference (slow to start, built once)."""
    return build_jieba()


@pytest.mark.parametrize("sentence", DOMAIN_SENTENCES)
def test_the_chosen_engine_segments_domain_text_as_jieba_does(
    sentence: str, jieba_engine: Any
) -> None:
    reference = [w for w in jieba_engine.cut(normalise(sentence)) if not w.isspace()]
    assert segment(normalise(sentence)) == reference


def test_every_user_dictionary_term_survives_segmentation_in_both_engines(
    jieba_engine: Any,
) -> None:
    missing = []
    for word, _, _ in read_userdict():
        text = normalise(f"关于{word}的情况说明")
        ours = segment(text)
        if ours != [w for w in jieba_engine.cut(text) if not w.isspace()] or word not in ours:
            missing.append(word)
    assert missing == []


def test_it_uses_rjieba_when_installed() -> None:
    assert engine_name() == "rjieba"


def test_importing_the_module_loads_nothing_heavy() -> None:
    code = "import analysis.text as t; print(t._engine is None and t._converter is None)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"


def test_tokens_drop_stop_words_and_punctuation() -> None:
    tokens = tokenize_zh(normalise("我们的社区矫正工作，已经取得了成效！"))
    assert tokens == ["社区矫正", "工作", "取得", "成效"]


def test_features_include_words_characters_and_character_bigrams() -> None:
    vectorizer = ZhVectorizer(min_df=1).fit([normalise("法援电话占线"), normalise("法援律师")])
    names = set(vectorizer.get_feature_names_out())
    assert {"法援", "电话", "占线", "援", "援电"} <= names and "的" not in names


def test_batch_normalisation_equals_one_by_one_on_real_posts() -> None:
    path = require_shared("corpora", "weibo_covid19_emotion", "unlabeled_sample_gbk", "1.19.csv")
    posts = path.read_text(encoding="gb18030").splitlines()[1:]
    posts += ["<b>國家統一法律職業資格考試</b>", "ＡＢＣ　熱線\u200b", "a\x00b", ""]
    assert normalise_many(posts) == [normalise(p) for p in posts]
