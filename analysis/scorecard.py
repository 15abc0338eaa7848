"""The held-out table of ``yuqing model evaluate``: the model beside the cheap baselines and
the targets, in the figures the targets are stated in (pure: formats a report dict)."""

from __future__ import annotations

from typing import Any

# (label, path into the held-out report, target text)
ROWS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("敏感 召回率", ("sensitive", "recall"), "≥ 0.95"),
    ("敏感 精确率", ("sensitive", "precision"), "≥ 0.85"),
    ("敏感 F1", ("sensitive", "f1"), ""),
    ("含待研判的召回率", ("sensitive", "recall_with_watch"), ""),
    ("主题 macro-F1", ("topic", "macro_f1"), "≥ 0.92"),
    ("等级相差不超过一级（敏感条目）", ("severity_within_one",), "≥ 0.90"),
    ("重大条目定为较大及以上", ("major_at_least_serious",), "≥ 0.90"),
)
BASELINES = (("lexicon_konsheng", "词典 konsheng"), ("lexicon_houbb", "词典 houbb"),
             ("lexicon_any", "词典 任一"), ("snownlp_below_0.5", "SnowNLP<0.5"))


def _get(report: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = report
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "—"


def script_gap(held: dict[str, Any]) -> float | None:
    """Simplified minus Traditional sensitive F1 (positive: Traditional is worse)."""
    scripts = held.get("by_script", {})
    if "simplified" not in scripts or "traditional" not in scripts:
        return None
    gap = scripts["simplified"]["sensitive"]["f1"] - scripts["traditional"]["sensitive"]["f1"]
    return round(float(gap), 4)


def table(version: str, held: dict[str, Any]) -> str:
    """Plain-text table, one line per figure: model, target, then each baseline."""
    base = held.get("baselines", {})
    names = [label for key, label in BASELINES if key in base]
    header = ["指标", "模型", "目标", *names, "关键词主题"]
    lines = [[label, _fmt(_get(held, path)), target,
              *[_fmt(_get(base, (key, *path[1:]))) if path[0] == "sensitive" else "—"
                for key, _ in BASELINES if key in base],
              _fmt(_get(base, ("keyword_topic", "macro_f1"))) if path[0] == "topic" else "—"]
             for label, path, target in ROWS]
    lines.append(["繁体比简体 F1 低", _fmt(script_gap(held)), "≤ 0.05", *["—"] * len(names), "—"])
    for script, row in sorted(held.get("by_script", {}).items()):
        lines.append([f"  {script}（{row['items']} 条）敏感 F1 / 主题 F1",
                      f"{_fmt(row['sensitive']['f1'])} / {_fmt(row['topic_macro_f1'])}", "",
                      *[""] * len(names), ""])
    widths = [max(_width(r[k]) for r in [header, *lines]) for k in range(len(header))]
    title = (f"模型 {version}：真实留出集 {held.get('items')} 条（敏感 {held.get('sensitive_items')} 条）"
             "，留出集从未用于任何选择")
    return "\n".join([title] + [_row(r, widths) for r in [header, *lines]])


def _width(text: str) -> int:
    # CJK characters take two terminal columns.
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths)).rstrip()


def training_summary(report: dict[str, Any]) -> str:
    """What ``yuqing model train`` prints: the decision, the figures chosen on, the table."""
    cv, op = report["cross_validation"], report["held_out"]
    sens = cv["sensitive"]
    lines = [
        f"版本 {report['version']}  启用={report['activated']}  交叉验证得分={report['score']}"
        f"  当前模型={report['previous_score']}",
        f"交叉验证（真实训练部分 {cv['items']} 条，按事件分 {cv['folds']} 折）：敏感 召回率 "
        f"{_fmt(sens['recall'])} 精确率 {_fmt(sens['precision'])}，含待研判召回率 "
        f"{_fmt(sens['recall_with_watch'])}；主题 macro-F1 {_fmt(cv['topic']['macro_f1'])}；"
        f"等级相差不超过一级 {_fmt(cv['severity_within_one'])}",
        table(report["version"], op),
    ]
    return "\n".join(lines)
