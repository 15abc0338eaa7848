"""`yuqing report` and `yuqing disclosures` as an operator runs them (real subprocess)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy.orm import Session

from tests.conftest import CliResult
from tests.responses.conftest import build_month
from yuqing.core.db import make_engine
from yuqing.core.migrate import upgrade

Run = Callable[..., CliResult]


@pytest.fixture
def cli_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"  # the database ``run_cli`` points at
    upgrade(url)
    return url


def test_report_writes_a_word_file_with_the_months_figures(run_cli: Run, cli_db: str,
                                                          tmp_path: Path) -> None:
    engine = make_engine(cli_db)
    with Session(engine) as session:
        build_month(session)
        session.commit()
    engine.dispose()
    result = run_cli("report", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "docx",
                     "--out", "out/nov.docx",
                     "--now", "2026-12-01 09:00")
    assert result.code == 0, result.stderr
    assert "事件 3 起，按时率 20.0%" in result.stdout
    document = Document(io.BytesIO((tmp_path / "out" / "nov.docx").read_bytes()))
    summary = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert summary["事件数（不含演练）"] == "3"
    late = next(t for t in document.tables if t.rows[0].cells[0].text == "事件")
    sections = [row.cells[3].text for row in late.rows]
    # A's section is stored with it; C was stored without one: its topic's owner in the config.
    assert "法律职业资格管理处" in sections and "律师公证工作管理科" in sections


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2026-11-30", "--to", "2026-11-01"], "before it starts"),
    (["--from", "2026-11-31", "--to", "2026-12-01"], "not a date"),
    (["--from", "2026-11-01", "--to", "2026-11-30", "--format", "pdf"], "unknown format"),
])
def test_report_refuses_bad_input_in_one_line_and_writes_nothing(
        run_cli: Run, cli_db: str, tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli("report", *args, "--out", "r.docx")
    assert result.code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.docx").exists()


def test_disclosures_add_publish_and_list_what_is_owed(run_cli: Run, cli_db: str) -> None:
    added = run_cli("disclosures", "add", "--title", "行政许可事项目录", "--kind", "long_term",
                    "--decided", "2026-09-29", "--by", "alice", "--json")
    assert added.code == 0, added.stderr
    first = json.loads(added.stdout)["id"]
    second = json.loads(run_cli("disclosures", "add", "--title", "公证收费", "--kind",
                                "immediate", "--decided", "2026-10-08", "--by", "alice",
                                "--json").stdout)["id"]
    assert run_cli("disclosures", "publish", str(second), "--on", "2026-10-09", "--url",
                   "https://sfj.example.gov.cn/a/1", "--by", "alice").code == 0
    owed = json.loads(run_cli("disclosures", "--json", "--now", "2026-10-13 09:00").stdout)
    assert [(o["id"], o["state"], o["due_on"]) for o in owed] == [
        (first, "overdue", "2026-10-12")]
    table = run_cli("disclosures", "--all", "--now", "2026-10-13 09:00")
    assert "逾期未公开" in table.stdout and "公开中" in table.stdout


def test_disclosures_refuse_a_periodic_item_without_cadence(run_cli: Run, cli_db: str) -> None:
    result = run_cli("disclosures", "add", "--title", "季度统计", "--kind", "periodic",
                     "--decided", "2026-10-08", "--by", "alice")
    assert result.code == 2 and "needs a cadence" in result.stderr
    assert json.loads(run_cli("disclosures", "--all", "--json").stdout) == []


def test_disclosures_use_an_admin_holiday_file(run_cli: Run, cli_db: str, tmp_path: Path) -> None:
    run_cli("disclosures", "add", "--title", "新年事项", "--kind", "immediate", "--decided",
            "2026-12-30", "--by", "alice")
    plain = json.loads(run_cli("disclosures", "--json", "--now", "2027-01-06").stdout)
    assert plain[0]["due_on"] == "2027-01-06"  # weekdays only: Dec 31, Jan 1, 4, 5, 6
    (tmp_path / "h.yaml").write_text("2027:\n  holidays: [2027-01-01]\n", encoding="utf-8")
    fixed = json.loads(run_cli("disclosures", "--json", "--now", "2027-01-06",
                               "--holidays", "h.yaml").stdout)
    assert fixed[0]["due_on"] == "2027-01-07"
    bad = run_cli("disclosures", "--holidays", "missing.yaml")
    assert bad.code == 2 and "missing.yaml" in bad.stderr
