"""Page access: login, a membership in the current organization, and the role's permission.

``@org_view(Perm.X)`` on every page view reads ``roles.ROLE_PERMISSIONS`` (as the API's
``RolePermission`` does); a missing permission is a 403, a user without any organization is
sent to a page that says so.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect

from msp_ops.orgs.roles import Access, Perm, RowRule, role_can


def check_access(request: HttpRequest, perm: Perm | None) -> HttpResponse | None:
    """None when the request may go on, else the response that stops it."""
    if not request.user.is_authenticated:
        htmx = getattr(request, "htmx", None)
        if htmx and not htmx.boosted:
            # A partial request after the session expired: send the whole page to the login,
            # coming back to the page (not to the fragment's URL) afterwards.
            login = redirect_to_login(htmx.current_url_abs_path or request.get_full_path())
            return HttpResponseClientRedirect(login.url)
        return redirect_to_login(request.get_full_path())
    if request.membership is None:
        return redirect("no_organization")
    if perm is not None and not role_can(request.membership.role, perm):
        raise PermissionDenied(f"Your role may not {perm.value.replace('_', ' ')}.")
    return None


def org_view(perm: Perm | None = Perm.VIEW) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if stop := check_access(request, perm):
                return stop
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def can(request: HttpRequest, perm: Perm) -> bool:
    return request.membership is not None and role_can(request.membership.role, perm)


def row_access(request: HttpRequest, rule: RowRule) -> Access:
    """Every row, the member's own, or none, by ``rule`` (``roles.RowRule``), for pages and API."""
    membership = getattr(request, "membership", None)
    return rule.access(membership.role if membership is not None else None)
