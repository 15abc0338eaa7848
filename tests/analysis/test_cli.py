"""The ``yuqing classify`` contract, line by line, through the real command."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.conftest import CliResult

Run = Callable[..., CliResult]

LINES = [
    json.dumps({"title": "网传法考考点泄题", "text": "多名考生称考前在培训群看到与主观题高度相似的押题材料，要求司法局彻查。"},
               ensure_ascii=False),
    "{not json",
    json.dumps({"title": "本周末降温", "text": "气象台预计本周末最低气温零下三度。"}, ensure_ascii=False),
    json.dumps(["a list", "is not an item"]),
    json.dumps({"title": "", "text": ""}),
    "",
    "   ",
    json.dumps({"title": "社區矯正對象失聯", "text": "某區一名社區矯正對象脫管三天，期間涉嫌再次盜竊。"},
               ensure_ascii=False),
]


def test_classify_answers_every_line_in_order_with_errors_in_place(run_cli: Run) -> None:
    result = run_cli("classify", stdin="\n".join(LINES) + "\n")
    assert result.code == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == len(LINES)
    assert [("error" in o) for o in out] == [False, True, False, True, True, True, True, False]
    leak, weather, corrections = out[0], out[2], out[7]
    for item in (leak, weather, corrections):
        assert set(item) >= {"topic", "sensitive", "score", "severity", "keywords", "explain"}
        assert 0.0 <= item["score"] <= 1.0
    assert leak["topic"] == "exam" and leak["sensitive"] is True
    assert leak["severity"] in {"serious", "major", "critical"}
    assert weather["topic"] == "other" and weather["sensitive"] is False
    assert weather["severity"] == "none"
    assert corrections["topic"] == "corrections" and corrections["sensitive"] is True
    assert leak["explain"]["sensitive_ngrams"] and leak["keywords"]
    # Every error names its input line, blank lines included.
    for number in (2, 4, 5, 6, 7):
        assert out[number - 1]["error"].startswith(f"line {number}:"), out[number - 1]
    assert "empty" in out[5]["error"] and "empty" in out[6]["error"]


def test_schemes_test_names_the_matching_scheme_and_words(run_cli: Run) -> None:
    result = run_cli("schemes", "test", "网友曝光某公证处伪造公证书骗取老人房产")
    assert result.code == 0, result.stderr
    matches = json.loads(result.stdout)
    notary = next(m for m in matches if m["scheme"] == "公证造假")
    assert "公证处" in notary["words"] and "伪造" in notary["words"]


def test_a_bad_scheme_in_the_config_names_the_scheme_and_position(run_cli: Run, tmp_path: object) -> None:
    from pathlib import Path

    config = Path(str(tmp_path)) / "bad.yaml"
    config.write_text("schemes:\n  - name: 坏方案\n    expression: '(律师 AND 诈骗'\n", "utf-8")
    result = run_cli("schemes", "test", "律师诈骗", env={"YUQING_CONFIG": str(config)})
    assert result.code == 2 and "坏方案" in result.stderr


def test_model_evaluate_prints_the_held_out_table_beside_the_baselines(run_cli: Run) -> None:
    from tests.shared_data import require_shared

    require_shared("corpora", "justice_real", "items.jsonl")
    result = run_cli("model", "evaluate", env={"YUQING_SHARED_DATA": str(require_shared())})
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "真实留出集 423 条" in lines[0]
    header = lines[1].split()
    assert header[:3] == ["指标", "模型", "目标"] and "关键词主题" in header and "SnowNLP<0.5" in header
    recall = next(line for line in lines if line.startswith("敏感 召回率")).split()
    assert 0.0 <= float(recall[2]) <= 1.0 and recall[3] == "≥"
    assert any(line.startswith("重大条目定为较大及以上") for line in lines)
