"""Owner interruptions: the quick-log form of every page and the interruption list (issue 10, item 2).

Who sees which (``roles.READ_INTERRUPTIONS``): founders, service managers and viewers every
interruption of the organization, a technician only the ones it logged. Who logs
(``roles.WRITE_INTERRUPTIONS``): founders and service managers (on the founder's behalf) and
technicians (the ones they caused). The review of an interruption (its follow-up, the runbook
changed, the owner-level mark) is for founders and service managers: they run the drills and
keep the runbooks. A technician deletes only its own (a mis-logged ping).
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from delegation import services
from delegation.filters import InterruptionFilter
from delegation.forms import FollowUpForm, InterruptionForm
from delegation.models import Channel, Drill, FollowUp, Interruption, Runbook
from delegation.selectors import drill_review, has_escalation_windows, ticket_categories, with_flags
from delegation.views.common import UNPROCESSABLE, attach_errors, render_local, safe_next, week_arg
from msp_ops.lib import weeks
from msp_ops.lib.htmx import wants_partial
from msp_ops.lib.ids import parse_id
from msp_ops.orgs.access import org_view, row_access
from msp_ops.orgs.roles import READ_INTERRUPTIONS, WRITE_DELEGATION, WRITE_INTERRUPTIONS, Access

# The event every page's list listens to (HX-Trigger): an interruption was logged or deleted.
CHANGED = "interruptions-changed"
# An interruption's follow-up changed: a filtered list reloads (the row may no longer match);
# the week's counts do not depend on it, so an unfiltered list keeps its rows as they are.
REVIEWED = "interruption-reviewed"


# --- scope --------------------------------------------------------------------------------


def readable(request: HttpRequest) -> QuerySet[Interruption]:
    """The interruptions the member may see: all of the org's, or only the ones it logged."""
    rows = Interruption.objects.for_org(request.org)
    match row_access(request, READ_INTERRUPTIONS):
        case Access.ALL:
            return rows
        case Access.OWN:
            return rows.filter(logged_by=request.user)
    raise PermissionDenied("Your role may not see interruptions.")


def _writable(request: HttpRequest) -> QuerySet[Interruption]:
    rows = Interruption.objects.for_org(request.org)
    match row_access(request, WRITE_INTERRUPTIONS):
        case Access.ALL:
            return rows
        case Access.OWN:
            return rows.filter(logged_by=request.user)
    raise PermissionDenied("Your role may not log interruptions.")


def may_review(request: HttpRequest) -> bool:
    return row_access(request, WRITE_INTERRUPTIONS) is Access.ALL


def _check_review(request: HttpRequest) -> None:
    if not may_review(request):
        raise PermissionDenied("Your role may not review interruptions.")


def decorate(rows: list[Interruption], request: HttpRequest) -> list[Interruption]:
    """What each row shows besides its fields: may the member delete it."""
    own_only = row_access(request, WRITE_INTERRUPTIONS) is Access.OWN
    writes = row_access(request, WRITE_INTERRUPTIONS) is not Access.NONE
    for row in rows:
        row.may_delete = writes and (not own_only or row.logged_by_id == request.user.pk)
    return rows


def review_runbooks(request: HttpRequest) -> list[Runbook]:
    """The org's runbooks for the follow-up choice (one query for a whole list of rows)."""
    if not may_review(request):
        return []
    runbooks = Runbook.objects.for_org(request.org).only("pk", "ticket_category")
    return list(runbooks.order_by("ticket_category"))


def with_forms(rows: list[Interruption], runbooks: list[Runbook]) -> list[Interruption]:
    for row in rows:
        row.follow_up_form = FollowUpForm(runbooks=runbooks, interruption=row)
    return rows


# --- the list -----------------------------------------------------------------------------


def _list_context(request: HttpRequest) -> dict:
    org = request.org
    week = week_arg(request)
    scope = readable(request)
    data = request.GET.copy()
    data["week"] = week.isoformat()
    filters = InterruptionFilter(
        data, queryset=with_flags(scope, org).select_related("runbook", "logged_by"), request=request
    )
    filters.is_valid()  # an invalid filter is shown and left out
    rows = list(filters.qs.order_by("-occurred_at", "-id"))
    start, end = weeks.week_bounds(week, org.tz)
    counts = (
        with_flags(scope.filter(occurred_at__gte=start, occurred_at__lt=end), org)
        .order_by()
        .aggregate(
            total=Count("pk"),
            about_ticket=Count("pk", filter=Q(about_ticket=True)),
            out_of_window=Count("pk", filter=Q(flag_out_of_window=True)),
        )
    )
    decorate(rows, request)
    if may_review(request):
        with_forms(rows, review_runbooks(request))
    filtered = any(
        data.get(name) for name in ("channel", "category", "follow_up", "out_of_window", "runbook", "drill")
    )
    query = data.copy()
    query.pop("week", None)
    return {
        "nav": "interruptions",
        "week": week,
        "week_end": end.date() - timedelta(days=1),
        "previous_week": week - timedelta(days=7),
        # No link past the current week: nothing has happened there yet.
        "next_week": week + timedelta(days=7) if week < (this_week := weeks.current_week(org.tz)) else None,
        "this_week": this_week,
        "filters": filters,
        "filtered": filtered,
        "filter_query": query.urlencode(),
        "rows": rows,
        "counts": counts,
        "has_windows": has_escalation_windows(org),
        "only_own": row_access(request, READ_INTERRUPTIONS) is Access.OWN,
        "may_review": may_review(request),
        "may_log": row_access(request, WRITE_INTERRUPTIONS) is not Access.NONE,
        "channel_choices": Channel.choices,
        "follow_up_choices": FollowUp.choices,
        "categories": ticket_categories(org),
        "list_url": request.get_full_path(),
    }


@org_view(None)
@require_http_methods(["GET"])
def interruption_list(request: HttpRequest) -> HttpResponse:
    context = _list_context(request)
    if wants_partial(request):
        return render_local(request, "delegation/partials/interruption_list.html", context)
    return render_local(request, "delegation/interruptions.html", context)


# --- the quick log ------------------------------------------------------------------------


def _log_form(request: HttpRequest, data=None) -> InterruptionForm:
    initial = {}
    if row_access(request, WRITE_INTERRUPTIONS) is Access.OWN:
        # A technician logs the pings it caused: it is the one who asked.
        initial["requested_by"] = request.user.get_full_name() or request.user.get_username()
    return InterruptionForm(data, tz=request.org.tz, now=timezone.now(), initial=initial)


def _log_response(request: HttpRequest, form, *, status: int = 200, logged=None, **headers) -> HttpResponse:
    context = {
        "log_form": form,
        "logged": logged,
        "categories": ticket_categories(request.org),
        "next": safe_next(request, ""),
    }
    if wants_partial(request):
        return render_local(request, "delegation/partials/quick_log.html", context, status, **headers)
    context["nav"] = "interruptions"
    return render_local(request, "delegation/interruption_log.html", context, status, **headers)


@org_view(None)
@require_http_methods(["GET", "POST"])
def interruption_log(request: HttpRequest) -> HttpResponse:
    """GET: the form (the dialog of every page loads it; without JavaScript a page of its own).
    POST: logs one interruption through ``record_interruption``, logged by the member."""
    _writable(request)  # 403 for a role that logs none
    if request.method == "GET":
        return _log_response(request, _log_form(request))
    form = _log_form(request, request.POST)
    if form.is_valid():
        try:
            saved = services.record_interruption(
                org=request.org, interruption=form.to_interruption(logged_by=request.user)
            )
        except ValidationError as error:
            attach_errors(form, error, {"occurred_at": "time"})
        else:
            trigger = json.dumps({CHANGED: {"id": saved.pk}})
            if wants_partial(request):
                return _log_response(request, _log_form(request), logged=saved, HX_Trigger=trigger)
            when = weeks.to_local(saved.occurred_at, request.org.tz)
            messages.success(request, f"Logged: {saved.get_channel_display()} at {when:%H:%M} (#{saved.pk}).")
            return redirect(safe_next(request, reverse("delegation:interruption_list")))
    return _log_response(request, form, status=UNPROCESSABLE)


# --- review and delete --------------------------------------------------------------------


def flagged(request: HttpRequest, pk: int) -> Interruption:
    """One readable interruption with its flags (404 outside the member's rows)."""
    return get_object_or_404(
        with_flags(readable(request), request.org).select_related("runbook", "logged_by"), pk=pk
    )


def row_response(request: HttpRequest, interruption: Interruption, *, status: int = 200, form=None):
    """One row (the list's or a drill review's), and for a drill's review its pending count
    out of band."""
    runbooks = review_runbooks(request)
    decorate([interruption], request)
    interruption.follow_up_form = form or FollowUpForm(runbooks=runbooks, interruption=interruption)
    context = {"row": interruption, "in_review": False}
    if (drill_pk := parse_id(request.POST.get("drill") or "")) is not None:
        drill = Drill.objects.for_org(request.org).filter(pk=drill_pk).first()
        if drill is not None:
            drill.organization = request.org
            may_manage = row_access(request, WRITE_DELEGATION) is Access.ALL
            context.update(
                in_review=True, drill=drill, review=drill_review(drill), oob=True, may_manage=may_manage
            )
    return render_local(request, "delegation/partials/follow_up_saved.html", context, status)


@org_view(None)
@require_POST
def interruption_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """Sets the follow-up, the runbook changed and the owner-level mark in place."""
    interruption = flagged(request, pk)
    _check_review(request)
    form = FollowUpForm(request.POST, runbooks=review_runbooks(request), interruption=interruption)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.set_follow_up(
                interruption=interruption,
                follow_up=data["follow_up"],
                runbook=data["runbook"],
                owner_level=data["owner_level"],
                keep_owner_level=False,
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            if not wants_partial(request):
                return redirect(safe_next(request, reverse("delegation:interruption_list")))
            response = row_response(request, flagged(request, pk))
            response["HX-Trigger"] = json.dumps({REVIEWED: {"id": pk}})
            return response
    if not wants_partial(request):
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect(safe_next(request, reverse("delegation:interruption_list")))
    return row_response(request, flagged(request, pk), status=UNPROCESSABLE, form=form)


@org_view(None)
@require_POST
def interruption_delete(request: HttpRequest, pk: int) -> HttpResponse:
    interruption = get_object_or_404(_writable(request), pk=pk)
    services.delete_interruption(interruption=interruption)
    if not wants_partial(request):
        messages.success(request, f"Deleted interruption #{pk}.")
        return redirect(safe_next(request, reverse("delegation:interruption_list")))
    # The row goes (empty swap); lists on the page refresh their counts on the event.
    response = HttpResponse("")
    response["HX-Trigger"] = json.dumps({CHANGED: {"id": pk}})
    return response
