"""Login, sessions, CSRF, lockout and the security headers of the dashboard."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, World, csrf_of, login
from yuqing.core.models import AuditEvent, Person
from yuqing.web.security import CSP


def audit_actions(world: World) -> list[tuple[str, str, dict[str, object]]]:
    with world.sessions() as session:
        return [(e.actor, e.action, e.details) for e in session.scalars(
            select(AuditEvent).order_by(AuditEvent.seq))]


def test_an_anonymous_page_request_is_sent_to_login_with_the_page_as_next(
        client_for: Callable[[str | None], TestClient]) -> None:
    response = client_for(None).get("/incidents/7")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/incidents/7"


def test_an_anonymous_api_request_is_refused_with_401(
        client_for: Callable[[str | None], TestClient]) -> None:
    client = client_for(None)
    assert client.get("/api/clocks").status_code == 401
    assert client.post("/api/incidents/1/ack").status_code == 401
    assert client.get("/healthz").json() == {"status": "ok"}


def test_login_opens_the_alert_link_it_came_from_and_is_audited(world: World) -> None:
    incident = world.incident()
    client = TestClient(world.app, follow_redirects=False)
    first = client.get(f"/incidents/{incident}")
    target = first.headers["location"].split("next=")[1]
    response = login(client, "zhangsan", next_=target)
    assert response.status_code == 303
    assert response.headers["location"] == f"/incidents/{incident}"
    page = client.get(f"/incidents/{incident}")
    assert page.status_code == 200 and "考场泄题" in page.text
    assert ("zhangsan", "auth.login", {"ip": "testclient"}) in audit_actions(world)


def test_the_session_cookie_is_signed_httponly_and_samesite_lax(world: World) -> None:
    client = TestClient(world.app, follow_redirects=False)
    cookie = login(client, "zhangsan").headers["set-cookie"]
    assert "yuqing_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on the intranet test server
    value = client.cookies["yuqing_session"]
    forged = value[:-1] + ("A" if value[-1] != "A" else "B")
    other = TestClient(world.app, follow_redirects=False, cookies={"yuqing_session": forged})
    assert other.get("/").status_code == 303  # a forged cookie is no session
    assert TestClient(world.app, follow_redirects=False,
                      cookies={"yuqing_session": value}).get("/").status_code == 200


def test_the_session_cookie_is_secure_over_https(world: World) -> None:
    client = TestClient(world.app, base_url="https://testserver", follow_redirects=False)
    assert "Secure" in login(client, "zhangsan").headers["set-cookie"]


def test_a_wrong_password_is_refused_and_audited(world: World) -> None:
    client = TestClient(world.app, follow_redirects=False)
    response = login(client, "zhangsan", password="wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert "yuqing_session" not in client.cookies
    assert ("zhangsan", "auth.login_failed",
            {"ip": "testclient", "reason": "bad credentials"}) in audit_actions(world)


def test_login_without_the_form_token_is_refused(world: World) -> None:
    client = TestClient(world.app, follow_redirects=False)
    response = client.post("/login", data={"username": "zhangsan", "password": PASSWORD,
                                           "csrf": "forged", "next": "/"})
    assert response.status_code == 403
    assert "yuqing_session" not in client.cookies


def test_five_failures_lock_the_account_until_the_lockout_passes(world: World) -> None:
    client = TestClient(world.app, follow_redirects=False)
    codes = [login(client, "gongkai", password=f"guess-{i}").status_code for i in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    locked = login(client, "gongkai")  # the right password does not help while locked
    assert locked.status_code == 429 and "锁定" in locked.text
    world.clock.advance(timedelta(minutes=16))
    assert login(client, "gongkai").status_code == 303
    failures = [a for a in audit_actions(world) if a[1] == "auth.login_failed"]
    assert len(failures) == 6 and failures[-1][2]["reason"] == "locked"


def test_the_session_expires_after_its_lifetime(world: World) -> None:
    client = TestClient(world.app, follow_redirects=False)
    login(client, "zhangsan")
    world.clock.advance(timedelta(hours=11, minutes=59))
    assert client.get("/").status_code == 200
    world.clock.advance(timedelta(minutes=2))
    assert client.get("/").status_code == 303
    assert client.get("/api/clocks").status_code == 401


def test_logout_needs_the_token_and_ends_the_session_even_for_a_kept_cookie(
        world: World) -> None:
    client = TestClient(world.app, follow_redirects=False)
    login(client, "zhangsan")
    kept = client.cookies["yuqing_session"]
    assert client.post("/logout", data={"csrf": "nope"}).status_code == 403
    csrf = csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    replay = TestClient(world.app, follow_redirects=False, cookies={"yuqing_session": kept})
    assert replay.get("/").status_code == 303
    assert "auth.logout" in [a[1] for a in audit_actions(world)]


def test_a_disabled_account_loses_its_open_session(world: World) -> None:
    client = TestClient(world.app, follow_redirects=False)
    login(client, "zhangsan")
    with world.sessions.begin() as session:
        user = session.scalars(select(Person).where(Person.name == "zhangsan")).one()
        user.active = False
    assert client.get("/").status_code == 303


def test_next_never_leaves_the_site(world: World) -> None:
    for target in ("https://evil.example.com/", "//evil.example.com/x", "/\\evil"):
        client = TestClient(world.app, follow_redirects=False)
        assert login(client, "zhangsan", next_=target).headers["location"] == "/"


def test_every_answer_carries_a_strict_csp_without_inline_script(
        client_for: Callable[[str | None], TestClient]) -> None:
    client = client_for("duty_officer")
    for path in ("/", "/login", "/healthz", "/api/clocks"):
        headers = client.get(path).headers
        assert headers["content-security-policy"] == CSP
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP
    page = client.get("/").text
    assert "<script>" not in page and 'src="/static/app.js"' in page
