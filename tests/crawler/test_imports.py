"""``yuqing import`` through the real CLI: the reference time of relative dates, tickets that
share their text, and workbooks that are broken, empty or hold their data elsewhere."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook
from sqlalchemy import select

from crawler.imports import TableError, read_table
from crawler.models import Document
from tests.conftest import CliResult
from tests.shared_data import require_shared
from yuqing.core.db import make_engine, make_sessionmaker, session_scope

Cli = Callable[..., CliResult]
HEADER = ["工单编号", "标题", "诉求内容", "受理时间"]
COLUMNS = {"text": "诉求内容", "title": "标题", "published_at": "受理时间", "id": "工单编号"}


@pytest.fixture
def env(run_cli: Cli, tmp_path: Path) -> dict[str, str]:
    config = {"sources": [{"name": "hotline", "kind": "import", "columns": COLUMNS}]}
    (tmp_path / "yuqing.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    env = {"YUQING_CONFIG": str(tmp_path / "yuqing.yaml")}
    assert run_cli("init", env=env).code == 0
    return env


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path


def documents(tmp_path: Path) -> list[Document]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with session_scope(make_sessionmaker(engine)) as session:
        docs = list(session.scalars(select(Document).order_by(Document.id)))
    engine.dispose()
    return docs


def imported(run_cli: Cli, env: dict[str, str], path: Path, *extra: str) -> dict[str, Any]:
    run = run_cli("import", str(path), "--source", "hotline", "--json", *extra, env=env)
    assert run.code == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def one_line_error(run: CliResult) -> str:
    assert run.code != 0
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    return run.stderr.strip()


# --- 8.3: relative dates against the export's time ------------------------------------------


def test_relative_dates_are_read_against_the_export_time_given_with_as_of(
        run_cli: Cli, env: dict[str, str], tmp_path: Path) -> None:
    table = write_csv(tmp_path / "export.csv", [
        ["B1", "", "社区矫正报到排队太久", "昨天 14:00"],
        ["B2", "", "法律援助申请材料太多", "3小时前"],
        ["B3", "", "公证处电话没人接", "昨天"],
    ])
    summary = imported(run_cli, env, table, "--as-of", "2026-11-20 09:30")
    assert summary["reference"] == "as_of"
    assert summary["reference_time"] == "2026-11-20T01:30:00+00:00"
    when = {d.url.rsplit("/", 1)[-1]: d.published_at for d in documents(tmp_path)}
    assert when == {
        "B1": datetime(2026, 11, 19, 6, 0, tzinfo=timezone.utc),  # 昨天 14:00 Beijing
        "B2": datetime(2026, 11, 19, 22, 30, tzinfo=timezone.utc),  # 06:30 Beijing
        "B3": datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc),  # 19 November, a day
    }


def test_the_import_says_which_reference_time_it_used(
        run_cli: Cli, env: dict[str, str], tmp_path: Path) -> None:
    table = write_csv(tmp_path / "export.csv", [["C1", "", "调解结果不满意", "昨天 09:00"]])
    given = run_cli("import", str(table), "--source", "hotline", "--as-of", "2026-11-20 09:30",
                    env=env)
    assert given.code == 0 and "按导出时间（--as-of） 2026-11-20 09:30 换算" in given.stdout
    table = write_csv(tmp_path / "later.csv", [["C2", "", "律师收费不透明", "昨天 10:00"]])
    default = imported(run_cli, env, table)
    assert default["reference"] == "import_time" and default["reference_time"]


@pytest.mark.parametrize("as_of", ["2099-01-01 00:00", "yesterday"])
def test_an_as_of_in_the_future_or_unreadable_is_refused_with_one_line(
        run_cli: Cli, env: dict[str, str], tmp_path: Path, as_of: str) -> None:
    table = write_csv(tmp_path / "export.csv", [["D1", "", "投诉内容", "昨天 09:00"]])
    run = run_cli("import", str(table), "--source", "hotline", "--as-of", as_of, env=env)
    assert "--as-of" in one_line_error(run)
    assert documents(tmp_path) == []


# --- 8.11: tickets with their own ids -----------------------------------------------------------


def test_distinct_tickets_with_the_same_text_are_each_kept_and_linked(
        run_cli: Cli, env: dict[str, str], tmp_path: Path) -> None:
    same = "12348热线一直打不通"  # short: no fingerprint, linked by its exact text
    table = write_csv(tmp_path / "tickets.csv", [
        [f"T{n}", "", same, f"2026-11-28 0{n}:00"] for n in range(1, 6)])
    first = imported(run_cli, env, table)
    assert (first["new"], first["duplicates"], first["same_text"]) == (5, 0, 4)
    docs = documents(tmp_path)
    assert [d.near_duplicate_of_id for d in docs] == [None] + [docs[0].id] * 4
    again = imported(run_cli, env, table)  # the same tickets: nothing new
    assert (again["new"], again["duplicates"]) == (0, 5)
    assert len(documents(tmp_path)) == 5


def test_real_complaint_texts_repeated_under_new_ticket_ids_join_one_family(
        run_cli: Cli, env: dict[str, str], tmp_path: Path) -> None:
    items = require_shared("corpora", "justice_real", "items.jsonl").read_text("utf-8")
    text = next(row["text"] for row in map(json.loads, items.splitlines())
                if row["topic"] == "legal_aid" and len(row["text"]) >= 100)
    table = write_csv(tmp_path / "tickets.csv", [[f"R{n}", "", text, ""] for n in range(1, 4)])
    assert imported(run_cli, env, table)["new"] == 3
    docs = documents(tmp_path)
    assert [d.near_duplicate_of_id for d in docs] == [None, docs[0].id, docs[0].id]


def test_rows_without_an_id_and_with_a_known_text_are_still_duplicates(
        run_cli: Cli, env: dict[str, str], tmp_path: Path) -> None:
    table = write_csv(tmp_path / "posts.csv", [["", "", "留言内容相同", ""], ["", "", "留言内容相同", ""]])
    summary = imported(run_cli, env, table)
    assert (summary["new"], summary["duplicates"]) == (1, 1)


# --- workbooks --------------------------------------------------------------------------------


def workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_a_file_named_xlsx_that_is_no_workbook_gives_one_clear_line(
        run_cli: Cli, env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "export.xlsx"
    bad.write_text("工单编号,诉求内容\nA1,这其实是CSV\n", encoding="utf-8")
    line = one_line_error(run_cli("import", str(bad), "--source", "hotline", env=env))
    assert "不是有效的 XLSX 工作簿" in line and "BadZipFile" not in line


def test_data_on_the_second_sheet_is_read_and_the_sheet_named(
        run_cli: Cli, env: dict[str, str], tmp_path: Path) -> None:
    book = workbook(tmp_path / "export.xlsx", {
        "说明": [["12345 热线工单导出"], ["导出人：值班室"]],
        "工单": [["12345 工单明细"], HEADER, ["W1", "", "社区矫正人员夜间外出无人管", "2026-11-28 20:10"],
               ["W2", "", "人民调解协议没人督促履行", None], [None, None, None, None]],
    })
    run = run_cli("import", str(book), "--source", "hotline", env=env)
    assert run.code == 0, run.stderr
    assert "读取工作表「工单」" in run.stdout and "新增 2 条" in run.stdout
    assert {d.content for d in documents(tmp_path)} == {"社区矫正人员夜间外出无人管",
                                                        "人民调解协议没人督促履行"}


@pytest.mark.parametrize(("sheets", "says"), [
    ({"Sheet1": []}, "工作簿是空的"),
    ({"Sheet1": [HEADER]}, "工作表「Sheet1」只有表头"),
    ({"Sheet1": [["编号", "内容"], ["1", "别的表"]]}, "没有工作表含“诉求内容”列"),
])
def test_an_empty_workbook_never_imports_zero_rows_silently(
        run_cli: Cli, env: dict[str, str], tmp_path: Path,
        sheets: dict[str, list[list[Any]]], says: str) -> None:
    book = workbook(tmp_path / "export.xlsx", sheets)
    assert says in one_line_error(run_cli("import", str(book), "--source", "hotline", env=env))


def test_an_empty_csv_is_an_error_too(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(TableError, match="诉求内容"):
        read_table(empty, "诉求内容")
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(HEADER) + "\n", encoding="utf-8")
    with pytest.raises(TableError, match="只有表头"):
        read_table(header_only, "诉求内容")
