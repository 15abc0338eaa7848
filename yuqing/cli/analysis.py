"""classify, analyse, model train|evaluate, schemes test, feedback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

import typer

from yuqing.cli.app import app, console, fail, local_time, open_context, print_json, typed_config
from yuqing.core.db import session_scope
from yuqing.core.settings import SettingsError

model_app = typer.Typer(help="研判模型：训练与评估。", no_args_is_help=True)
schemes_app = typer.Typer(help="监测方案（关键词布尔表达式）。", no_args_is_help=True)
app.add_typer(model_app, name="model")
app.add_typer(schemes_app, name="schemes")

CORPUS_HELP = "语料目录（含 seed/ 与 feedback/），默认为随附语料"


def _lines(stream: TextIO) -> Any:
    """Each input line parsed, or an error marker for that line (the others go on); a blank
    line is an error too, so that line N of the output always answers line N of the input."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            yield {"__error__": f"line {number}: empty"}
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            yield {"__error__": f"line {number}: not JSON ({exc.msg})"}


@app.command()
def classify(file: Path | None = typer.Argument(None, help="JSON Lines 文件；省略时读标准输入")) -> None:
    """逐行研判 {"title", "text"}：每行输入对应一行输出（主题、是否敏感、分值、等级、关键词与依据）。"""
    from analysis.classify import ModelError, classify_texts

    stream = file.open(encoding="utf-8") if file else sys.stdin
    items = list(_lines(stream))
    try:
        # An unparsable line reaches the classifier as an item without text (an error there
        # too); its own message replaces that one. Every error names its line.
        for number, (item, result) in enumerate(zip(items, classify_texts(items)), start=1):
            if isinstance(item, dict) and "__error__" in item:
                result = {"error": item["__error__"]}
            elif "error" in result:
                result = {"error": f"line {number}: {result['error']}"}
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    except ModelError as exc:
        fail(f"模型不可用 / model unavailable: {exc}")


@app.command()
def analyse(
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
    now: str | None = typer.Option(None, "--now", help="以此时间为研判时间（补录、演练）"),
) -> None:
    """研判未处理的文档：归并为事件、定级，并为新事件或升级事件启动时限。"""
    from yuqing.services.analyse import analyse_pending

    ctx = open_context()
    at = local_time(now, ctx)
    with session_scope(ctx.sessions) as session:
        result = analyse_pending(session, typed_config(ctx).alerts, at)
    if as_json:
        print_json(result.__dict__)
        return
    console.print(f"研判 {result.classified} 篇，敏感 {result.sensitive} 篇；新事件 "
                  f"{len(result.opened)} 个，升级 {len(result.raised)} 个，"
                  f"T0 提前 {len(result.moved_t0)} 个")


@model_app.command("train")
def model_train(
    data: Path = typer.Argument(None, help=CORPUS_HELP),
    force: bool = typer.Option(False, "--force", help="即使不优于当前模型也启用"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出完整报告"),
) -> None:
    """训练新模型（真实语料训练部分按事件分折交叉验证，留出集只评估）；不劣于当前模型时启用。"""
    from analysis.real_corpus import CORPUS_DIR, CorpusError
    from analysis.scorecard import training_summary
    from yuqing.services.model import retrain

    ctx = open_context()
    try:
        done = retrain(ctx.sessions, data or CORPUS_DIR, force=force, now=ctx.clock())
    except CorpusError as exc:
        fail(f"无法训练 / cannot train: {exc}")
    report, exported = done.report, done.feedback_items
    if as_json:
        print_json({**report, "feedback_items": exported})
        return
    console.print(f"纳入值班员反馈 {exported} 条", markup=False)
    sys.stdout.write(training_summary(report) + "\n")  # a table: never wrapped to the terminal


@model_app.command("evaluate")
def model_evaluate(
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出完整报告"),
) -> None:
    """在真实留出集上评估当前模型，并与简单方法（词典、SnowNLP、关键词主题）对比。"""
    from analysis.classify import ModelError
    from analysis.real_corpus import CorpusError
    from analysis.scorecard import table
    from analysis.train import evaluate_model

    try:
        report = evaluate_model()
    except (CorpusError, ModelError) as exc:
        fail(f"无法评估 / cannot evaluate: {exc}")
    if as_json:
        print_json(report)
        return
    sys.stdout.write(table(report["version"], report["held_out"]) + "\n")  # never wrapped


@schemes_app.command("test")
def schemes_test(text: str = typer.Argument(..., help="要检测的文本")) -> None:
    """显示文本命中的监测方案及命中词。"""
    from analysis.schemes import SchemeSet
    from analysis.text import normalise

    schemes = SchemeSet(typed_config(open_context()).schemes)
    matches = schemes.match(normalise(text), normalised=True)
    print_json([{"scheme": m.scheme, "words": m.words} for m in matches])


@app.command()
def feedback(
    document: int = typer.Argument(..., help="文档编号"),
    kind: str = typer.Option(..., "--kind", help="confirm, false_alarm, wrong_topic, wrong_severity"),
    by: str = typer.Option(..., "--by", help="反馈人"),
    topic: str | None = typer.Option(None, "--topic", help="正确的主题（wrong_topic）"),
    severity: str | None = typer.Option(None, "--severity", help="正确的等级（wrong_severity）"),
) -> None:
    """记录值班员对研判结果的反馈（下次训练时采用）。"""
    from analysis.feedback import FeedbackError, record_feedback

    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            row = record_feedback(session, document, kind, by=by, now=ctx.clock(), topic=topic,
                                  severity=severity)
            ident = row.id
    except (FeedbackError, SettingsError) as exc:
        fail(str(exc))
    console.print(f"已记录反馈 #{ident}")
