"""Which role may do what on the dashboard: one table, checked on the server for every route."""

from __future__ import annotations

from enum import StrEnum

from yuqing.core.models import Role


class Action(StrEnum):
    VIEW_BOARD = "view_board"  # board, incident detail, clocks
    ACKNOWLEDGE = "acknowledge"
    CORRECT_T0 = "correct_t0"
    VIEW_SOURCES = "view_sources"
    VIEW_ROSTER = "view_roster"


EVERYONE = frozenset(Role)

ALLOWED: dict[Action, frozenset[Role]] = {
    Action.VIEW_BOARD: EVERYONE,
    # 值班员 confirms alerts; the section in charge (谁主管谁负责) and the admin may too.
    Action.ACKNOWLEDGE: frozenset({Role.DUTY_OFFICER, Role.SECTION, Role.ADMIN}),
    # T0 decides the legal deadlines: the duty officer, the openness office and the admin.
    Action.CORRECT_T0: frozenset({Role.DUTY_OFFICER, Role.OFFICE, Role.ADMIN}),
    Action.VIEW_SOURCES: frozenset({Role.DUTY_OFFICER, Role.OFFICE, Role.ADMIN}),
    Action.VIEW_ROSTER: EVERYONE,
}


def allowed(roles: frozenset[Role], action: Action) -> bool:
    return bool(roles & ALLOWED[action])
