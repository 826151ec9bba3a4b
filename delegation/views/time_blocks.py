"""The founder's weekly plan as a week grid (issue 10, item 7): blocks positioned by time, add,
move (edit weekday and times), remove; the week's interruptions on the grid, those outside the
owner-escalations window marked and counted (SPEC 1 "Time blocks").

Everyone who may view reads the plan; founders and service managers (``roles.WRITE_DELEGATION``)
change it. The plan shown is one founder's (``?member=``; the member's own when it is a
founder, else the first founder); the out-of-window flag reads every founder's
owner-escalations blocks, as the API's does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from delegation import services
from delegation.forms import TimeBlockForm
from delegation.models import BlockKind, Interruption, TimeBlock, Weekday
from delegation.selectors import has_escalation_windows, with_flags
from delegation.views.common import UNPROCESSABLE, attach_errors, render_local, week_arg
from msp_ops.lib import weeks
from msp_ops.lib.htmx import wants_partial
from msp_ops.lib.ids import parse_id
from msp_ops.orgs.access import org_view, row_access
from msp_ops.orgs.batches import BatchValidationError
from msp_ops.orgs.models import Membership, Role
from msp_ops.orgs.roles import WRITE_DELEGATION, Access, Perm
from msp_ops.orgs.scoping import org_object_or_404

GRID_FIRST_HOUR, GRID_LAST_HOUR = 7, 19  # the grid grows to show earlier or later blocks


def may_manage(request: HttpRequest) -> bool:
    return row_access(request, WRITE_DELEGATION) is Access.ALL


def _check_manage(request: HttpRequest) -> None:
    if not may_manage(request):
        raise PermissionDenied("Your role may not change the weekly plan.")


def _founders(request: HttpRequest) -> list[AbstractBaseUser]:
    memberships = Membership.objects.for_org(request.org).filter(role=Role.FOUNDER).select_related("user")
    return [m.user for m in memberships.order_by("user__username")]


def _member(request: HttpRequest, founders: list[AbstractBaseUser]) -> AbstractBaseUser | None:
    """Whose plan is shown: ``?member=<id>`` (a member of the organization, else 404), the
    member's own plan when it is a founder, else the first founder."""
    value = request.GET.get("member") or request.POST.get("member") or ""
    by_pk = {user.pk: user for user in founders}
    if value:
        if (user_id := parse_id(value)) is None:
            raise Http404("No such member.")
        if user_id in by_pk:
            return by_pk[user_id]
        membership = org_object_or_404(request, Membership, user_id=user_id)
        return membership.user
    return by_pk.get(request.user.pk) or (founders[0] if founders else None)


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


@dataclass
class Marker:
    """An interruption on the grid."""

    interruption: Interruption
    local_time: time
    style: str
    out_of_window: bool


def _grid(blocks: list[TimeBlock], markers: dict[int, list[tuple[Interruption, time]]], week: date) -> dict:
    """Seven day columns with blocks and interruptions placed by time (percent of the shown hours)."""
    first, last = GRID_FIRST_HOUR * 60, GRID_LAST_HOUR * 60
    for block in blocks:
        first, last = min(first, _minutes(block.start_time)), max(last, _minutes(block.end_time) + 59)
    for placed in markers.values():
        for _, at in placed:
            first, last = min(first, _minutes(at)), max(last, _minutes(at) + 30)
    first, last = first // 60 * 60, min(24 * 60, (last + 59) // 60 * 60)
    span = last - first

    def percent(minutes: int) -> float:
        return (minutes - first) * 100 / span

    days = []
    for weekday, name in Weekday.choices:
        mine = [b for b in blocks if b.weekday == weekday]
        for block in mine:
            top = percent(_minutes(block.start_time))
            height = percent(_minutes(block.end_time)) - top
            # ``order``: a phone lists a day's blocks and interruptions in time order instead.
            block.style = f"top: {top:.3f}%; height: {height:.3f}%; order: {_minutes(block.start_time)}"
        day_markers = [
            Marker(i, at, f"top: {percent(_minutes(at)):.3f}%; order: {_minutes(at)}", i.flag_out_of_window)
            for i, at in markers.get(weekday, [])
        ]
        days.append(
            {
                "weekday": weekday,
                "name": name,
                "date": week + timedelta(days=weekday - 1),
                "blocks": mine,
                "markers": day_markers,
            }
        )
    shown = range(first // 60, last // 60)
    hours = [{"label": f"{h:02d}:00", "style": f"top: {percent(h * 60):.3f}%"} for h in shown]
    return {"days": days, "hours": hours, "style": f"--grid-height: {span / 60 * 3:.2f}rem"}


def _page_context(request: HttpRequest, **extra) -> dict:
    org = request.org
    founders = _founders(request)
    member = _member(request, founders)
    week = week_arg(request)
    blocks = list(TimeBlock.objects.for_org(org).filter(user=member)) if member else []
    start, end = weeks.week_bounds(week, org.tz)
    interruptions = list(
        with_flags(Interruption.objects.for_org(org), org)
        .filter(occurred_at__gte=start, occurred_at__lt=end)
        .order_by("occurred_at", "id")
    )
    markers: dict[int, list[tuple[Interruption, time]]] = {}
    for interruption in interruptions:
        local = weeks.to_local(interruption.occurred_at, org.tz)
        markers.setdefault(local.isoweekday(), []).append((interruption, local.time().replace(tzinfo=None)))
    editing = extra.pop("editing", None)
    context = {
        "nav": "time_blocks",
        "founders": founders,
        "member": member,
        "week": week,
        "week_end": week + timedelta(days=6),
        "previous_week": week - timedelta(days=7),
        "next_week": week + timedelta(days=7),
        "this_week": weeks.current_week(org.tz),
        "blocks": blocks,
        "grid": _grid(blocks, markers, week),
        "interruptions": len(interruptions),
        "out_of_window": sum(1 for i in interruptions if i.flag_out_of_window),
        "has_windows": has_escalation_windows(org),
        "may_manage": may_manage(request),
        "form": TimeBlockForm(),
        "editing": editing,
        "edit_form": TimeBlockForm(block=editing) if editing else None,
        "kinds": BlockKind.choices,
    }
    context.update(extra)
    return context


def _page_url(member, week: date) -> str:
    query = f"?week={week.isoformat()}"
    if member is not None:
        query += f"&member={member.pk}"
    return reverse("delegation:time_blocks") + query


def _respond(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    if wants_partial(request):
        return render_local(request, "delegation/partials/time_block_plan.html", context, status)
    return render_local(request, "delegation/time_blocks.html", context, status)


@org_view(Perm.VIEW)
@require_http_methods(["GET", "POST"])
def time_blocks(request: HttpRequest) -> HttpResponse:
    """GET: the grid (``?edit=<id>`` opens a block's form without JavaScript). POST: adds a block."""
    if request.method == "GET":
        editing = None
        if (block_id := parse_id(request.GET.get("edit", ""))) is not None:
            editing = TimeBlock.objects.for_org(request.org).filter(pk=block_id).first()
        return _respond(request, _page_context(request, editing=editing))
    _check_manage(request)
    founders = _founders(request)
    member = _member(request, founders)
    if member is None:
        raise Http404("The organization has no founder yet.")
    form = TimeBlockForm(request.POST)
    if form.is_valid():
        try:
            services.save_time_blocks(org=request.org, blocks=[form.to_block(user=member)])
        except BatchValidationError as error:
            attach_errors(form, error)
        else:
            if not wants_partial(request):
                return redirect(_page_url(member, week_arg(request)))
            return _respond(request, _page_context(request))
    return _respond(request, _page_context(request, form=form), UNPROCESSABLE)


@org_view(Perm.VIEW)
@require_http_methods(["GET", "POST"])
def time_block_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Moves a block: its kind, weekday and times (GET: the form, in place)."""
    block = org_object_or_404(request, TimeBlock, pk=pk)
    _check_manage(request)
    if request.method == "GET":
        if not wants_partial(request):
            return redirect(_page_url(block.user, week_arg(request)) + f"&edit={block.pk}#edit-block")
        context = _page_context(request, editing=block)
        return render_local(request, "delegation/partials/time_block_edit.html", context)
    form = TimeBlockForm(request.POST, block=block)
    if form.is_valid():
        try:
            services.save_time_blocks(org=request.org, blocks=[form.to_block(user=block.user)])
        except BatchValidationError as error:
            attach_errors(form, error)
        else:
            if not wants_partial(request):
                return redirect(_page_url(block.user, week_arg(request)))
            return _respond(request, _page_context(request))
    return _respond(request, _page_context(request, editing=block, edit_form=form), UNPROCESSABLE)


@org_view(Perm.VIEW)
@require_POST
def time_block_delete(request: HttpRequest, pk: int) -> HttpResponse:
    block = org_object_or_404(request, TimeBlock, pk=pk)
    _check_manage(request)
    services.delete_row(row=block)
    if not wants_partial(request):
        messages.success(request, f"Removed {block}.")
        return redirect(_page_url(block.user, week_arg(request)))
    return _respond(request, _page_context(request))
