"""The founder's pages of the 7-day time audit: Today, audits, the report, categories (issue 4).

Views stay thin (STYLE 3): scope to ``request.org``, check shape with a form, call one
service or selector, render. htmx requests get a partial (``wants_partial``); a refused
write answers 422 with the form and its message, which the page's htmx config swaps in.
Without JavaScript every form still works with plain POSTs and redirects.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audits import services
from audits.forms import (
    AuditStartForm,
    CategoryForm,
    CategoryUpdateForm,
    EntryForm,
    QuickAddForm,
    TimerForm,
    attach_service_errors,
)
from audits.models import TAG_FIELDS, Category, CategoryKind, RunningTimer, Tag, TimeAudit, TimeEntry
from audits.selectors import audit_day, audit_report, day_entries, visible_audits
from msp_ops.lib import weeks
from msp_ops.lib.htmx import wants_partial
from msp_ops.orgs.access import can, org_view
from msp_ops.orgs.roles import Perm
from msp_ops.orgs.scoping import org_object_or_404

UNPROCESSABLE = 422
TAG_LABELS = dict(Tag.choices)


def _render(request: HttpRequest, template: str, context: dict, status: int = 200, **headers) -> HttpResponse:
    """Renders with the org's time zone active, so every time shows as local time."""
    with timezone.override(request.org.tz):
        response = render(request, template, context, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


# --- Today ------------------------------------------------------------------------------


def _day_arg(request: HttpRequest) -> date:
    """``?day=YYYY-MM-DD`` (also accepted from a POST body); else today in the org's zone."""
    value = request.GET.get("day") or request.POST.get("day")
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    return weeks.today(request.org.tz)


def _running_timer(request: HttpRequest) -> RunningTimer | None:
    return (
        RunningTimer.objects.for_org(request.org).filter(user=request.user).select_related("category").first()
    )


def _categories(request: HttpRequest) -> list[Category]:
    return list(Category.objects.for_org(request.org).active())


def _my_entries(request: HttpRequest):
    """Only the member's own entries: another member's or org's entry is a 404."""
    return TimeEntry.objects.for_org(request.org).filter(user=request.user).select_related("category")


def _my_entry(request: HttpRequest, pk: int) -> TimeEntry:
    return get_object_or_404(_my_entries(request), pk=pk)


def _today_url(day: date) -> str:
    return f"{reverse('audits:today')}?day={day.isoformat()}"


def _day_context(request: HttpRequest, day: date, **extra) -> dict:
    """What the day's list needs: its entries and total, and the days around it."""
    shown = day_entries(org=request.org, user=request.user, day=day)
    today = weeks.today(request.org.tz)
    context = {
        "nav": "today",
        "day": day,
        "today": today,
        "is_today": day == today,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "shown": shown,
        "tag_choices": Tag.choices,
    }
    context.update(extra)
    return context


def _new_entry_form(request: HttpRequest, day: date, categories: list[Category]) -> EntryForm:
    return EntryForm(categories=categories, tz=request.org.tz, initial={"date": day, "category": "other"})


def _quick_add_form(request: HttpRequest, day: date, categories: list[Category], last_end, data=None):
    return QuickAddForm(
        data, day=day, tz=request.org.tz, now=timezone.now(), categories=categories, last_end=last_end
    )


def _today_page(
    request: HttpRequest, day: date, categories: list[Category], status: int = 200, **overrides
) -> HttpResponse:
    """The whole Today page; ``overrides`` put a refused form (with its messages) in place."""
    context = _day_context(request, day)
    audit = (
        TimeAudit.objects.for_org(request.org)
        .filter(user=request.user, start_date__lte=day, start_date__gt=day - timedelta(days=TimeAudit.DAYS))
        .first()
    )
    context.update(
        entry_form=_new_entry_form(request, day, categories),
        quick_form=_quick_add_form(request, day, categories, context["shown"].last_end),
        timer=_running_timer(request),
        timer_form=TimerForm(categories=categories),
        audit=audit,
        audit_day_number=audit_day(audit, day) if audit else None,
    )
    context.update(overrides)
    return _render(request, "audits/today.html", context, status)


@org_view(Perm.LOG_OWN_TIME)
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    day = _day_arg(request)
    categories = _categories(request)
    editing = request.GET.get("edit", "")
    if not editing.isdigit():
        return _today_page(request, day, categories)
    # Without JavaScript, "Edit" reloads the page with that row as a form.
    entry = _my_entries(request).filter(pk=int(editing)).first()
    if entry is None:
        return _today_page(request, day, categories)
    edit_form = EntryForm(categories=categories, tz=request.org.tz, entry=entry)
    return _today_page(request, day, categories, editing=entry.pk, edit_form=edit_form)


def _saved_day(
    request: HttpRequest, day: date, categories: list[Category], *, fresh_forms: bool = True
) -> HttpResponse:
    """After a write: the day's list (htmx; fresh add forms out of band), else a redirect."""
    if not wants_partial(request):
        return redirect(_today_url(day))
    context = _day_context(request, day)
    if fresh_forms:
        context.update(
            entry_form=_new_entry_form(request, day, categories),
            quick_form=_quick_add_form(request, day, categories, context["shown"].last_end),
            oob_forms=True,
        )
    return _render(request, "audits/partials/day_saved.html", context)


def _refused(
    request: HttpRequest, day: date, categories: list[Category], *, partial: str, target: str, **forms
) -> HttpResponse:
    """A refused write answers 422 with the form and its messages; htmx swaps it in place."""
    if not wants_partial(request):
        return _today_page(request, day, categories, UNPROCESSABLE, **forms)
    context = _day_context(request, day, **forms)
    return _render(request, partial, context, UNPROCESSABLE, HX_Retarget=target, HX_Reswap="outerHTML")


@org_view(Perm.LOG_OWN_TIME)
@require_POST
def entry_add(request: HttpRequest) -> HttpResponse:
    day = _day_arg(request)
    categories = _categories(request)
    form = EntryForm(request.POST, categories=categories, tz=request.org.tz)
    if form.is_valid():
        try:
            services.record_time_entry(org=request.org, entry=form.to_entry(user=request.user))
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            shown_day = form.cleaned_data["date"] if not wants_partial(request) else day
            return _saved_day(request, shown_day, categories)
    return _refused(
        request,
        day,
        categories,
        partial="audits/partials/entry_form.html",
        target="#entry-form",
        entry_form=form,
    )


@org_view(Perm.LOG_OWN_TIME)
@require_POST
def quick_add(request: HttpRequest) -> HttpResponse:
    day = _day_arg(request)
    categories = _categories(request)
    shown = day_entries(org=request.org, user=request.user, day=day)
    form = _quick_add_form(request, day, categories, shown.last_end, data=request.POST)
    if form.is_valid():
        try:
            services.record_time_entry(org=request.org, entry=form.to_entry(user=request.user))
        except ValidationError as error:
            attach_service_errors(form, error, default="line")
        else:
            return _saved_day(request, day, categories)
    return _refused(
        request,
        day,
        categories,
        partial="audits/partials/quick_add.html",
        target="#quick-add",
        quick_form=form,
    )


@org_view(Perm.LOG_OWN_TIME)
@require_GET
def entry_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One entry's row (htmx: "Cancel" on an edit)."""
    entry = _my_entry(request, pk)
    day = _day_arg(request)
    if not wants_partial(request):
        return redirect(_today_url(day))
    context = {"entry": entry, "day": day, "tag_choices": Tag.choices}
    return _render(request, "audits/partials/entry_row.html", context)


@org_view(Perm.LOG_OWN_TIME)
@require_http_methods(["GET", "POST"])
def entry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _my_entry(request, pk)
    day = _day_arg(request)
    if request.method == "GET" and not wants_partial(request):
        return redirect(f"{_today_url(day)}&edit={entry.pk}#entry-{entry.pk}")
    categories = _categories(request)
    form = EntryForm(request.POST or None, categories=categories, tz=request.org.tz, entry=entry)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_time_entry(org=request.org, entry=form.to_entry(user=request.user))
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            # The whole day: the entry may have moved in the list or off this day.
            response = _saved_day(request, day, categories, fresh_forms=False)
            if wants_partial(request):
                response["HX-Retarget"] = "#day-entries"
                response["HX-Reswap"] = "outerHTML"
            return response
    if request.method == "POST" and not wants_partial(request):
        return _today_page(request, day, categories, UNPROCESSABLE, edit_form=form, editing=entry.pk)
    context = {"entry": entry, "edit_form": form, "day": day, "tag_choices": Tag.choices}
    status = UNPROCESSABLE if request.method == "POST" else 200
    return _render(request, "audits/partials/entry_edit_row.html", context, status)


@org_view(Perm.LOG_OWN_TIME)
@require_POST
def entry_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _my_entry(request, pk)
    day = _day_arg(request)
    services.delete_time_entry(entry=entry)
    if not wants_partial(request):
        messages.success(request, f"Deleted “{entry.activity}”.")
        return redirect(_today_url(day))
    # The row disappears (empty swap); the day's total follows out of band.
    shown = day_entries(org=request.org, user=request.user, day=day)
    return _render(request, "audits/partials/day_total.html", {"shown": shown, "oob": True})


@org_view(Perm.LOG_OWN_TIME)
@require_POST
def entry_toggle_tag(request: HttpRequest, pk: int, tag: str) -> HttpResponse:
    if tag not in TAG_FIELDS:
        raise Http404("No such tag.")
    entry = _my_entry(request, pk)
    day = _day_arg(request)
    tags = set(entry.tags) ^ {tag}
    entry.tags = tags
    context = {"entry": entry, "day": day, "tag_choices": Tag.choices}
    try:
        services.record_time_entry(org=request.org, entry=entry)
    except ValidationError as error:
        context["row_errors"] = [m for messages_ in error.message_dict.values() for m in messages_]
        entry.tags = set(entry.tags) ^ {tag}
        if not wants_partial(request):
            messages.error(request, " ".join(context["row_errors"]))
            return redirect(_today_url(day))
        return _render(request, "audits/partials/entry_row.html", context, UNPROCESSABLE)
    if not wants_partial(request):
        return redirect(_today_url(day))
    return _render(request, "audits/partials/entry_row.html", context)


# --- the running timer ------------------------------------------------------------------


def _timer_response(request: HttpRequest, *, status: int = 200, errors=None, saved=None) -> HttpResponse:
    day = _day_arg(request)
    categories = _categories(request)
    timer = _running_timer(request)
    context = {
        "timer": timer,
        "timer_form": TimerForm(categories=categories),
        "timer_errors": errors or [],
        "day": day,
    }
    if saved is not None:
        # The stopped timer's entry: refresh the day's list out of band.
        context.update(_day_context(request, day, oob_day=True))
        context["timer_errors"] = errors or []
    return _render(request, "audits/partials/timer.html", context, status)


@org_view(Perm.LOG_OWN_TIME)
@require_GET
def timer(request: HttpRequest) -> HttpResponse:
    """The timer's current state: a second tab refreshes it when it comes back into view."""
    return _timer_response(request)


@org_view(Perm.LOG_OWN_TIME)
@require_POST
def timer_start(request: HttpRequest) -> HttpResponse:
    form = TimerForm(request.POST, categories=_categories(request))
    if not form.is_valid():
        errors = [m for field_errors in form.errors.values() for m in field_errors]
        return _timer_response(request, status=UNPROCESSABLE, errors=errors)
    services.start_timer(
        org=request.org,
        user=request.user,
        activity=form.cleaned_data["activity"],
        category=form.cleaned_data["category"],
        tags=form.cleaned_data["tags"],
    )
    if not wants_partial(request):
        return redirect(_today_url(_day_arg(request)))
    return _timer_response(request)


@org_view(Perm.LOG_OWN_TIME)
@require_POST
def timer_stop(request: HttpRequest) -> HttpResponse:
    try:
        saved = services.stop_timer(org=request.org, user=request.user)
    except ValidationError as error:
        texts = [m for field_errors in error.message_dict.values() for m in field_errors]
        if not wants_partial(request):
            messages.error(request, " ".join(texts))
            return redirect(_today_url(_day_arg(request)))
        return _timer_response(request, status=UNPROCESSABLE, errors=texts)
    if not wants_partial(request):
        if saved is None:
            messages.info(request, "No timer was running.")
        return redirect(_today_url(_day_arg(request)))
    if saved is None:
        return _timer_response(request, errors=["No timer was running (stopped in another tab?)."])
    return _timer_response(request, saved=saved)


@org_view(Perm.LOG_OWN_TIME)
@require_POST
def timer_discard(request: HttpRequest) -> HttpResponse:
    """Drops a running timer without logging it: the way out of one that ran over 24 hours."""
    discarded = services.discard_timer(org=request.org, user=request.user)
    if not wants_partial(request):
        messages.info(request, "Timer discarded." if discarded else "No timer was running.")
        return redirect(_today_url(_day_arg(request)))
    return _timer_response(request, errors=[] if discarded else ["No timer was running."])


# --- audits -----------------------------------------------------------------------------


def _audits_scope(request: HttpRequest):
    """Who sees which audits: readers of the org's data see all, a technician only their own."""
    if can(request, Perm.VIEW):
        return None
    if can(request, Perm.LOG_OWN_TIME):
        return request.user
    raise PermissionDenied("Your role may not see audits.")


def _audit_or_404(request: HttpRequest, pk: int) -> TimeAudit:
    only = _audits_scope(request)
    lookup = {"pk": pk} if only is None else {"pk": pk, "user": only}
    audit = get_object_or_404(TimeAudit.objects.for_org(request.org).select_related("user"), **lookup)
    audit.organization = request.org  # the report reads its time zone; spare a query
    return audit


@org_view(None)
@require_http_methods(["GET", "POST"])
def audit_list(request: HttpRequest) -> HttpResponse:
    only = _audits_scope(request)
    may_start = can(request, Perm.LOG_OWN_TIME)
    may_choose = can(request, Perm.MANAGE_AUDITS)
    tz = request.org.tz
    form = AuditStartForm(
        request.POST or None,
        org=request.org,
        may_choose_member=may_choose,
        initial={"start_date": weeks.current_week(tz), "member": request.user.pk},
    )
    status = 200
    if request.method == "POST":
        if not may_start:
            raise PermissionDenied("Your role may not start audits.")
        if form.is_valid():
            member = form.cleaned_data.get("member") or request.user
            try:
                audit = services.start_time_audit(
                    org=request.org, user=member, start_date=form.cleaned_data["start_date"]
                )
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                messages.success(
                    request, f"Audit started for {member.get_username()}: log every day for 7 days."
                )
                return redirect("audits:audit_detail", pk=audit.pk)
        status = UNPROCESSABLE
    today = weeks.today(tz)
    audits = visible_audits(org=request.org, user=only)
    rows = [(audit, audit_day(audit, today)) for audit in audits]
    context = {
        "nav": "audits",
        "rows": rows,
        "today": today,
        "form": form,
        "may_start": may_start,
        "may_manage": may_choose,
        "only_own": only is not None,
    }
    return _render(request, "audits/audit_list.html", context, status)


@org_view(None)
@require_GET
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress: day X of 7, hours per day, days with nothing logged highlighted."""
    audit = _audit_or_404(request, pk)
    today = weeks.today(request.org.tz)
    report = audit_report(audit)
    days = [
        {
            "date": day,
            "hours": hours,
            "empty": not hours and day <= today,
            "future": day > today,
            "is_today": day == today,
        }
        for day, hours in report.hours_by_day.items()
    ]
    context = {
        "nav": "audits",
        "audit": audit,
        "report": report,
        "days": days,
        "day_number": audit_day(audit, today),
        "finished": today > audit.end_date,
        "upcoming": today < audit.start_date,
        "own": audit.user_id == request.user.pk and can(request, Perm.LOG_OWN_TIME),
        "gaps": sum(1 for d in days if d["empty"]),
    }
    return _render(request, "audits/audit_detail.html", context)


def _chart_data(report) -> dict:
    """Plain numbers for Chart.js, handed over with json_script (no inline code)."""
    return {
        "tags": {
            "labels": [TAG_LABELS[t] for t in report.hours_by_tag] + ["Untagged"],
            "hours": [float(h) for h in report.hours_by_tag.values()] + [float(report.untagged_hours)],
        },
        "categories": {
            "labels": [report.category_names.get(slug, slug) for slug in report.hours_by_category],
            "hours": [float(h) for h in report.hours_by_category.values()],
        },
        "days": {
            "labels": [f"{day:%a %d %b}" for day in report.hours_by_day],
            "hours": [float(h) for h in report.hours_by_day.values()],
        },
        "business": {
            "labels": ["In the business", "On the business", "Neither"],
            "hours": [
                float(report.in_business_hours),
                float(report.on_business_hours),
                float(report.neither_hours),
            ],
        },
    }


@org_view(None)
@require_GET
def audit_report_page(request: HttpRequest, pk: int) -> HttpResponse:
    audit = _audit_or_404(request, pk)
    report = audit_report(audit)
    by_category = sorted(report.hours_by_category.items(), key=lambda item: (-item[1], item[0]))
    context = {
        "nav": "audits",
        "audit": audit,
        "report": report,
        "chart_data": _chart_data(report),
        "tag_rows": [(TAG_LABELS[t], h) for t, h in report.hours_by_tag.items()],
        "category_rows": [(slug, report.category_names.get(slug, slug), h) for slug, h in by_category],
        "neither_hours": report.neither_hours,
        "quadrant_rows": [
            ("Urgent and important", report.quadrants["urgent_important"]),
            ("Urgent, not important", report.quadrants["urgent_not_important"]),
            ("Important, not urgent", report.quadrants["not_urgent_important"]),
            ("Neither urgent nor important", report.quadrants["not_urgent_not_important"]),
            ("Unflagged", report.quadrants["unflagged"]),
        ],
        "tag_labels": TAG_LABELS,
        "print_view": request.GET.get("print") == "1",
    }
    template = "audits/report_print.html" if context["print_view"] else "audits/report.html"
    return _render(request, template, context)


# --- categories -------------------------------------------------------------------------


@org_view(Perm.MANAGE_AUDITS)
@require_http_methods(["GET", "POST"])
def categories(request: HttpRequest) -> HttpResponse:
    form = CategoryForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                category = services.create_category(org=request.org, **form.cleaned_data)
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                messages.success(request, f"Category “{category.name}” added: use it as @{category.slug}.")
                return redirect("audits:categories")
        status = UNPROCESSABLE
    rows = [
        (
            category,
            CategoryUpdateForm(
                initial={"name": category.name, "kind": category.kind}, prefix=f"c{category.pk}"
            ),
        )
        for category in Category.objects.for_org(request.org)
    ]
    context = {"nav": "categories", "form": form, "rows": rows, "kinds": CategoryKind.choices}
    return _render(request, "audits/categories.html", context, status)


@org_view(Perm.MANAGE_AUDITS)
@require_POST
def category_update(request: HttpRequest, pk: int) -> HttpResponse:
    category = org_object_or_404(request, Category, pk=pk)
    form = CategoryUpdateForm(request.POST, prefix=f"c{category.pk}")
    if form.is_valid():
        try:
            services.update_category(category=category, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Saved “{category.name}”.")
    else:
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    return redirect("audits:categories")


@org_view(Perm.MANAGE_AUDITS)
@require_POST
def category_archive(request: HttpRequest, pk: int) -> HttpResponse:
    category = org_object_or_404(request, Category, pk=pk)
    archived = request.POST.get("archived", "1") == "1"
    try:
        services.archive_category(category=category, archived=archived)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        state = "archived: old entries keep it" if archived else "back in use"
        messages.success(request, f"“{category.name}” {state}.")
    return redirect("audits:categories")
