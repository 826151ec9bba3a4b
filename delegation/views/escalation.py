"""The escalation map (issue 10, item 5): the three levels side by side with their criteria and
approval limits, printable on one page and stacked on a phone; managers edit it.

Technicians and viewers read it (``Perm.READ_RUNBOOKS``); founders and service managers write
it (``Perm.MANAGE_RUNBOOKS``) through ``services.update_escalation_map``.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from delegation import services
from delegation.forms import EscalationMapForm
from delegation.models import EscalationLevel, EscalationStep, Runbook
from delegation.views.common import UNPROCESSABLE, attach_errors, render_local
from msp_ops.orgs.access import can, org_view
from msp_ops.orgs.roles import Perm


def _steps(request: HttpRequest) -> list[EscalationStep]:
    return list(EscalationStep.objects.for_org(request.org))


@org_view(Perm.READ_RUNBOOKS)
@require_GET
def escalation_map(request: HttpRequest) -> HttpResponse:
    """Each level with the runbooks that sit at it, so a technician sees where a ticket goes."""
    stored = {step.level: step for step in _steps(request)}
    runbooks = defaultdict(list)
    for runbook in Runbook.objects.for_org(request.org).only(
        "pk", "ticket_category", "title", "escalation_level"
    ):
        runbooks[runbook.escalation_level].append(runbook)
    levels = [
        (level, label, stored.get(level), sorted(runbooks[level], key=lambda r: r.ticket_category.lower()))
        for level, label in EscalationLevel.choices
    ]
    context = {
        "nav": "escalation",
        "levels": levels,
        "may_manage": can(request, Perm.MANAGE_RUNBOOKS),
        "print_view": request.GET.get("print") == "1",
    }
    return render_local(request, "delegation/escalation_map.html", context)


@org_view(Perm.MANAGE_RUNBOOKS)
@require_http_methods(["GET", "POST"])
def escalation_map_edit(request: HttpRequest) -> HttpResponse:
    form = EscalationMapForm(request.POST or None, steps=_steps(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_escalation_map(org=request.org, levels=form.values())
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, "Escalation map saved.")
            return redirect("delegation:escalation_map")
    context = {"nav": "escalation", "form": form}
    status = UNPROCESSABLE if request.method == "POST" else 200
    return render_local(request, "delegation/escalation_map_edit.html", context, status)
