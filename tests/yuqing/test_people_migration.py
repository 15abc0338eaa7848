"""Revision 0013: login users become person records, with their role and password hash."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from alembic import command
from argon2 import PasswordHasher
from sqlalchemy import inspect, text

from yuqing.core.db import make_engine
from yuqing.core.migrate import alembic_config, check


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """An empty database of each kind (not migrated)."""
    return sqlite_url if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


def test_users_rows_become_people_with_their_role_and_hash(empty_url: str) -> None:
    db_url = empty_url
    command.upgrade(alembic_config(db_url), "0010")
    engine = make_engine(db_url)
    hashed = PasswordHasher().hash("s3cret-pass")
    at = datetime(2026, 11, 29, 0, 0, tzinfo=timezone.utc)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (name, role, password_hash, active, created_at) "
                          "VALUES (:n, :r, :h, :a, :c)"),
                     [{"n": "zhangsan", "r": "duty_officer", "h": hashed, "a": True, "c": at},
                      {"n": "wangwu", "r": "leader", "h": hashed, "a": False, "c": at}])
    command.upgrade(alembic_config(db_url), "head")
    check(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, display_name, roles, password_hash, active "
                                 "FROM people ORDER BY name")).all()
    tables = inspect(engine).get_table_names()
    engine.dispose()
    assert "users" not in tables
    decoded = [(r[0], r[1], r[2] if isinstance(r[2], list) else json.loads(r[2]),
                r[3] == hashed, bool(r[4])) for r in rows]
    assert decoded == [("wangwu", "wangwu", ["leader"], True, False),
                       ("zhangsan", "zhangsan", ["duty_officer"], True, True)]
