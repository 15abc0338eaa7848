"""Backups of the embedded SQLite database, and their restore.

A backup is taken with SQLite's online backup API, so it is a consistent copy even while the
daemon and crawls write (WAL readers never block them): the copy is written beside the target
under a temporary name, checked (``PRAGMA integrity_check`` and the schema revision), and only
then renamed into place, so a crash mid-backup never leaves a half file under the given name.

PostgreSQL has its own tool for this: ``pg_dump`` (``BackupError`` says how).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """A backup or restore cannot be made; the message is one line for the operator."""


PG_DUMP_HINT = (
    "PostgreSQL 请用 pg_dump 备份 / for PostgreSQL use pg_dump: "
    "pg_dump -Fc -d {db} -f yuqing.dump；恢复 / restore: pg_restore --clean -d {db} yuqing.dump，"
    "然后运行 yuqing audit verify"
)


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    revision: str | None
    audit_rows: int


def sqlite_path(url: str) -> Path:
    """The file behind a SQLite URL, or ``BackupError`` for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(PG_DUMP_HINT.format(db=parsed.database or "yuqing"))
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("内存数据库无法备份 / an in-memory database cannot be backed up")
    return Path(parsed.database)


def _inspect(path: Path) -> tuple[str | None, int]:
    """Check a database file; return its Alembic revision and audit row count."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"无法打开 / cannot open {path}: {exc}") from None
    try:
        status = conn.execute("PRAGMA integrity_check").fetchone()
        if not status or status[0] != "ok":
            raise BackupError(f"数据库文件已损坏 / {path} fails integrity_check: {status}")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables:
            raise BackupError(f"不是 yuqing 数据库 / {path} is no yuqing database "
                              "(no alembic_version table)")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        audit_rows = (conn.execute("SELECT count(*) FROM audit_events").fetchone()[0]
                      if "audit_events" in tables else 0)
        return (row[0] if row else None), int(audit_rows)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"不是 SQLite 数据库 / {path} is not a SQLite database: {exc}") from None
    finally:
        conn.close()


def _copy(source: Path, target: Path, *, replacing_database: bool = False) -> None:
    """Copy ``source`` into ``target`` through the backup API, via a temporary file that is
    checked before it takes the target's name. ``replacing_database``: the target is a live
    database file, whose WAL and shared-memory files go with it (only once the copy is good)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"备份失败 / backup failed: {exc}") from None
    finally:
        src.close()
    try:
        _inspect(partial)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    if replacing_database:
        for suffix in ("-wal", "-shm"):  # the new file must not meet the old one's log
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(partial, target)


def backup(url: str, out: Path, *, overwrite: bool = False) -> BackupResult:
    """Write a consistent copy of the SQLite database at ``url`` to ``out``."""
    source = sqlite_path(url)
    if not source.exists():
        raise BackupError(f"数据库文件不存在 / database file {source} does not exist")
    if out.resolve() == source.resolve():
        raise BackupError("备份文件不能是数据库本身 / the backup cannot be the database itself")
    if out.exists() and not overwrite:
        raise BackupError(f"文件已存在 / {out} exists (use --force to replace it)")
    _inspect(source)
    _copy(source, out)
    revision, audit_rows = _inspect(out)
    return BackupResult(out, out.stat().st_size, revision, audit_rows)


def restore(backup_file: Path, url: str, *, overwrite: bool = False) -> BackupResult:
    """Put a backup in place as the SQLite database at ``url``.

    The backup is checked first; an existing database is only replaced with ``overwrite``
    (stop ``yuqing run`` first: a running daemon would keep writing to the old file).
    """
    target = sqlite_path(url)
    if not backup_file.exists():
        raise BackupError(f"备份文件不存在 / backup file {backup_file} does not exist")
    revision, audit_rows = _inspect(backup_file)
    if target.exists() and not overwrite:
        raise BackupError(f"数据库已存在 / {target} exists: stop yuqing run, then restore with "
                          "--force to replace it")
    _copy(backup_file, target, replacing_database=True)
    return BackupResult(target, target.stat().st_size, revision, audit_rows)
