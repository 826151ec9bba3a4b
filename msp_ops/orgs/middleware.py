"""Binds each web request to one organization: ``request.org`` and ``request.membership``.

The org switcher stores the chosen organization in the session; a user with a single
membership never sees it. The API's token authentication sets the same two attributes.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from msp_ops.orgs.models import Membership

SESSION_KEY = "current_org_id"


def current_membership(request: HttpRequest) -> Membership | None:
    if not request.user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=request.user).select_related("organization")
    wanted = request.session.get(SESSION_KEY)
    if wanted is not None and (chosen := memberships.filter(organization_id=wanted).first()):
        return chosen
    return memberships.order_by("organization__name").first()


class CurrentOrganizationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # API requests authenticate by token later (DRF); they never use the session's org.
        membership = None if request.path.startswith("/api/") else current_membership(request)
        request.membership = membership
        request.org = membership.organization if membership else None
        return self.get_response(request)
