"""The role × route matrix: every route, every role (and anonymous), allowed or refused on the
server, whatever the page shows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import ROLE_USER, World, build_world, csrf_of, login

ROLES = ("duty_officer", "section", "office", "leader", "admin")
EVERYONE = frozenset(ROLES)
ACKERS = frozenset({"duty_officer", "section", "office", "leader"})  # yuqing.core.people
T0_FIXERS = frozenset({"duty_officer", "section"})
SOURCE_VIEWERS = frozenset({"duty_officer", "office", "admin"})


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    allowed: frozenset[str]
    kind: str = "page"  # page (redirect to login when anonymous) or api (401)
    ok: int = 200  # the status an allowed role gets


ROUTES = [
    Route("GET", "/", EVERYONE),
    Route("GET", "/incidents/{id}", EVERYONE),
    Route("GET", "/sources", SOURCE_VIEWERS),
    Route("GET", "/roster", EVERYONE),
    Route("GET", "/logout", EVERYONE),
    Route("POST", "/incidents/{id}/ack", ACKERS, ok=303),
    Route("POST", "/incidents/{id}/t0", T0_FIXERS, ok=303),
    Route("POST", "/logout", EVERYONE, ok=303),
    Route("GET", "/api/incidents", EVERYONE, "api"),
    Route("GET", "/api/incidents/{id}", EVERYONE, "api"),
    Route("GET", "/api/clocks", EVERYONE, "api"),
    Route("GET", "/api/openapi.json", EVERYONE, "api"),
    Route("POST", "/api/incidents/{id}/ack", ACKERS, "api"),
]


def _call(client: TestClient, route: Route, incident: int, csrf: str) -> int:
    path = route.path.replace("{id}", str(incident))
    if route.method == "GET":
        return client.get(path).status_code
    if route.kind == "api":
        return client.post(path, headers={"x-csrf-token": csrf}).status_code
    form = {"csrf": csrf, "t_event": "2026-11-29 06:30", "reason": "经核实，事件发生于早间",
            "next": "/"}
    return client.post(path, data=form).status_code


@dataclass
class Matrix:
    world: World
    incident: int
    clients: dict[str, TestClient]
    csrf: dict[str, str]


@pytest.fixture(scope="module")
def matrix(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    """One database and one logged-in client per role for the whole matrix (logging in is
    the slow part: argon2)."""
    world = build_world(template_db, tmp_path_factory.mktemp("matrix"))
    incident = world.incident()
    clients = {role: TestClient(world.app, follow_redirects=False) for role in ROLES}
    for role, client in clients.items():
        assert login(client, ROLE_USER[role]).status_code == 303
    csrf = {role: csrf_of(c.get("/roster").text) for role, c in clients.items()}
    yield Matrix(world, incident, clients, csrf)
    for client in clients.values():
        client.close()
    world.engine.dispose()


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
@pytest.mark.parametrize("role", (None, *ROLES), ids=lambda r: r or "anonymous")
def test_role_route_matrix(matrix: Matrix, role: str | None, route: Route) -> None:
    if role is None:
        client, csrf = TestClient(matrix.world.app, follow_redirects=False), "x"
    elif route.path == "/logout" and route.method == "POST":  # logging out ends the session
        client = TestClient(matrix.world.app, follow_redirects=False)
        login(client, ROLE_USER[role])
        csrf = csrf_of(client.get("/roster").text)
    else:
        client, csrf = matrix.clients[role], matrix.csrf[role]
    status = _call(client, route, matrix.incident, csrf)
    if role is None:
        assert status == (401 if route.kind == "api" else 303)
    elif role in route.allowed:
        assert status == route.ok
    else:
        assert status == 403


def test_a_state_change_without_the_csrf_token_is_refused_for_an_allowed_role(
        world: World, client_for: Callable[[str | None], TestClient]) -> None:
    incident = world.incident()
    client = client_for("duty_officer")
    assert client.post(f"/api/incidents/{incident}/ack").status_code == 403
    assert client.post(f"/api/incidents/{incident}/ack",
                       headers={"x-csrf-token": "forged"}).status_code == 403
    assert client.post(f"/incidents/{incident}/ack", data={"next": "/"}).status_code == 403
    board = client.get("/api/incidents").json()
    assert board[0]["acked_by"] is None


def test_the_board_shows_the_ack_button_only_to_roles_that_may_acknowledge(
        world: World, client_for: Callable[[str | None], TestClient]) -> None:
    world.incident()
    for role in ROLES:
        page = client_for(role).get("/").text
        assert ("确认收到" in page) == (role in ACKERS), role
