"""schemathesis against the JSON API on a running uvicorn (SQLite): no 5xx for any generated
request, and nothing answered without a session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient

from tests.web.conftest import ROLE_USER, build_world, csrf_of, login, serving
from yuqing.core.clock import system_clock
from yuqing.core.settings import Settings
from yuqing.core.db import make_engine, make_sessionmaker
from yuqing.web.app import WebOptions, create_app

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


@pytest.fixture(scope="module")
def api(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    world = build_world(template_db, tmp_path_factory.mktemp("fuzz"))
    for hours in (1, 3, 6):
        world.incident(t_event=world.clock() - timedelta(hours=hours))
    with serving(world.app) as base_url:
        client = TestClient(world.app, follow_redirects=False)
        assert login(client, ROLE_USER["duty_officer"]).status_code == 303
        csrf = csrf_of(client.get("/roster").text)
        yield Api(base_url, {"yuqing_session": client.cookies["yuqing_session"]}, csrf)
        client.close()
    world.engine.dispose()


@SCHEMA.parametrize()
def test_no_generated_request_gets_a_server_error(case: schemathesis.Case, api: Api) -> None:
    case.call_and_validate(base_url=api.base_url, cookies=api.cookies,
                           headers={"x-csrf-token": api.csrf})


@SCHEMA.parametrize()
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
