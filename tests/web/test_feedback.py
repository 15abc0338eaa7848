"""Classification feedback from the incident page: the form stores a Feedback row and an audit
entry through the feedback service, back on the page with a notice; a wrong topic needs the
topic, and a post without the CSRF token changes nothing."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.models import Feedback
from tests.web.conftest import World, csrf_of
from yuqing.core import audit
from yuqing.core.models import AuditEvent

Client = Callable[[str | None], TestClient]


def _feedback(world: World) -> list[Feedback]:
    def read(session: Session) -> list[Feedback]:
        rows = list(session.scalars(select(Feedback).order_by(Feedback.id)))
        session.expunge_all()
        return rows
    result: list[Feedback] = world.add(read)
    return result


def _audit(world: World, action: str) -> list[AuditEvent]:
    def read(session: Session) -> list[AuditEvent]:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        session.expunge_all()
        return rows
    result: list[AuditEvent] = world.add(read)
    return result


def _setup(world: World, client_for: Client, role: str = "duty_officer"
           ) -> tuple[TestClient, int, int, str]:
    incident = world.incident()
    doc = world.document(incident, "网传某公证处违规出证", "网民称公证处工作人员收取好处费。",
                         "https://news.example.cn/notary.html")
    client = client_for(role)
    page = client.get(f"/incidents/{incident}").text
    return client, incident, doc, csrf_of(page)


def test_a_false_alarm_is_stored_audited_and_shown_back_on_the_incident(
        world: World, client_for: Client) -> None:
    client, incident, doc, csrf = _setup(world, client_for)
    answer = client.post(f"/documents/{doc}/feedback",
                         data={"csrf": csrf, "kind": "false_alarm", "topic": "exam",
                               "severity": "major", "incident": str(incident)})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/incidents/{incident}?feedback={doc}#document-{doc}"
    [row] = _feedback(world)
    assert (row.document_id, row.kind, row.by) == (doc, "false_alarm", "zhangsan")
    assert row.topic is None and row.severity is None  # the selects count only for their kind
    assert row.at == world.clock()
    [event] = _audit(world, "classification.feedback")
    assert (event.actor, event.object_type, event.object_id) == ("zhangsan", "document", str(doc))
    assert event.details["kind"] == "false_alarm"
    assert world.add(lambda s: audit.verify(s).ok)  # the hash chain holds with the new row
    page = client.get(answer.headers["location"]).text
    assert "已记录对文档" in page and f"#{doc}" in page
    assert '<span class="verdict verdict-false_alarm">已反馈：误报' in page


def test_a_wrong_topic_stores_the_right_topic_and_without_it_is_refused_clearly(
        world: World, client_for: Client) -> None:
    client, incident, doc, csrf = _setup(world, client_for, "section")
    refused = client.post(f"/documents/{doc}/feedback",
                          data={"csrf": csrf, "kind": "wrong_topic", "topic": "",
                                "incident": str(incident)})
    assert refused.status_code == 400
    assert '<p class="error" role="alert">需要正确的主题' in refused.text
    assert 'class="feedback-full"' in refused.text  # back on the form, kind still chosen
    assert '<option value="wrong_topic" selected>' in refused.text
    assert _feedback(world) == [] and _audit(world, "classification.feedback") == []
    done = client.post(f"/documents/{doc}/feedback",
                       data={"csrf": csrf, "kind": "wrong_topic", "topic": "notary",
                             "incident": str(incident)})
    assert done.status_code == 303
    [row] = _feedback(world)
    assert (row.kind, row.topic, row.by) == ("wrong_topic", "notary", "xuanchuan")
    assert "已反馈：主题错误 → 公证" in client.get(f"/incidents/{incident}").text


def test_a_wrong_severity_needs_the_severity(world: World, client_for: Client) -> None:
    client, incident, doc, csrf = _setup(world, client_for, "leader")
    refused = client.post(f"/documents/{doc}/feedback",
                          data={"csrf": csrf, "kind": "wrong_severity", "incident": str(incident)})
    assert refused.status_code == 400 and "需要正确的等级" in refused.text
    done = client.post(f"/documents/{doc}/feedback",
                       data={"csrf": csrf, "kind": "wrong_severity", "severity": "serious",
                             "incident": str(incident)})
    assert done.status_code == 303
    assert [(r.kind, r.severity) for r in _feedback(world)] == [("wrong_severity", "serious")]


def test_without_the_csrf_token_or_with_a_forged_one_nothing_is_stored(
        world: World, client_for: Client) -> None:
    client, incident, doc, _ = _setup(world, client_for)
    for form in ({"kind": "confirm"}, {"kind": "confirm", "csrf": "forged"}):
        answer = client.post(f"/documents/{doc}/feedback", data={**form, "incident": incident})
        assert answer.status_code == 403 and "CSRF" in answer.text
    assert _feedback(world) == []


def test_an_unknown_document_or_kind_is_a_clear_error(world: World, client_for: Client) -> None:
    client, incident, doc, csrf = _setup(world, client_for)
    missing = client.post("/documents/999999/feedback", data={"csrf": csrf, "kind": "confirm"})
    assert missing.status_code == 404 and "文档 #999999 不存在" in missing.text
    assert client.get("/documents/999999/feedback").status_code == 404
    odd = client.post(f"/documents/{doc}/feedback",
                      data={"csrf": csrf, "kind": "maybe", "incident": str(incident)})
    assert odd.status_code == 400 and "未知反馈类型" in odd.text
    assert _feedback(world) == []


def test_the_form_shows_only_for_roles_that_may_grade(world: World, client_for: Client) -> None:
    incident = world.incident()
    world.document(incident, "某律师事务所被投诉", "网民投诉律师收费过高。",
                   "https://news.example.cn/lawyer.html")
    for role in ("duty_officer", "section", "office", "leader", "admin"):
        page = client_for(role).get(f"/incidents/{incident}").text
        assert ("feedback-form" in page) == (role in ("duty_officer", "section", "leader")), role


def test_the_incident_page_offers_one_click_verdicts_and_links_the_full_form(
        world: World, client_for: Client) -> None:
    client, incident, doc, csrf = _setup(world, client_for)
    page = client.get(f"/incidents/{incident}").text
    assert f'form="feedback" formaction="/documents/{doc}/feedback"' in page
    assert page.count('name="csrf"') <= 4  # one shared form, not one per document
    assert 'name="kind" value="confirm"' in page and 'name="kind" value="false_alarm"' in page
    assert 'name="topic"' not in page  # the selects live on the document's own page
    link = f"/documents/{doc}/feedback?incident={incident}"
    assert f'href="{link}"' in page
    form = client.get(link).text
    assert "网传某公证处违规出证" in form and 'name="topic"' in form and 'name="severity"' in form
    assert f'<input type="hidden" name="incident" value="{incident}">' in form
    done = client.post(f"/documents/{doc}/feedback",
                       data={"csrf": csrf_of(form), "kind": "confirm", "incident": incident})
    assert done.status_code == 303
    assert "已反馈：确认无误（zhangsan" in client.get(link).text
