"""Which role may do what on the dashboard: one table, checked on the server for every route."""

from __future__ import annotations

from enum import StrEnum

from yuqing.core import people
from yuqing.core.models import Role


class Action(StrEnum):
    VIEW_BOARD = "view_board"  # board, incident detail, clocks
    ACKNOWLEDGE = "acknowledge"
    CORRECT_T0 = "correct_t0"
    VIEW_SOURCES = "view_sources"
    VIEW_ROSTER = "view_roster"
    # responses (the procedure)
    DRAFT_RESPONSE = "draft_response"
    SUBMIT_RESPONSE = "submit_response"
    REVIEW_RESPONSE = "review_response"
    REJECT_RESPONSE = "reject_response"
    APPROVE_RESPONSE = "approve_response"
    PUBLISH_RESPONSE = "publish_response"
    # reports and classification feedback
    VIEW_REPORTS = "view_reports"  # /reports and its downloads (/reports/export)
    GIVE_FEEDBACK = "give_feedback"  # confirm / false alarm / wrong topic / wrong severity


EVERYONE = frozenset(Role)


def may(step: people.Action) -> frozenset[Role]:
    return frozenset(role for role, steps in people.PERMISSIONS.items() if step in steps)


ALLOWED: dict[Action, frozenset[Role]] = {
    Action.VIEW_BOARD: EVERYONE,
    # The steps that change an incident follow the one permission table the services enforce
    # (yuqing.core.people), so a button shown is a step the service takes.
    Action.ACKNOWLEDGE: may(people.Action.ACKNOWLEDGE),
    Action.CORRECT_T0: may(people.Action.CORRECT_T0),
    # The procedure's steps (responses.procedure.RULES says the same; a test holds them equal):
    # the section drafts and submits, the office reviews (保密审查), the office or a leader
    # sends back, a leader approves, the section or the office publishes.
    Action.DRAFT_RESPONSE: may(people.Action.DRAFT),
    Action.SUBMIT_RESPONSE: may(people.Action.DRAFT),
    Action.REVIEW_RESPONSE: may(people.Action.CONFIDENTIALITY_REVIEW),
    Action.REJECT_RESPONSE: may(people.Action.REVIEW) | may(people.Action.APPROVE),
    Action.APPROVE_RESPONSE: may(people.Action.APPROVE),
    Action.PUBLISH_RESPONSE: may(people.Action.PUBLISH),
    Action.VIEW_SOURCES: frozenset({Role.DUTY_OFFICER, Role.OFFICE, Role.ADMIN}),
    Action.VIEW_ROSTER: EVERYONE,
    # leadership's report: the leaders, the openness office that prepares it, the admin
    Action.VIEW_REPORTS: frozenset({Role.LEADER, Role.OFFICE, Role.ADMIN}),
    # A verdict on a document's classification is a grading judgement: those who may grade
    # (the duty officer, the section, a leader), as yuqing.services.feedback checks again.
    Action.GIVE_FEEDBACK: may(people.Action.GRADE),
}


def allowed(roles: frozenset[Role], action: Action) -> bool:
    return bool(roles & ALLOWED[action])
