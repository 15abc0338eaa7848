"""/reports/export: the link of the scheduled report messages gives the period's report."""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import unquote

import openpyxl
import pytest
from docx import Document as Docx
from fastapi.testclient import TestClient

Client = Callable[[str | None], TestClient]
WEEK = "from=2026-11-23&to=2026-11-29"


def test_a_leader_downloads_the_weeks_report_as_word_and_excel(client_for: Client) -> None:
    leader = client_for("leader")
    word = leader.get(f"/reports/export?{WEEK}&format=docx")
    assert word.status_code == 200
    assert word.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
    disposition = word.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "舆情回应时效报告_2026-11-23_2026-11-29.docx" in unquote(disposition)
    text = "\n".join(p.text for p in Docx(io.BytesIO(word.content)).paragraphs)
    assert "2026-11-23" in text and "2026-11-29" in text
    excel = leader.get(f"/reports/export?{WEEK}&format=xlsx")
    assert excel.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(excel.content)).sheetnames


@pytest.mark.parametrize("query", ["from=2026-11-29&to=2026-11-23&format=docx",
                                   "from=yesterday&to=2026-11-29&format=docx",
                                   f"{WEEK}&format=pdf",
                                   "from=2020-01-01&to=2026-11-29&format=csv"])
def test_a_bad_period_or_format_is_a_clear_422(client_for: Client, query: str) -> None:
    answer = client_for("office").get(f"/reports/export?{query}")
    assert answer.status_code == 422 and ("无效" in answer.text or "过长" in answer.text)


def test_anonymous_goes_to_login_and_a_duty_officer_is_refused(client_for: Client) -> None:
    anonymous = client_for(None).get(f"/reports/export?{WEEK}&format=docx")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert client_for("duty_officer").get(f"/reports/export?{WEEK}&format=docx").status_code == 403
