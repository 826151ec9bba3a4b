"""Level-10 to-dos (issue 11, item 6): made in one click from the agenda's aging categories, the
list with its filters, and done/not done in place (``services.save_todos``).

Every member who may view reads them; founders and service managers (``Perm.MANAGE_TICKETS``,
as for the API's ``/todos/``) create them and mark them done. An open to-do carries over to
each next week's agenda until done (``selectors.on_agenda``), showing the week it came from.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kpis import services
from kpis.filters import TodoFilter
from kpis.forms import TodoFilterForm, TodoForm
from kpis.models import Todo
from kpis.views.common import UNPROCESSABLE, attach_errors, render_local, safe_next, week_arg
from kpis.views.dashboard import agenda_todo_lists
from msp_ops.lib import weeks
from msp_ops.lib.htmx import wants_partial
from msp_ops.orgs.access import can, org_view
from msp_ops.orgs.batches import BatchValidationError
from msp_ops.orgs.roles import Perm

# HX-Trigger: a to-do was created or ticked; the agenda and the list (its count, its filter) reload.
CHANGED = "todos-changed"
PAGE_SIZE = 50
SLOT = re.compile(r"[a-z0-9-]{1,40}")


def _flags(request: HttpRequest) -> dict:
    return {"may_manage_todos": can(request, Perm.MANAGE_TICKETS), "today": weeks.today(request.org.tz)}


@org_view(Perm.VIEW)
@require_GET
def agenda_todos(request: HttpRequest) -> HttpResponse:
    """The dashboard agenda's to-dos again (after one was made from it)."""
    week = week_arg(request)
    if not wants_partial(request):
        return redirect(f"{reverse('kpis:dashboard')}?week={week.isoformat()}")
    reviewed, new = agenda_todo_lists(request.org, week)
    context = {"week": week, "todos_reviewed": reviewed, "todos_new": new, **_flags(request)}
    return render_local(request, "kpis/partials/agenda_todos.html", context)


@org_view(Perm.VIEW)
@require_GET
def todo_list(request: HttpRequest) -> HttpResponse:
    """Every to-do, open ones by default, filtered by owner; the oldest due first."""
    org = request.org
    filters_form = TodoFilterForm(request.GET or None, org=org)
    filters = TodoFilter(
        filters_form.filter_data(),
        queryset=Todo.objects.for_org(org).select_related("owner"),
        request=request,
    )
    page = Paginator(filters.qs.order_by("due_date", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    for todo in page:
        todo.carried_from = todo.created_week
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav": "todos",
        "filters_form": filters_form,
        "status": (filters_form.cleaned_data.get("status") if filters_form.is_valid() else "") or "open",
        "page": page,
        "todos": list(page),
        "filter_query": query.urlencode(),
        "form": TodoForm(org=org, now=timezone.now(), initial={"owner": request.user.pk}),
        "list_url": request.get_full_path(),
        **_flags(request),
    }
    template = "kpis/partials/todo_list.html" if wants_partial(request) else "kpis/todos.html"
    return render_local(request, template, context)


def _slot(request: HttpRequest) -> str:
    """Which of the page's to-do forms this is (``slot``, e.g. the agenda's aging category
    ``1-2``): its fields' ids carry it, so two forms open at once never share an id."""
    slot = request.POST.get("slot") or request.GET.get("slot") or ""
    return slot if SLOT.fullmatch(slot) else ""


def _auto_id(slot: str) -> str:
    return f"todo_{slot}_%s" if slot else "todo_%s"


@org_view(Perm.MANAGE_TICKETS)
@require_http_methods(["GET", "POST"])
def todo_new(request: HttpRequest) -> HttpResponse:
    """The small to-do form (from the agenda: title and category prefilled), and creating one.

    Due by default at the next weekly review, 7 days after today in the org's zone (SPEC 1)."""
    org = request.org
    now = timezone.now()
    fallback = f"{reverse('kpis:dashboard')}?week={week_arg(request).isoformat()}"
    slot = _slot(request)
    if request.method == "POST":
        form = TodoForm(request.POST, org=org, now=now, auto_id=_auto_id(slot))
        if form.is_valid():
            data = form.cleaned_data
            todo = Todo(
                organization=org,
                title=data["title"],
                owner=data["owner"],
                due_date=data["due_date"],
                ticket_category=data["ticket_category"],
            )
            try:
                (saved,) = services.save_todos(org=org, todos=[todo], now=now)
            except BatchValidationError as error:
                attach_errors(form, error)
            else:
                todo = saved.obj
                if wants_partial(request):
                    # "Make another" opens the same slot's form, going back to the same page.
                    another = {"week": week_arg(request).isoformat(), "next": safe_next(request, fallback)}
                    another_query = urlencode({**another, **({"slot": slot} if slot else {})})
                    context = {"todo": todo, "another_query": another_query, **_flags(request)}
                    return render_local(
                        request, "kpis/partials/todo_created.html", context, HX_Trigger=CHANGED
                    )
                messages.success(
                    request,
                    f"To-do “{todo.title}” for {todo.owner.get_username()}, due {todo.due_date:%a %-d %b}.",
                )
                return redirect(safe_next(request, fallback))
        status = UNPROCESSABLE
    else:
        initial = {
            "title": request.GET.get("title", "")[:200],
            "ticket_category": request.GET.get("ticket_category", "")[:100],
            "owner": request.user.pk,
        }
        form = TodoForm(org=org, now=now, initial=initial, auto_id=_auto_id(slot))
        status = 200
    context = {
        "nav": "todos",
        "form": form,
        "slot": slot,
        "week": week_arg(request),
        "next": safe_next(request, fallback),
        "inline": wants_partial(request),
    }
    template = "kpis/partials/todo_form.html" if wants_partial(request) else "kpis/todo_form.html"
    return render_local(request, template, context, status)


@org_view(Perm.MANAGE_TICKETS)
@require_POST
def todo_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Done (``done=true``, the checkbox ticked) or open again (no ``done``), in place."""
    todo = get_object_or_404(Todo.objects.for_org(request.org).select_related("owner"), pk=pk)
    todo.done = request.POST.get("done") in ("true", "on", "1")
    (saved,) = services.save_todos(org=request.org, todos=[todo])
    todo = saved.obj
    if not wants_partial(request):
        messages.success(request, f"“{todo.title}” {'done' if todo.done else 'open again'}.")
        return redirect(safe_next(request, reverse("kpis:todo_list")))
    week = week_arg(request) if request.POST.get("week") else None
    todo.carried_from = todo.created_week if week is None or todo.created_week < week else None
    context = {"todo": todo, "week": week, "next": safe_next(request, ""), **_flags(request)}
    return render_local(request, "kpis/partials/todo_row.html", context, HX_Trigger=CHANGED)
