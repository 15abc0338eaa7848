"""Responses on the dashboard: the procedure through the pages and the JSON API, each button
only for the roles that may take the step, refusals shown on the page with nothing changed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from responses.procedure import RULES, Action as Step
from tests.web.conftest import STATEMENT_PAGE, World, csrf_of
from yuqing.core.models import AuditEvent
from yuqing.web.access import ALLOWED, Action

Clients = Callable[[str | None], TestClient]
STEP_OF = {Action.DRAFT_RESPONSE: Step.DRAFT, Action.SUBMIT_RESPONSE: Step.SUBMIT,
           Action.REVIEW_RESPONSE: Step.REVIEW, Action.REJECT_RESPONSE: Step.REJECT,
           Action.APPROVE_RESPONSE: Step.APPROVE, Action.PUBLISH_RESPONSE: Step.PUBLISH}


def test_the_dashboard_roles_of_each_step_are_the_procedures_roles() -> None:
    for action, step in STEP_OF.items():
        assert {r.value for r in ALLOWED[action]} == set(RULES[step].roles), action


def _api(client: TestClient) -> dict[str, str]:
    return {"x-csrf-token": csrf_of(client.get("/roster").text)}


def test_three_users_take_a_statement_to_published_through_the_api(
        world: World, client_for: Clients, statement_site: str) -> None:
    incident = world.incident()
    section, office, leader = client_for("section"), client_for("office"), client_for("leader")
    made = section.post(f"/api/incidents/{incident}/responses", headers=_api(section),
                        json={"kind": "statement", "text": "经核查，相关说法不实。"})
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    assert section.post(f"/api/responses/{rid}/submit", headers=_api(section)).status_code == 200
    refused = office.post(f"/api/responses/{rid}/review", headers=_api(office),
                          json={"confidential_ok": False})
    assert refused.status_code == 400 and "保密审查" in refused.json()["detail"]
    assert office.post(f"/api/responses/{rid}/review", headers=_api(office),
                       json={"confidential_ok": True}).status_code == 200
    assert leader.post(f"/api/responses/{rid}/approve", headers=_api(leader)).status_code == 200
    done = office.post(f"/api/responses/{rid}/publish", headers=_api(office),
                       json={"published_at": world.clock().isoformat(), "url": statement_site,
                             "channels": ["website", "weibo"]})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["state"] == "published"
    assert body["sha256"] == hashlib.sha256(STATEMENT_PAGE).hexdigest()
    assert [s["action"] for s in body["steps"]] == ["draft", "submit", "review", "approve",
                                                    "publish"]
    listed = leader.get(f"/api/incidents/{incident}/responses").json()
    assert listed[0]["channels"] == ["website", "weibo"]
    clocks = leader.get(f"/api/incidents/{incident}").json()["clocks"]
    assert {c["kind"]: c["state"] for c in clocks}["statement"] == "met_on_time"
    audited = world.add(lambda s: list(s.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "response"))))
    assert audited == ["response.draft", "response.submit", "response.review",
                       "response.approve", "response.publish"]


def test_each_step_button_shows_only_for_its_role_and_a_refusal_shows_on_the_page(
        world: World, client_for: Clients) -> None:
    incident = world.incident()
    clients = {role: client_for(role) for role in ("duty_officer", "section", "office", "leader")}
    page = {role: c.get(f"/incidents/{incident}").text for role, c in clients.items()}
    assert [r for r, text in page.items() if "保存草稿" in text] == ["section"]
    section = clients["section"]
    drafted = section.post(f"/incidents/{incident}/responses",
                           data={"csrf": csrf_of(page["section"]), "kind": "statement",
                                 "text": "经核查，相关说法不实。"})
    assert drafted.status_code == 303
    page = {role: c.get(f"/incidents/{incident}").text for role, c in clients.items()}
    assert [r for r, text in page.items() if "提交审核</button>" in text] == ["section"]
    rid = int(drafted.headers["location"].rsplit("-", 1)[1])
    section.post(f"/responses/{rid}/submit", data={"csrf": csrf_of(page["section"])})
    page = {role: c.get(f"/incidents/{incident}").text for role, c in clients.items()}
    assert [r for r, text in page.items() if "审核通过</button>" in text] == ["office"]
    assert [r for r, text in page.items() if "退回修改</button>" in text] == ["office", "leader"]
    unchecked = clients["office"].post(f"/responses/{rid}/review",
                                       data={"csrf": csrf_of(page["office"])})
    assert unchecked.status_code == 400
    assert 'role="alert"' in unchecked.text and "保密审查" in unchecked.text
    state = clients["office"].get(f"/api/incidents/{incident}/responses").json()[0]["state"]
    assert state == "submitted"
    bounced = clients["leader"].post(f"/responses/{rid}/reject",
                                     data={"csrf": csrf_of(page["leader"]), "comment": "请补充核查依据"})
    assert bounced.status_code == 303
    text = section.get(f"/incidents/{incident}").text
    assert "退回意见：请补充核查依据" in text and "提交审核</button>" in text


def test_the_board_and_the_api_show_each_incidents_owning_section(
        world: World, client_for: Clients) -> None:
    from analysis.models import Incident

    incident = world.incident()
    world.add(lambda s: setattr(s.get(Incident, incident), "owning_section", "法律职业资格管理处"))
    client = client_for("duty_officer")
    assert '<span class="owner">法律职业资格管理处</span>' in client.get("/").text
    assert client.get("/api/incidents").json()[0]["owning_section"] == "法律职业资格管理处"
