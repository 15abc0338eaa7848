"""The role × route matrix: every route, every role (and anonymous), allowed or refused on the
server, whatever the page shows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.web.conftest import ROLE_USER, World, build_world, csrf_of, login
from yuqing.core.clock import format_local
from yuqing.services import respond

ROLES = ("duty_officer", "section", "office", "leader", "admin")
EVERYONE = frozenset(ROLES)
ACKERS = frozenset({"duty_officer", "section", "office", "leader"})  # yuqing.core.people
T0_FIXERS = frozenset({"duty_officer", "section"})
SOURCE_VIEWERS = frozenset({"duty_officer", "office", "admin"})
SECTION, OFFICE, LEADER = frozenset({"section"}), frozenset({"office"}), frozenset({"leader"})
REJECTERS = frozenset({"office", "leader"})
PUBLISHERS = frozenset({"section", "office"})
REPORTERS = frozenset({"leader", "office", "admin"})
GRADERS = frozenset({"duty_officer", "section", "leader"})  # classification feedback


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    allowed: frozenset[str]
    kind: str = "page"  # page (redirect to login when anonymous) or api (401)
    ok: int = 200  # the status an allowed role gets
    needs: str | None = None  # a response in this state is made for each call ({rid})


ROUTES = [
    Route("GET", "/", EVERYONE),
    Route("GET", "/incidents/{id}", EVERYONE),
    Route("GET", "/sources", SOURCE_VIEWERS),
    Route("GET", "/roster", EVERYONE),
    Route("GET", "/logout", EVERYONE),
    Route("POST", "/incidents/{id}/ack", ACKERS, ok=303),
    Route("POST", "/incidents/{id}/t0", T0_FIXERS, ok=303),
    Route("POST", "/logout", EVERYONE, ok=303),
    Route("POST", "/incidents/{id}/responses", SECTION, ok=303),
    Route("POST", "/responses/{rid}/submit", SECTION, ok=303, needs="draft"),
    Route("POST", "/responses/{rid}/review", OFFICE, ok=303, needs="submitted"),
    Route("POST", "/responses/{rid}/reject", REJECTERS, ok=303, needs="submitted"),
    Route("POST", "/responses/{rid}/approve", LEADER, ok=303, needs="reviewed"),
    Route("POST", "/responses/{rid}/publish", PUBLISHERS, ok=303, needs="approved"),
    Route("GET", "/reports", REPORTERS),
    Route("GET", "/reports?preset=last_month", REPORTERS),
    Route("GET", "/reports?from=2026-11-29&to=2026-11-23", REPORTERS, ok=400),
    Route("GET", "/reports/export?from=2026-11-23&to=2026-11-29&format=docx", REPORTERS),
    Route("GET", "/documents/{doc}/feedback", GRADERS),
    Route("POST", "/documents/{doc}/feedback", GRADERS, ok=303),
    Route("GET", "/api/incidents", EVERYONE, "api"),
    Route("GET", "/api/incidents/{id}", EVERYONE, "api"),
    Route("GET", "/api/clocks", EVERYONE, "api"),
    Route("GET", "/api/openapi.json", EVERYONE, "api"),
    Route("POST", "/api/incidents/{id}/ack", ACKERS, "api"),
    Route("GET", "/api/incidents/{id}/responses", EVERYONE, "api"),
    Route("POST", "/api/incidents/{id}/responses", SECTION, "api", ok=201),
    Route("POST", "/api/responses/{rid}/submit", SECTION, "api", needs="draft"),
    Route("POST", "/api/responses/{rid}/review", OFFICE, "api", needs="submitted"),
    Route("POST", "/api/responses/{rid}/reject", REJECTERS, "api", needs="submitted"),
    Route("POST", "/api/responses/{rid}/approve", LEADER, "api", needs="reviewed"),
    Route("POST", "/api/responses/{rid}/publish", PUBLISHERS, "api", needs="approved"),
]
ORDER = ("draft", "submitted", "reviewed", "approved")


def _response_in(world: World, incident: int, state: str) -> int:
    """A statement of ``incident`` taken to ``state`` by the cast, through the services."""
    def make(session: Session) -> int:
        now = world.clock()
        rid = respond.draft(session, incident, "statement", "经核查，相关说法不实。",
                            ROLE_USER["section"], now).id
        steps = [lambda: respond.submit(session, rid, ROLE_USER["section"], now),
                 lambda: respond.review(session, rid, ROLE_USER["office"], now,
                                        confidential_ok=True),
                 lambda: respond.approve(session, rid, ROLE_USER["leader"], now)]
        for take in steps[:ORDER.index(state)]:
            take()
        return rid
    return int(world.add(make))


def _body(path: str, url: str, now: str) -> dict[str, Any]:
    step = path.rsplit("/", 1)[1]
    return {"responses": {"kind": "statement", "text": "经核查，相关说法不实。"},
            "submit": {}, "review": {"confidential_ok": True}, "reject": {"comment": "请补充"},
            "approve": {}, "publish": {"published_at": now, "url": url,
                                       "channels": ["website"]},
            "feedback": {"kind": "confirm"}}.get(step, {})


def _call(client: TestClient, route: Route, matrix: Matrix, csrf: str) -> int:
    path = route.path.replace("{id}", str(matrix.incident)).replace("{doc}", str(matrix.document))
    if route.needs is not None:
        rid = _response_in(matrix.world, matrix.incident, route.needs)
        path = path.replace("{rid}", str(rid))
    if route.method == "GET":
        return client.get(path).status_code
    body = _body(path, matrix.site, format_local(matrix.world.clock()))
    if route.kind == "api":
        if route.needs is not None or path.endswith("/responses"):
            if "published_at" in body:
                body["published_at"] = matrix.world.clock().isoformat()
            return client.post(path, headers={"x-csrf-token": csrf},
                               json=body or None).status_code
        return client.post(path, headers={"x-csrf-token": csrf}).status_code
    form = {"csrf": csrf, "t_event": "2026-11-29 06:30", "reason": "经核实，事件发生于早间",
            "next": "/", **{k: "yes" if v is True else v for k, v in body.items()}}
    return client.post(path, data=form).status_code


@dataclass
class Matrix:
    world: World
    incident: int
    document: int
    clients: dict[str, TestClient]
    csrf: dict[str, str]
    site: str  # a published statement page on loopback (publication evidence)


@pytest.fixture(scope="module")
def matrix(template_db: Path, tmp_path_factory: pytest.TempPathFactory,
           statement_site: str) -> Iterator[Matrix]:
    """One database and one logged-in client per role for the whole matrix (logging in is
    the slow part: argon2)."""
    world = build_world(template_db, tmp_path_factory.mktemp("matrix"))
    incident = world.incident()
    document = world.document(incident, "网传考场泄题", "网民称考题提前流出。",
                              "https://news.example.cn/exam.html")
    clients = {role: TestClient(world.app, follow_redirects=False) for role in ROLES}
    for role, client in clients.items():
        assert login(client, ROLE_USER[role]).status_code == 303
    csrf = {role: csrf_of(c.get("/roster").text) for role, c in clients.items()}
    yield Matrix(world, incident, document, clients, csrf, statement_site)
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
    status = _call(client, route, matrix, csrf)
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
