"""The daily SLA stand-up (issue 11, item 5): per team the open tickets already past their SLA
target and those passing it within 24 h, oldest first, and yesterday's owner interruptions;
``selectors.standup`` reads them (3 queries). ``?at=`` a local date and time shows the list as
of then. Printable on one page when it fits; one column on a phone.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from kpis.forms import StandupAtForm, local_input
from kpis.selectors import STANDUP_HORIZON, standup
from kpis.views.common import render_local
from msp_ops.lib import weeks
from msp_ops.orgs.access import org_view
from msp_ops.orgs.roles import Perm


@org_view(Perm.VIEW)
@require_GET
def standup_page(request: HttpRequest) -> HttpResponse:
    org = request.org
    now = timezone.now()
    form = StandupAtForm(request.GET or None, tz=org.tz)
    at = now
    if form.is_bound and form.is_valid() and form.cleaned_data["at"] is not None:
        at = form.cleaned_data["at"]
    found = standup(org, at)
    breached = due = 0
    for team in found.teams:
        for row in team.breached:
            row.over = row.age_hours - row.target_hours
        for row in team.due_within_24h:
            row.left = row.target_hours - row.age_hours
        breached += len(team.breached)
        due += len(team.due_within_24h)
    context = {
        "nav": "standup",
        "form": form,
        "at": at,
        "at_input": local_input(at, org.tz),
        "pinned": at is not now,
        "standup": found,
        "breached": breached,
        "due": due,
        "yesterday": weeks.local_date(at, org.tz) - timedelta(days=1),
        "horizon_hours": STANDUP_HORIZON // timedelta(hours=1),
        "tz_name": weeks.zone_name(org.tz),
    }
    return render_local(request, "kpis/standup.html", context)
