"""Audits: the list and start form, progress, and the report with its charts and print view."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods

from audits import services
from audits.forms import (
    AuditStartForm,
    attach_service_errors,
)
from audits.models import TimeAudit
from audits.selectors import audit_day, audit_report, visible_audits
from audits.views.common import TAG_LABELS, UNPROCESSABLE, render_local
from msp_ops.lib import weeks
from msp_ops.orgs.access import org_view, row_access
from msp_ops.orgs.roles import READ_TIME, WRITE_AUDITS, WRITE_TIME_ENTRIES, Access

# --- audits -----------------------------------------------------------------------------


def _audits_scope(request: HttpRequest):
    """Who sees which audits: readers of the org's data see all, a technician only their own
    (``roles.READ_TIME``, as in the API)."""
    match row_access(request, READ_TIME):
        case Access.ALL:
            return None
        case Access.OWN:
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
    may_start = row_access(request, WRITE_AUDITS) is not Access.NONE
    may_choose = row_access(request, WRITE_AUDITS) is Access.ALL
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
    return render_local(request, "audits/audit_list.html", context, status)


@org_view(None)
@require_GET
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress: day X of 7, hours per day, days with nothing logged highlighted."""
    audit = _audit_or_404(request, pk)
    may_log = row_access(request, WRITE_TIME_ENTRIES) is not Access.NONE
    today = weeks.today(request.org.tz)
    report = audit_report(audit)
    empty_days = set(report.empty_days)
    days = [
        {
            "date": day,
            "hours": hours,
            "empty": day in empty_days and day <= today,
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
        "own": audit.user_id == request.user.pk and may_log,
        "gaps": sum(1 for d in days if d["empty"]),
    }
    return render_local(request, "audits/audit_detail.html", context)


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
    return render_local(request, template, context)
