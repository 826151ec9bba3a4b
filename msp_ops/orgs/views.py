"""Org switcher, the page for users without an organization, and API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from msp_ops.lib.ids import parse_id
from msp_ops.orgs.access import can, org_view
from msp_ops.orgs.forms import ApiTokenForm
from msp_ops.orgs.middleware import SESSION_KEY
from msp_ops.orgs.models import ApiToken, Membership, Role
from msp_ops.orgs.roles import Perm
from msp_ops.orgs.services import issue_api_token, revoke_api_token


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.membership is None:
        return redirect("no_organization")
    if request.membership.role == Role.SERVICE_MANAGER:
        # The service manager's week is the KPI dashboard and its Level-10 review (SPEC: "Three
        # people use it"); the founder logs time first. The route is the KPI app's, by name.
        return redirect("kpis:dashboard")
    if can(request, Perm.LOG_OWN_TIME):
        return redirect("audits:today")
    return redirect("audits:audit_list")


class LogoutView(auth_views.LogoutView):
    """Django's logout (POST only), saying so on the login page it lands on."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response


@login_required
def no_organization(request: HttpRequest) -> HttpResponse:
    if request.membership is not None:
        return redirect("home")
    return render(request, "orgs/no_organization.html")


@login_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    """Makes another of the user's organizations current; any other value is a 404."""
    org_id = parse_id(request.POST.get("org", ""))
    membership = (
        Membership.objects.filter(user=request.user, organization_id=org_id).first()
        if org_id is not None
        else None
    )
    if membership is None:
        raise Http404("No such organization.")
    request.session[SESSION_KEY] = membership.organization_id
    messages.info(request, f"Now working in {membership.organization.name}.")
    return redirect("home")


@org_view(Perm.USE_API)
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The member's own tokens in this organization; a new key is shown once."""
    new_key = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        issued = issue_api_token(membership=request.membership, name=form.cleaned_data["name"])
        new_key = issued.key
        form = ApiTokenForm()
    tokens = ApiToken.objects.filter(membership=request.membership)
    context = {
        "nav": "tokens",
        "form": form,
        "tokens": tokens,
        "new_key": new_key,
        "api_root": request.build_absolute_uri("/api/v1/"),
        "docs_url": reverse("api-docs"),
    }
    return render(request, "orgs/api_tokens.html", context)


@org_view(Perm.USE_API)
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, membership=request.membership)
    revoke_api_token(token=token)
    messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("orgs:api_tokens")
