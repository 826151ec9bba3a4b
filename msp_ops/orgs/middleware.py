"""Binds each web request to one organization: ``request.org`` and ``request.membership``.

The org switcher stores the chosen organization in the session; a user with a single
membership never sees it. The API's token authentication sets the same two attributes.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from msp_ops.orgs.models import Membership

SESSION_KEY = "current_org_id"


def user_memberships(request: HttpRequest) -> list[Membership]:
    """The signed-in user's memberships with their organizations, by organization name (one
    query: the page's organization and the switcher's list both come from it)."""
    if not request.user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user=request.user)
        .select_related("organization")
        .order_by("organization__name", "organization_id")
    )


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
