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
    # reports and classification feedback


EVERYONE = frozenset(Role)


def may(step: people.Action) -> frozenset[Role]:
    return frozenset(role for role, steps in people.PERMISSIONS.items() if step in steps)


ALLOWED: dict[Action, frozenset[Role]] = {
    Action.VIEW_BOARD: EVERYONE,
    # The steps that change an incident follow the one permission table the services enforce
    # (yuqing.core.people), so a button shown is a step the service takes.
    Action.ACKNOWLEDGE: may(people.Action.ACKNOWLEDGE),
    Action.CORRECT_T0: may(people.Action.CORRECT_T0),
    Action.VIEW_SOURCES: frozenset({Role.DUTY_OFFICER, Role.OFFICE, Role.ADMIN}),
    Action.VIEW_ROSTER: EVERYONE,
}


def allowed(roles: frozenset[Role], action: Action) -> bool:
    return bool(roles & ALLOWED[action])
