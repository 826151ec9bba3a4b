"""Placeholder pages; the time-audit issue fills them in."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from msp_ops.orgs.access import org_view
from msp_ops.orgs.roles import Perm


@org_view(Perm.LOG_OWN_TIME)
def today(request: HttpRequest) -> HttpResponse:
    return render(request, "audits/placeholder.html", {"nav": "today", "title": "Today"})


@org_view(Perm.VIEW)
def audit_list(request: HttpRequest) -> HttpResponse:
    return render(request, "audits/placeholder.html", {"nav": "audits", "title": "Audits"})
