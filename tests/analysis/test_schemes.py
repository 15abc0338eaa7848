"""Keyword schemes: the expression language, errors with positions, regions and exclusions."""

from __future__ import annotations

import pytest

from analysis.schemes import (
    SchemeConfig,
    SchemeError,
    SchemeMatch,
    SchemeSet,
    SchemesSection,
    default_scheme_set,
    load_schemes_yaml,
    match_schemes,
    parse_expression,
)
from yuqing.core.settings import AppConfig, SettingsError, section
from tests.shared_data import require_shared


def one(expression: str, **extra: list[str]) -> SchemeSet:
    return SchemeSet([SchemeConfig(name="测试", expression=expression, **extra)])


@pytest.mark.parametrize(
    ("expression", "position", "fragment"),
    [
        ("(法考 OR 司考", 10, "expected ')'"),
        ("法考 AND", 7, "ends too early"),
        ("法考 泄题", 4, "expected AND/OR/NOT"),
        ('律师 AND "跑路', 8, "unclosed quote"),
        (")律师", 1, "unexpected ')'"),
        ("公证 OR (造假 AND)", 14, "unexpected ')'"),
        ("NOT 普法", 1, "without any word"),
        ("", 1, "empty expression"),
        ("律师 AND OR 诈骗", 8, "unexpected 'OR'"),
    ],
)
def test_it_reports_the_scheme_and_position_of_a_bad_expression(
    expression: str, position: int, fragment: str
) -> None:
    with pytest.raises(SchemeError) as caught:
        parse_expression("法考监测", expression)
    assert caught.value.position == position
    assert caught.value.scheme == "法考监测"
    assert fragment in str(caught.value) and "法考监测" in str(caught.value)


@pytest.mark.parametrize(
    ("expression", "text", "matches"),
    [
        ("(法考 OR 司法考试) AND (泄题 OR 作弊)", "今年法考有考生作弊被抓", True),
        ("(法考 OR 司法考试) AND (泄题 OR 作弊)", "今年法考报名开始", False),
        ("律师 AND NOT 表彰", "律师收钱不办事", True),
        ("律师 AND NOT 表彰", "律师协会表彰优秀律师", False),
        ("公证处 + (造假 | 伪造) - 宣传", "公证处伪造材料", True),
        ("公证处 + (造假 | 伪造) - 宣传", "公证处开展防伪造宣传", False),
        ('"法律援助中心" AND 占线', "法律援助中心的电话总是占线", True),
        ("監獄 AND 死亡", "某监狱一名服刑人员死亡", True),
        ("ＡＢＣ OR 律所", "abc公司", True),
        ("a OR b AND c", "a", True),  # AND binds tighter than OR
        ("(a OR b) AND c", "a", False),
    ],
)
def test_it_evaluates_boolean_expressions(expression: str, text: str, matches: bool) -> None:
    assert bool(one(expression).match(text)) is matches


def test_it_requires_a_region_word_when_regions_are_given() -> None:
    schemes = one("律师 AND 投诉", regions=["东湖区", "西山县"])
    assert schemes.match("西山县一律师遭投诉") == [SchemeMatch("测试", ["西山县", "律师", "投诉"])]
    assert schemes.match("外省一律师遭投诉") == []


def test_an_exclusion_word_vetoes_the_match() -> None:
    schemes = one("司法局 AND 投诉", exclude=["投诉渠道"])
    assert schemes.match("市司法局公布投诉渠道") == []
    assert schemes.match("市民投诉区司法局推诿") == [SchemeMatch("测试", ["投诉", "司法局"])]


def test_it_reports_the_matching_words_in_order_of_appearance() -> None:
    result = match_schemes("今年法考疑似泄题，多个考场答案外流")
    assert SchemeMatch("法考舞弊泄题", ["法考", "泄题", "答案"]) in result


def test_it_matches_traditional_text_against_simplified_words() -> None:
    names = [m.scheme for m in match_schemes("張某社區矯正期間脫管後再犯盜竊罪")]
    assert names == ["社区矫正脱管再犯"]


def test_the_shipped_default_schemes_load_and_compile_into_one_automaton() -> None:
    configs = load_schemes_yaml()
    assert len(configs) >= 10 and len(default_scheme_set()) == len(configs)


def test_the_config_section_names_the_scheme_in_its_error() -> None:
    data = [{"name": "律师监测", "expression": "律师 AND (诈骗"}]
    with pytest.raises(SettingsError) as caught:
        section(AppConfig(), "schemes", SchemesSection, data)
    assert "律师监测" in str(caught.value) and "position 11" in str(caught.value)


def test_duplicate_scheme_names_are_refused() -> None:
    data = [{"name": "x", "expression": "律师"}, {"name": "x", "expression": "公证"}]
    with pytest.raises(SettingsError, match="duplicate"):
        section(AppConfig(), "schemes", SchemesSection, data)


def test_default_schemes_stay_quiet_on_real_entertainment_headlines() -> None:
    path = require_shared("corpora", "thucnews_titles_20k", "test.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    headlines = [line.split("\t")[0] for line in lines if line.endswith(("\t7", "\t9"))]
    hits = [h for h in headlines if match_schemes(h)]
    assert len(headlines) == 2000
    assert len(hits) <= 10


def test_search_queries_are_the_conjunctions_of_the_alternatives() -> None:
    from analysis.schemes import parse_expression, search_queries

    node = parse_expression("s", '(法考 OR "法律职业资格考试") AND (泄题 OR 作弊) AND NOT 演练')
    assert search_queries(node) == ["法考 泄题", "法考 作弊", "法律职业资格考试 泄题",
                                    "法律职业资格考试 作弊"]
    assert len(search_queries(node, limit=3)) == 3
