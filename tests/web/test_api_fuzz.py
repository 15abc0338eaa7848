"""schemathesis against the JSON API on a running uvicorn (SQLite, and PostgreSQL when it
answers): no 5xx for any generated
request, and nothing answered without a session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import settings
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.web.conftest import (ROLE_USER, add_cast, build_world, csrf_of, login, serving,
                                world_at)
from yuqing.core.clock import system_clock
from yuqing.core.db import make_engine, make_sessionmaker
from yuqing.core.settings import Settings
from yuqing.web.app import WebOptions, create_app

# Forty generated requests per operation and backend keep the run under half a minute.
# The schema does not depend on the data: take it from an app over an unused database.
_engine = make_engine("sqlite://")
SCHEMA = schemathesis.openapi.from_dict(
    create_app(Settings(), make_sessionmaker(_engine), system_clock,
               options=WebOptions(secret="schema-only-0123456789")).openapi())
_engine.dispose()


@dataclass
class Api:
    base_url: str
    cookies: dict[str, str]
    csrf: str


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, template_db: Path,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The API on SQLite, and on a fresh PostgreSQL database when the server answers."""
    pg: str | None = None
    if request.param == "sqlite":
        world = build_world(template_db, tmp_path_factory.mktemp("fuzz"))
    else:
        admin_url = request.getfixturevalue("pg_server")
        pg = f"yuqing_web_fuzz_{uuid.uuid4().hex[:10]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg}"'))
        url = admin_url.rsplit("/", 1)[0] + f"/{pg}"
        add_cast(url)
        world = world_at(url)
    try:
        for hours in (1, 3, 6):
            world.incident(t_event=world.clock() - timedelta(hours=hours))
        with serving(world.app) as base_url:
            client = TestClient(world.app, follow_redirects=False)
            assert login(client, ROLE_USER["duty_officer"]).status_code == 303
            csrf = csrf_of(client.get("/roster").text)
            yield Api(base_url, {"yuqing_session": client.cookies["yuqing_session"]}, csrf)
            client.close()
    finally:
        world.engine.dispose()
        if pg is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg}" WITH (FORCE)'))
            admin.dispose()


@SCHEMA.parametrize()
@settings(max_examples=40, deadline=None)
def test_no_generated_request_gets_a_server_error(case: schemathesis.Case, api: Api) -> None:
    case.call_and_validate(base_url=api.base_url, cookies=api.cookies,
                           headers={"x-csrf-token": api.csrf})


@SCHEMA.parametrize()
@settings(max_examples=40, deadline=None)
def test_no_generated_request_is_answered_without_a_session(case: schemathesis.Case,
                                                            api: Api) -> None:
    response = case.call(base_url=api.base_url)
    if case.method.upper() != case.operation.method.upper():  # a method the route lacks
        assert response.status_code == 405, response.text
        return
    # A path that is not an API path at all (a non-numeric id) is refused before anyone is
    # asked for a session (422); everything else needs one.
    assert response.status_code in (401, 422), response.text
    if response.status_code == 401:
        assert response.json() == {"detail": "未登录 / authentication required"}
    else:
        assert "incident_id" in response.text
