"""The application services, called directly as the web app and the daemon call them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.deadlines import IncidentError
from alerts.deadlines import list_clocks
from alerts.models import Acknowledgement
from alerts.roster import current_roster
from analysis.models import Incident, Severity
from tests.alerts.conftest import T, roster_data
from tests.responses.publishing import record_publication
from yuqing.core.models import AuditEvent
from yuqing.core.people import PeopleError
from yuqing.core.settings import AppConfig, SettingsError
from yuqing.services import incidents
from yuqing.services.config import Config, load

H = timedelta(hours=1)
ROSTER = roster_data({p: [f"json://127.0.0.1:9/{p}"] for p in ("alice", "bob", "carol", "dan")})


@pytest.fixture
def config() -> Config:
    return load(AppConfig(roster=ROSTER, sources=[
        {"name": "exam_search", "kind": "search", "scheme": "法考舞弊泄题",
         "url_template": "http://127.0.0.1/s?q={keyword}"}]))


def _report(session: Session, config: Config) -> int:
    return incidents.report(session, config, title="网传某地法考考场出现泄题", severity=Severity.MAJOR,
                            t_event=T, urls=[], by="alice", now=T + H).incident_id


def test_the_config_is_validated_once_and_the_sweep_uses_the_same_roster(
        session: Session, config: Config) -> None:
    setup = config.alerts
    assert current_roster(session, setup.roster) is config.roster  # not parsed again
    assert "法考 泄题" in config.sources_named(["exam_search"])[0].keywords  # scheme queries
    with pytest.raises(SettingsError, match="no_such"):
        config.sources_named(["no_such"])


def test_a_bad_section_is_one_line_naming_its_place() -> None:
    with pytest.raises(SettingsError) as caught:
        load(AppConfig(policy={"ack_timeout_minutes": -3}))
    assert "policy.ack_timeout_minutes" in str(caught.value) and "\n" not in str(caught.value)


def test_an_unknown_person_cannot_acknowledge_and_nothing_changes(
        session: Session, config: Config) -> None:
    incident_id = _report(session, config)
    audited = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(IncidentError, match="路人甲"):
        incidents.acknowledge(session, config, incident_id, by="路人甲", now=T + 2 * H)
    assert session.scalar(select(func.count()).select_from(Acknowledgement)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == audited


def test_a_roster_name_acknowledges_as_its_key(session: Session, config: Config) -> None:
    incident_id = _report(session, config)
    done = incidents.acknowledge(session, config, incident_id, by="值班员甲", now=T + 2 * H)
    assert done.person == "alice"
    assert session.scalars(select(Acknowledgement.user)).all() == ["alice"]


def test_grading_and_listing_go_through_the_services(session: Session, config: Config) -> None:
    incident_id = _report(session, config)
    with pytest.raises(IncidentError, match="critical"):
        incidents.severity_of("urgent")
    incidents.grade(session, config, incident_id, incidents.severity_of("critical"),
                    reason="涉及全国统一考试", by="bob", now=T + 2 * H)
    [row] = incidents.list_incidents(session)
    assert (row.id, row.severity, row.documents) == (incident_id, Severity.CRITICAL, 0)
    assert session.get_one(Incident, incident_id).severity == "critical"
    with pytest.raises(PeopleError):
        incidents.grade(session, config, incident_id, Severity.MAJOR, reason="复核", by=" ",
                        now=T + 3 * H)


def test_a_publication_meets_the_statement_clock(session: Session, config: Config) -> None:
    incident_id = _report(session, config)
    record_publication(session, incident_id, incidents.clock_kind_of("statement"), T + 3 * H,
                       actor="alice", now=T + 3 * H, url="https://sfj.example.gov.cn/tzgg/1.html")
    states = {line.kind: line.state for line in
              list_clocks(session, T + 4 * H, T + 4 * H, config.policy)}
    assert states["statement"] == "met_on_time" and states["press_conference"] == "pending"
    with pytest.raises(IncidentError, match="statement"):
        incidents.clock_kind_of("tweet")
