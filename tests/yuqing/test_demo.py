"""``yuqing demo`` runs the whole walking skeleton on a local site (in a subprocess, since
Scrapy's reactor starts once per process)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from alerts.models import Deadline
from analysis.models import Incident
from crawler.models import Document
from tests.conftest import CliResult
from yuqing.core.db import make_engine, make_sessionmaker, session_scope


def test_demo_prints_and_stores_documents_an_incident_and_two_deadlines(
        run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    result = run_cli("demo")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "文档（4 篇）" in out
    assert "事件（1 个）" in out
    assert "新闻发布会" in out and "首次权威信" in out
    assert "【舆情预警】" in out

    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'demo.db'}")
    with session_scope(make_sessionmaker(engine)) as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 4
        incident = session.scalars(select(Incident)).one()
        kinds = {d.kind: d for d in session.scalars(select(Deadline))}
        gbk_page = session.scalars(select(Document).where(Document.url.like("%a2.html"))).one()
    engine.dispose()
    assert incident.severity == "major" and incident.t0_source == "t_first_post"
    assert {"statement", "press_conference"} <= set(kinds)
    assert (kinds["statement"].due_at - incident.t0).total_seconds() == 5 * 3600
    assert (kinds["press_conference"].due_at - incident.t0).total_seconds() == 24 * 3600
    assert "法律职业资格考试" in gbk_page.content  # the GBK page decoded correctly
    assert "utm_source" not in "".join(out)  # canonical URLs in the alert
