"""What each role may do (SPEC 1). One table, read by the page views and the API."""

from __future__ import annotations

from enum import StrEnum

from msp_ops.orgs.models import Role


class Perm(StrEnum):
    VIEW = "view"  # read the organization's data (dashboards, reports, lists)
    LOG_OWN_TIME = "log_own_time"
    LOG_TIME_FOR_OTHERS = "log_time_for_others"  # push entries for any member
    MANAGE_AUDITS = "manage_audits"  # audits of any member, categories
    LOG_INTERRUPTIONS = "log_interruptions"  # on the founder's behalf
    LOG_OWN_INTERRUPTIONS = "log_own_interruptions"  # the ones this member caused
    MANAGE_DELEGATION = "manage_delegation"  # delegates and delegations
    MANAGE_TICKETS = "manage_tickets"  # tickets, SLA policy, to-dos
    MANAGE_RUNBOOKS = "manage_runbooks"  # runbooks and escalation map
    READ_RUNBOOKS = "read_runbooks"
    RUN_ROLLUP = "run_rollup"
    MANAGE_ORG = "manage_org"  # organization settings and KPI targets
    USE_API = "use_api"  # hold API tokens


_READ = {Perm.VIEW, Perm.READ_RUNBOOKS}
_MANAGER = _READ | {
    Perm.LOG_OWN_TIME,
    Perm.LOG_TIME_FOR_OTHERS,
    Perm.MANAGE_AUDITS,
    Perm.LOG_INTERRUPTIONS,
    Perm.LOG_OWN_INTERRUPTIONS,
    Perm.MANAGE_DELEGATION,
    Perm.MANAGE_TICKETS,
    Perm.MANAGE_RUNBOOKS,
    Perm.RUN_ROLLUP,
    Perm.USE_API,
}

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    # The founder owns the business: everything the service manager may do, and its settings.
    Role.FOUNDER: frozenset(_MANAGER | {Perm.MANAGE_ORG}),
    Role.SERVICE_MANAGER: frozenset(_MANAGER),
    Role.TECHNICIAN: frozenset(
        {Perm.READ_RUNBOOKS, Perm.LOG_OWN_TIME, Perm.LOG_OWN_INTERRUPTIONS, Perm.USE_API}
    ),
    Role.VIEWER: frozenset(_READ | {Perm.USE_API}),
}


def role_can(role: str, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS.get(role, frozenset())
