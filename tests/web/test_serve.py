"""``yuqing serve``: the real command, a real port on 127.0.0.1, and its one-line errors."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import select

from tests.conftest import CliResult
from tests.web.conftest import PASSWORD, csrf_of
from yuqing.core.db import make_engine, make_sessionmaker, session_scope
from yuqing.core.models import AuditEvent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_on_loopback_and_logs_in(template_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "serve.db"
    shutil.copy(template_db, db)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    env.update(YUQING_DATABASE_URL=f"sqlite:///{db}", YUQING_WEB_SECRET="serve-test-secret-123456")
    proc = subprocess.Popen([sys.executable, "-m", "yuqing.cli", "serve", "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as client:
            for _ in range(300):  # bounded: the process imports and binds within seconds
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    try:  # wait a little for the port, or notice that the process died
                        proc.wait(timeout=0.1)
                        break
                    except subprocess.TimeoutExpired:
                        continue
            assert proc.poll() is None, proc.communicate()[0]
            assert client.get("/").status_code == 303
            form = client.get("/login").text
            done = client.post("/login", data={"username": "zhangsan", "password": PASSWORD,
                                               "csrf": csrf_of(form), "next": "/roster"})
            assert done.status_code == 303 and done.headers["location"] == "/roster"
            assert "值班" in client.get("/roster").text
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0]
    assert "Uvicorn running on" in output or "Application startup complete" in output, output
    engine = make_engine(f"sqlite:///{db}")
    with session_scope(make_sessionmaker(engine), readonly=True) as session:
        by = session.scalars(select(AuditEvent.details).where(AuditEvent.action == "config.change"))
        assert [d["by"] for d in by] == ["yuqing serve"]  # the config it serves with, audited
    engine.dispose()


def test_serve_refuses_a_short_secret_in_one_line(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("init")
    assert result.code == 0, result
    result = run_cli("serve", env={"YUQING_WEB_SECRET": "short"})
    assert result.code == 2 and "YUQING_WEB_SECRET" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_refuses_a_database_that_is_not_initialised(
        run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("serve")
    assert result.code == 2 and "yuqing init" in result.stderr
