"""Shared fixtures: real databases (SQLite files, and PostgreSQL when available) and the CLI."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from yuqing.core.clock import ManualClock
from yuqing.core.db import make_engine
from yuqing.core.migrate import upgrade

PG_ADMIN_URL = os.environ.get("YUQING_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("YUQING_REQUIRE_POSTGRES") == "1"


def _pg_available() -> str | None:
    """None if PostgreSQL answers, else the reason."""
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any driver or connection failure means "not available"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    reason = _pg_available()
    if reason is not None:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required (YUQING_REQUIRE_POSTGRES=1) but unreachable: {reason}")
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 unreachable: {reason}")
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"yuqing_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_server.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'yuqing.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind, migrated to head."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'yuqing.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    upgrade(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back after the test
    (SQLAlchemy's "joining a Session into an external transaction" recipe)."""
    connection = engine.connect()
    outer = connection.begin()
    sess = Session(bind=connection, join_transaction_mode="create_savepoint",
                   expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def clock() -> ManualClock:
    """Sunday 2026-11-29 08:00 in Beijing."""
    return ManualClock(datetime(2026, 11, 29, 0, 0, tzinfo=timezone.utc))


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., CliResult]:
    """Run the real ``yuqing`` command in a subprocess, in ``tmp_path``, with extra env."""

    def run(*args: str, env: dict[str, str] | None = None, stdin: str = "",
            cwd: Path | None = None, timeout: float = 120) -> CliResult:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
        full_env.setdefault("YUQING_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
        full_env.update(env or {})
        proc = subprocess.run(
            [sys.executable, "-m", "yuqing.cli", *args], input=stdin, capture_output=True,
            text=True, env=full_env, cwd=cwd or tmp_path, timeout=timeout,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run


# Tests that read ../shared/data are marked ``shared_data``, found from their code: the test,
# its fixtures and the helpers of its module they call, for a use of ``tests.shared_data`` or
# of the real corpus. `.ci/run` runs them with an empty data folder (`-m shared_data`) to prove
# that each skips with its reason instead of failing in a clone without the data.
_SHARED_USES = re.compile(r"\b(require_shared|shared_data_dir|real_corpus|load_real)\w*")
_CALLS = re.compile(r"\b([A-Za-z_]\w*)\(")


def _reads_shared(func: object, module: object, seen: set[str], depth: int = 0) -> bool:
    try:
        source = inspect.getsource(func)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return False
    if _SHARED_USES.search(source):
        return True
    if depth >= 3:
        return False
    for name in set(_CALLS.findall(source)) - seen:
        seen.add(name)
        helper = getattr(module, name, None)
        if inspect.isfunction(helper) and helper.__module__ == getattr(module, "__name__", None):
            if _reads_shared(helper, module, seen, depth + 1):
                return True
    return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        module = item.module
        funcs = [item.function] + [d.func for defs in item._fixtureinfo.name2fixturedefs.values()
                                   for d in defs if d.baseid != ""]
        if any(_reads_shared(f, module, set()) for f in funcs):
            item.add_marker(pytest.mark.shared_data)
