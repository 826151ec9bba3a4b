"""Owner offline drills (issue 10, item 6): the schedule and the list, starting one, the running
drill's live list, the review with each interruption's follow-up in place, completing it, and
the report.

Everyone who may view reads them; founders and service managers (``roles.WRITE_DELEGATION``)
start, end, cancel, review and complete them. A technician's pings still land in the drill
through the quick log; it does not run drills.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegation import services
from delegation.forms import DrillForm
from delegation.models import UNCATEGORIZED, Drill, DrillStatus
from delegation.selectors import drill_review, drill_schedule, drills_with_counts
from delegation.views.common import UNPROCESSABLE, attach_errors, error_lines, render_local
from delegation.views.interruptions import decorate, may_review, review_runbooks, with_forms
from msp_ops.lib import weeks
from msp_ops.lib.htmx import wants_partial
from msp_ops.orgs.access import org_view, row_access
from msp_ops.orgs.batches import BatchValidationError
from msp_ops.orgs.roles import WRITE_DELEGATION, Access, Perm
from msp_ops.orgs.scoping import org_object_or_404

LIVE_POLL_SECONDS = 10


def may_manage(request: HttpRequest) -> bool:
    return row_access(request, WRITE_DELEGATION) is Access.ALL


def _check_manage(request: HttpRequest) -> None:
    if not may_manage(request):
        raise PermissionDenied("Your role may not run drills.")


def _drill(request: HttpRequest, pk: int) -> Drill:
    drill = org_object_or_404(request, Drill, pk=pk)
    drill.organization = request.org  # the selectors read its time zone; spare a query
    return drill


def _detail_url(drill: Drill) -> str:
    return reverse("delegation:drill_detail", args=[drill.pk])


# --- the list and starting one ------------------------------------------------------------


@org_view(Perm.VIEW)
@require_http_methods(["GET", "POST"])
def drill_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    form = DrillForm(request.POST or None, tz=request.org.tz, now=now)
    status = 200
    if request.method == "POST":
        _check_manage(request)
        if form.is_valid():
            try:
                (saved,) = services.save_drills(org=request.org, drills=[form.to_drill()])
            except BatchValidationError as error:
                attach_errors(form, error, {"starts_at": "date", "ends_at": "days"})
            else:
                drill = saved.obj
                ends = weeks.to_local(drill.ends_at, request.org.tz)
                started = drill.starts_at <= now
                messages.success(
                    request,
                    f"Drill {'started' if started else 'scheduled'}: the owner is offline "
                    f"until {ends:%a %-d %b %H:%M}, true emergencies only.",
                )
                return redirect(_detail_url(drill))
        status = UNPROCESSABLE
    drills = list(drills_with_counts(request.org))
    for drill in drills:
        drill.status = drill.status_at(now)
    current = next((d for d in drills if d.status != DrillStatus.COMPLETE), None)
    schedule = drill_schedule(request.org)
    today = weeks.today(request.org.tz)
    context = {
        "nav": "drills",
        "schedule": schedule,
        "overdue_days": (today - schedule.next_due).days if schedule.overdue else 0,
        "drills": drills,
        "current": current,
        "form": form,
        "may_manage": may_manage(request),
    }
    return render_local(request, "delegation/drills.html", context, status)


# --- one drill ----------------------------------------------------------------------------


def _drill_context(request: HttpRequest, drill: Drill) -> dict:
    now = timezone.now()
    review = drill_review(drill)
    status = drill.status_at(now)
    reviewing = status == DrillStatus.IN_REVIEW and may_review(request)
    decorate(review.interruptions, request)
    if reviewing:
        with_forms(review.interruptions, review_runbooks(request))
    return {
        "nav": "drills",
        "drill": drill,
        "status": status,
        "review": review,
        "reviewing": reviewing,
        "may_manage": may_manage(request),
        "poll_seconds": LIVE_POLL_SECONDS,
        "now": now,
    }


@org_view(Perm.VIEW)
@require_GET
def drill_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Scheduled: when it starts. Running: the interruptions arriving (polled). In review: each
    interruption's follow-up in place and "Complete". Complete: the review as it ended."""
    drill = _drill(request, pk)
    return render_local(request, "delegation/drill_detail.html", _drill_context(request, drill))


@org_view(Perm.VIEW)
@require_GET
def drill_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The running drill's interruptions, polled every few seconds by its page."""
    drill = _drill(request, pk)
    if not wants_partial(request):
        return redirect(_detail_url(drill))
    context = _drill_context(request, drill)
    if context["status"] != DrillStatus.RUNNING:
        # The window ended while the page was open: load the whole page (the review).
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    return render_local(request, "delegation/partials/drill_live.html", context)


@org_view(Perm.VIEW)
@require_POST
def drill_complete(request: HttpRequest, pk: int) -> HttpResponse:
    drill = _drill(request, pk)
    _check_manage(request)
    try:
        services.complete_drill(drill=drill)
    except ValidationError as error:
        if wants_partial(request):
            context = {**_drill_context(request, drill), "complete_errors": error_lines(error)}
            return render_local(
                request, "delegation/partials/drill_review_summary.html", context, UNPROCESSABLE
            )
        for line in error_lines(error):
            messages.error(request, line)
        return redirect(_detail_url(drill))
    messages.success(request, "Drill complete. The next one is due in a month.")
    target = reverse("delegation:drill_report", args=[drill.pk])
    if wants_partial(request):
        response = HttpResponse("")
        response["HX-Redirect"] = target
        return response
    return redirect(target)


@org_view(Perm.VIEW)
@require_POST
def drill_end(request: HttpRequest, pk: int) -> HttpResponse:
    """Ends a running drill now (the owner is back early): its review starts."""
    drill = _drill(request, pk)
    _check_manage(request)
    now = timezone.now()
    if drill.status_at(now) != DrillStatus.RUNNING:
        messages.error(request, "Only a running drill can be ended early.")
        return redirect(_detail_url(drill))
    drill.ends_at = weeks.floor_minute(now) if weeks.floor_minute(now) > drill.starts_at else now
    try:
        services.save_drills(org=request.org, drills=[drill])
    except BatchValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
    else:
        messages.success(request, "Drill ended: review each interruption, then complete it.")
    return redirect(_detail_url(drill))


@org_view(Perm.VIEW)
@require_POST
def drill_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancels a drill that has not started yet (one that ran stays, for its review)."""
    drill = _drill(request, pk)
    _check_manage(request)
    try:
        services.cancel_drill(drill=drill)
    except ValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
        return redirect(_detail_url(drill))
    messages.success(request, "Drill cancelled.")
    return redirect("delegation:drill_list")


# --- the report ---------------------------------------------------------------------------


@org_view(Perm.VIEW)
@require_GET
def drill_report(request: HttpRequest, pk: int) -> HttpResponse:
    """Interruptions per local day and per category, and what changed: runbooks updated, rules
    tightened."""
    drill = _drill(request, pk)
    review = drill_review(drill)
    chart_data = {
        "days": {
            "labels": [f"{day:%a %-d %b}" for day in review.by_day],
            "counts": list(review.by_day.values()),
        },
        "categories": {"labels": list(review.by_category), "counts": list(review.by_category.values())},
    }
    context = {
        "nav": "drills",
        "drill": drill,
        "status": drill.status_at(timezone.now()),
        "review": review,
        "chart_data": chart_data,
        "owner_level": sum(1 for i in review.interruptions if i.owner_level),
        "about_ticket": sum(1 for i in review.interruptions if i.about_ticket),
        "uncategorized": UNCATEGORIZED,
    }
    return render_local(request, "delegation/drill_report.html", context)
