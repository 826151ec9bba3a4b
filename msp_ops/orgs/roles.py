"""What each role may do (SPEC 1). One table, read by the page views and the API."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

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


class Access(Enum):
    NONE = "none"
    OWN = "own"  # only the rows whose owner is the member
    ALL = "all"


@dataclass(frozen=True)
class RowRule:
    """Who may act on which rows of one kind: every row with ``all``, only the member's own
    rows (a technician's entries, audits, interruptions) with ``own``."""

    all: Perm | None
    own: Perm | None = None

    def access(self, role: str | None) -> Access:
        """The one decision, for the pages and the API alike."""
        if role is None:
            return Access.NONE
        if self.all is not None and role_can(role, self.all):
            return Access.ALL
        if self.own is not None and role_can(role, self.own):
            return Access.OWN
        return Access.NONE


# The rows with an owner (SPEC 1 roles): readers of the org's data see every member's time,
# a technician its own; founders and service managers log and start for any member.
READ_TIME = RowRule(all=Perm.VIEW, own=Perm.LOG_OWN_TIME)
WRITE_TIME_ENTRIES = RowRule(all=Perm.LOG_TIME_FOR_OTHERS, own=Perm.LOG_OWN_TIME)
WRITE_AUDITS = RowRule(all=Perm.MANAGE_AUDITS, own=Perm.LOG_OWN_TIME)
READ_INTERRUPTIONS = RowRule(all=Perm.VIEW, own=Perm.LOG_OWN_INTERRUPTIONS)
WRITE_INTERRUPTIONS = RowRule(all=Perm.LOG_INTERRUPTIONS, own=Perm.LOG_OWN_INTERRUPTIONS)
# Rows without an owner: a permission for every row.
WRITE_DELEGATION = RowRule(all=Perm.MANAGE_DELEGATION)  # delegates, delegations, drills, time blocks
READ_RUNBOOKS = RowRule(all=Perm.READ_RUNBOOKS)  # runbooks and the escalation map
WRITE_RUNBOOKS = RowRule(all=Perm.MANAGE_RUNBOOKS)
