"""`yuqing backup` / `yuqing restore`: a consistent copy while others write, a restore that
`yuqing audit verify` passes, and refusals that change nothing."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.conftest import CliResult
from yuqing.core import audit
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.core.migrate import upgrade

Run = Callable[..., CliResult]
T = datetime(2026, 12, 2, 4, 0, tzinfo=timezone.utc)


def _database(path: Path, rows: int) -> str:
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    for i in range(rows):
        with session_scope(sessions) as session:
            audit.record(session, actor="zhang", action="incident.ack", object_type="incident",
                         object_id=i, details={"note": f"夜班第{i}次确认"},
                         now=T + timedelta(minutes=i))
    engine.dispose()
    return url


def _verify(run_cli: Run, url: str) -> dict[str, object]:
    result = run_cli("audit", "verify", "--json", env={"YUQING_DATABASE_URL": url})
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_a_backup_taken_during_a_write_restores_and_passes_audit_verify(
        run_cli: Run, tmp_path: Path) -> None:
    url = _database(tmp_path / "live.db", rows=5)
    writer = sqlite3.connect(tmp_path / "live.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process is mid-write while the backup runs
    writer.execute("DELETE FROM audit_events WHERE seq = 5")  # not committed: not in the copy
    out = tmp_path / "backups" / "yuqing-20261202.db"
    taken = run_cli("backup", "--out", str(out), "--json", env={"YUQING_DATABASE_URL": url})
    writer.execute("COMMIT")
    writer.close()
    assert taken.code == 0, taken.stderr
    assert json.loads(taken.stdout)["audit_rows"] == 5
    assert not list(out.parent.glob(".*partial"))

    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    done = run_cli("restore", str(out), env={"YUQING_DATABASE_URL": restored_url})
    assert done.code == 0, done.stderr
    assert "yuqing audit verify" in done.stdout
    assert _verify(run_cli, restored_url) == {"ok": True, "checked": 5, "problem": None,
                                              "bad_seq": None}


def test_restore_over_a_database_needs_force_and_then_replaces_it(
        run_cli: Run, tmp_path: Path) -> None:
    old_url = _database(tmp_path / "old.db", rows=3)
    out = tmp_path / "old-backup.db"
    assert run_cli("backup", "--out", str(out), env={"YUQING_DATABASE_URL": old_url}).code == 0
    live_url = _database(tmp_path / "live.db", rows=7)

    refused = run_cli("restore", str(out), env={"YUQING_DATABASE_URL": live_url})
    assert refused.code == 2
    assert "--force" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert _verify(run_cli, live_url)["checked"] == 7

    replaced = run_cli("restore", str(out), "--force", env={"YUQING_DATABASE_URL": live_url})
    assert replaced.code == 0, replaced.stderr
    assert _verify(run_cli, live_url) == {"ok": True, "checked": 3, "problem": None,
                                          "bad_seq": None}


def test_a_file_that_is_no_backup_is_refused_and_the_database_is_untouched(
        run_cli: Run, tmp_path: Path) -> None:
    live_url = _database(tmp_path / "live.db", rows=2)
    junk = tmp_path / "junk.db"
    junk.write_bytes("这不是数据库 / not a database\n".encode() * 200)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()

    for bad in (junk, other, tmp_path / "missing.db"):
        result = run_cli("restore", str(bad), "--force", env={"YUQING_DATABASE_URL": live_url})
        assert result.code == 2, bad
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert _verify(run_cli, live_url)["checked"] == 2


def test_a_backup_never_replaces_a_file_unasked_nor_the_database_itself(
        run_cli: Run, tmp_path: Path) -> None:
    url = _database(tmp_path / "live.db", rows=1)
    existing = tmp_path / "existing.db"
    existing.write_text("上周的备份")
    result = run_cli("backup", "--out", str(existing), env={"YUQING_DATABASE_URL": url})
    assert result.code == 2 and "--force" in result.stderr
    assert existing.read_text() == "上周的备份"
    itself = run_cli("backup", "--out", str(tmp_path / "live.db"), "--force",
                     env={"YUQING_DATABASE_URL": url})
    assert itself.code == 2
    assert _verify(run_cli, url)["checked"] == 1


def test_postgresql_is_pointed_to_pg_dump(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("backup", "--out", str(tmp_path / "x.db"),
                     env={"YUQING_DATABASE_URL": "postgresql://postgres@127.0.0.1/test"})
    assert result.code == 2
    assert "pg_dump -Fc -d test" in result.stderr and "pg_restore" in result.stderr
    assert not (tmp_path / "x.db").exists()
