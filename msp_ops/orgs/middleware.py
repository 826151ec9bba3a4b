"""Binds each web request to one organization: ``request.org`` and ``request.membership``.

The org switcher stores the chosen organization in the session; a user with a single
membership never sees it. The API's token authentication sets the same two attributes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.http import HttpRequest, HttpResponse

from msp_ops.lib.rawrows import RowReader, fetch_objects
from msp_ops.orgs.models import Membership, Organization

SESSION_KEY = "current_org_id"


def user_memberships(request: HttpRequest) -> list[Membership]:
    """The signed-in user's memberships with their organizations, by organization name (one
    query: the page's organization and the switcher's list both come from it).

    Every page reads them, so the query is a statement written once per process
    (``msp_ops.lib.rawrows``): the ORM spent about 1.5 ms building and compiling it each time."""
    if not request.user.is_authenticated:
        return []
    sql, readers = _memberships_statement()
    found = []
    for member, organization in fetch_objects(sql, [request.user.pk], readers):
        Membership.organization.field.set_cached_value(member, organization)
        found.append(member)
    return found


@cache
def _memberships_statement() -> tuple[str, tuple[RowReader, RowReader]]:
    membership, organization = RowReader(Membership), RowReader(Organization)
    sql = (
        f"SELECT {membership.columns('m')}, {organization.columns('o')} FROM {membership.table} m"
        f" JOIN {organization.table} o ON o.id = m.organization_id"
        " WHERE m.user_id = %s ORDER BY o.name, m.organization_id"
    )
    return sql, (membership, organization)


def current_membership(memberships: list[Membership], request: HttpRequest) -> Membership | None:
    """The one of the session's organization, else the first by name (a stale choice falls back)."""
    wanted = request.session.get(SESSION_KEY) if memberships else None
    chosen = next((m for m in memberships if m.organization_id == wanted), None)
    return chosen or (memberships[0] if memberships else None)


class CurrentOrganizationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # API requests authenticate by token later (DRF); they never use the session's org.
        memberships = [] if request.path.startswith("/api/") else user_memberships(request)
        membership = current_membership(memberships, request)
        request.memberships = memberships
        request.membership = membership
        request.org = membership.organization if membership else None
        return self.get_response(request)
