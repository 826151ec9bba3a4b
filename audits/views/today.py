"""The Today page: the day's entries, quick add, the form, inline edit, tags and the timer."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audits import services
from audits.forms import (
    EntryForm,
    QuickAddForm,
    TimerForm,
    attach_service_errors,
)
from audits.models import TAG_FIELDS, Category, RunningTimer, Tag, TimeAudit, TimeEntry
from audits.selectors import audit_day, day_entries
from audits.views.common import UNPROCESSABLE, render_local
from msp_ops.lib import weeks
from msp_ops.lib.htmx import wants_partial
from msp_ops.lib.ids import parse_id
from msp_ops.orgs.access import org_view
from msp_ops.orgs.roles import Perm

# --- Today ------------------------------------------------------------------------------


def _day_arg(request: HttpRequest) -> date:
    """``?day=YYYY-MM-DD`` (also accepted from a POST body); else today in the org's zone."""
    value = request.GET.get("day") or request.POST.get("day")
    if value:
        try:
            return weeks.parse_date(value)
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
    return render_local(request, "audits/today.html", context, status)


@org_view(Perm.LOG_OWN_TIME)
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    day = _day_arg(request)
    categories = _categories(request)
    editing = parse_id(request.GET.get("edit", ""))
    if editing is None:
        return _today_page(request, day, categories)
    # Without JavaScript, "Edit" reloads the page with that row as a form.
    entry = _my_entries(request).filter(pk=editing).first()
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
    return render_local(request, "audits/partials/day_saved.html", context)


def _refused(
    request: HttpRequest, day: date, categories: list[Category], *, partial: str, target: str, **forms
) -> HttpResponse:
    """A refused write answers 422 with the form and its messages; htmx swaps it in place."""
    if not wants_partial(request):
        return _today_page(request, day, categories, UNPROCESSABLE, **forms)
    context = _day_context(request, day, **forms)
    return render_local(request, partial, context, UNPROCESSABLE, HX_Retarget=target, HX_Reswap="outerHTML")


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
    return render_local(request, "audits/partials/entry_row.html", context)


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
    return render_local(request, "audits/partials/entry_edit_row.html", context, status)


@org_view(Perm.LOG_OWN_TIME)
@require_POST
def entry_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _my_entry(request, pk)
    day = _day_arg(request)
    services.delete_time_entry(entry=entry)
    if not wants_partial(request):
        messages.success(request, f"Deleted “{entry.activity}”.")
        return redirect(_today_url(day))
    # The row disappears (empty swap); the day's total follows out of band. The day's last entry
    # gone, the whole list comes back instead, with the empty day's message.
    context = _day_context(request, day)
    if not context["shown"].entries:
        return render_local(
            request,
            "audits/partials/day_entries.html",
            context,
            HX_Retarget="#day-entries",
            HX_Reswap="outerHTML",
        )
    return render_local(request, "audits/partials/day_total.html", {"shown": context["shown"], "oob": True})


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
        return render_local(request, "audits/partials/entry_row.html", context, UNPROCESSABLE)
    if not wants_partial(request):
        return redirect(_today_url(day))
    return render_local(request, "audits/partials/entry_row.html", context)


# --- the running timer ------------------------------------------------------------------


def _timer_response(
    request: HttpRequest, *, status: int = 200, errors=None, saved=None, form: TimerForm | None = None
) -> HttpResponse:
    """The timer's card; ``form``: a refused start, shown again with what was typed."""
    day = _day_arg(request)
    categories = _categories(request)
    timer = _running_timer(request)
    context = {
        "timer": timer,
        "timer_form": form or TimerForm(categories=categories),
        "timer_errors": errors or [],
        "day": day,
    }
    if saved is not None:
        # The stopped timer's entry: refresh the day's list out of band.
        context.update(_day_context(request, day, oob_day=True))
        context["timer_errors"] = errors or []
    return render_local(request, "audits/partials/timer.html", context, status)


@org_view(Perm.LOG_OWN_TIME)
@require_GET
def timer(request: HttpRequest) -> HttpResponse:
    """The timer's current state: a second tab refreshes it when it comes back into view."""
    return _timer_response(request)


@org_view(Perm.LOG_OWN_TIME)
@require_POST
def timer_start(request: HttpRequest) -> HttpResponse:
    categories = _categories(request)
    form = TimerForm(request.POST, categories=categories)
    if not form.is_valid():
        errors = [m for field_errors in form.errors.values() for m in field_errors]
        if not wants_partial(request):
            day = _day_arg(request)
            return _today_page(request, day, categories, UNPROCESSABLE, timer_form=form, timer_errors=errors)
        return _timer_response(request, status=UNPROCESSABLE, errors=errors, form=form)
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
