"""CSV import and export pages (placeholder until the CSV work lands)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from msp_ops.orgs.access import org_view
from msp_ops.orgs.roles import Perm


@org_view(Perm.LOG_OWN_TIME)
def csv_page(request: HttpRequest) -> HttpResponse:
    return render(request, "audits/placeholder.html", {"nav": "csv", "title": "Import/export"})
