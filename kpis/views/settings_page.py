"""The KPI settings page (issue 11, item 1): the SLA policy, which founders and service managers
edit (``Perm.MANAGE_TICKETS``, SPEC 1), and the KPI targets with the organization's number of
managed clients (which decides the delegated-hours regime), which only the founder edits
(``Perm.MANAGE_ORG``); everyone else who may view reads them. A refused value is shown under
its field and nothing is changed (``services.update_settings`` validates before it writes).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from kpis import services
from kpis.forms import KpiTargetsForm, ManagedClientsForm, SlaPolicyForm
from kpis.selectors import kpi_targets, sla_policy
from kpis.views.common import UNPROCESSABLE, attach_errors, render_local
from msp_ops.orgs.access import can, org_view
from msp_ops.orgs.roles import Perm

SECTIONS = {
    # section: (form, permission, refusal, saved)
    "sla": (
        SlaPolicyForm,
        Perm.MANAGE_TICKETS,
        "Your role may not change the SLA policy.",
        "SLA policy saved.",
    ),
    "targets": (
        KpiTargetsForm,
        Perm.MANAGE_ORG,
        "Only the founder may change the KPI targets.",
        "KPI targets saved.",
    ),
    "clients": (
        ManagedClientsForm,
        Perm.MANAGE_ORG,
        "Only the founder may change the number of managed clients.",
        "Managed clients saved.",
    ),
}


# Each section's row read again, as stored (after a refusal: unchanged).
_READ_AGAIN = {
    "sla": sla_policy,
    "targets": kpi_targets,
    "clients": lambda org: type(org).objects.get(pk=org.pk),
}


@org_view(Perm.VIEW)
@require_http_methods(["GET", "POST"])
def kpi_settings(request: HttpRequest) -> HttpResponse:
    org = request.org
    rows = {"sla": sla_policy(org), "targets": kpi_targets(org), "clients": org}
    forms = {name: SECTIONS[name][0](initial=SECTIONS[name][0].initial_of(row)) for name, row in rows.items()}
    status = 200
    if request.method == "POST":
        section = request.POST.get("section", "")
        if section not in SECTIONS:
            return HttpResponseBadRequest("Unknown settings section.")
        form_class, perm, refusal, saved = SECTIONS[section]
        if not can(request, perm):
            raise PermissionDenied(refusal)
        form = forms[section] = form_class(request.POST)
        if form.is_valid():
            try:
                services.update_settings(row=rows[section], values=form.cleaned_data)
            except ValidationError as error:
                attach_errors(form, error)
            else:
                messages.success(
                    request, f"{saved} It applies from the next rollup (nightly, or Recompute now)."
                )
                return redirect("kpis:settings")
        status = UNPROCESSABLE
        rows[section] = _READ_AGAIN[section](org)
    context = {
        "nav": "kpi_settings",
        "policy": rows["sla"],
        "targets": rows["targets"],
        "sla_form": forms["sla"],
        "targets_form": forms["targets"],
        "clients_form": forms["clients"],
        "may_edit_sla": can(request, Perm.MANAGE_TICKETS),
        "may_edit_targets": can(request, Perm.MANAGE_ORG),
        "managed_clients": rows["clients"].managed_clients,
        "fixed_regime": rows["clients"].managed_clients >= rows["targets"].managed_clients_threshold,
    }
    return render_local(request, "kpis/settings.html", context, status)
