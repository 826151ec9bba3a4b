"""Runbooks (issue 10, item 4): the list with the gaps on top, a runbook's page, the editor with
SPEC 1's sections, "mark reviewed today", and the revision history with a readable diff between
any revision and the one before.

Technicians and viewers read runbooks (``Perm.READ_RUNBOOKS``); founders and service managers
write them (``Perm.MANAGE_RUNBOOKS``). Every change goes through ``services.save_runbook``,
which keeps the previous text as a revision.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegation import services
from delegation.forms import RunbookForm
from delegation.models import RUNBOOK_STALE_AFTER, EscalationLevel, Runbook
from delegation.selectors import runbook_list, ticket_categories
from delegation.views.common import UNPROCESSABLE, attach_errors, render_local
from msp_ops.lib import weeks
from msp_ops.orgs.access import can, org_view
from msp_ops.orgs.roles import Perm

# SPEC 1's sections, in the order a technician works through them.
SECTIONS = [
    ("first_checks", "First checks"),
    ("decision_points", "Decision points"),
    ("standard_fix", "Standard fix"),
    ("edge_cases", "Edge cases"),
    ("sign_off_rules", "Sign-off rules"),
    ("client_message_template", "Client message template"),
]
# What a revision compares: the sections, and the fields around them.
COMPARED = [
    ("ticket_category", "Ticket category"),
    ("title", "Title"),
    *SECTIONS,
    ("escalation_level", "Escalation level"),
    ("last_reviewed", "Last reviewed"),
]
SHORT_FIELDS = {"ticket_category", "title", "escalation_level", "last_reviewed"}
LEVEL_LABELS = dict(EscalationLevel.choices)
CONTEXT_LINES = 2  # unchanged lines shown around a change


def _runbooks(request: HttpRequest):
    return Runbook.objects.for_org(request.org).select_related("updated_by")


def _runbook_or_404(request: HttpRequest, pk: int) -> Runbook:
    return get_object_or_404(_runbooks(request), pk=pk)


@org_view(Perm.READ_RUNBOOKS)
@require_GET
def runbook_list_page(request: HttpRequest) -> HttpResponse:
    rows = runbook_list(request.org)
    context = {
        "nav": "runbooks",
        "gaps": [row for row in rows if row.runbook is None],
        "rows": [row for row in rows if row.runbook is not None],
        "may_manage": can(request, Perm.MANAGE_RUNBOOKS),
        "stale_days": RUNBOOK_STALE_AFTER.days,
    }
    return render_local(request, "delegation/runbooks.html", context)


@org_view(Perm.READ_RUNBOOKS)
@require_GET
def runbook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    runbook = _runbook_or_404(request, pk)
    today = weeks.today(request.org.tz)
    context = {
        "nav": "runbooks",
        "runbook": runbook,
        "sections": [(name, label, getattr(runbook, name)) for name, label in SECTIONS],
        "stale": runbook.last_reviewed is None or runbook.last_reviewed < today - RUNBOOK_STALE_AFTER,
        "reviewed_today": runbook.last_reviewed == today,
        "may_manage": can(request, Perm.MANAGE_RUNBOOKS),
        "stale_days": RUNBOOK_STALE_AFTER.days,
    }
    return render_local(request, "delegation/runbooks_detail.html", context)


def _editor(request: HttpRequest, form: RunbookForm, runbook: Runbook | None, status: int) -> HttpResponse:
    context = {
        "nav": "runbooks",
        "form": form,
        "runbook": runbook,
        "suggestions": ticket_categories(request.org),
        "sections": [name for name, _ in SECTIONS],
    }
    return render_local(request, "delegation/runbooks_form.html", context, status)


@org_view(Perm.MANAGE_RUNBOOKS)
@require_http_methods(["GET", "POST"])
def runbook_create(request: HttpRequest) -> HttpResponse:
    initial = {"ticket_category": request.GET.get("ticket_category", "").strip()}
    form = RunbookForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        runbook = Runbook(**form.values())
        try:
            services.save_runbook(org=request.org, runbook=runbook, user=request.user)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, f"Runbook for {runbook.ticket_category} written (revision 1).")
            return redirect("delegation:runbook_detail", pk=runbook.pk)
    return _editor(request, form, None, UNPROCESSABLE if request.method == "POST" else 200)


@org_view(Perm.MANAGE_RUNBOOKS)
@require_http_methods(["GET", "POST"])
def runbook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    runbook = _runbook_or_404(request, pk)
    form = RunbookForm(request.POST or None, runbook=runbook)
    if request.method == "POST" and form.is_valid():
        changed = copy.copy(runbook)  # a refusal keeps the page's runbook as stored
        for name, value in form.values().items():
            setattr(changed, name, value)
        try:
            saved = services.save_runbook(org=request.org, runbook=changed, user=request.user)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            if saved.revision == runbook.revision:
                messages.info(request, "Nothing changed.")
            else:
                messages.success(
                    request, f"Saved revision {saved.revision}; revision {runbook.revision} is kept."
                )
            return redirect("delegation:runbook_detail", pk=runbook.pk)
    return _editor(request, form, runbook, UNPROCESSABLE if request.method == "POST" else 200)


@org_view(Perm.MANAGE_RUNBOOKS)
@require_POST
def runbook_reviewed(request: HttpRequest, pk: int) -> HttpResponse:
    """Reviewed today (org time zone): the review is a change like any other, kept in the history."""
    runbook = _runbook_or_404(request, pk)
    today = weeks.today(request.org.tz)
    if runbook.last_reviewed == today:
        messages.info(request, "Already marked reviewed today.")
    else:
        runbook.last_reviewed = today
        services.save_runbook(org=request.org, runbook=runbook, user=request.user)
        messages.success(request, f"Marked reviewed today ({today:%Y-%m-%d}).")
    return redirect("delegation:runbook_detail", pk=runbook.pk)


# --- the revision history -------------------------------------------------------------------


@dataclass
class Version:
    """One version of a runbook's text: the current one or a kept revision."""

    revision: int
    changed_at: datetime
    changed_by: object | None
    values: dict[str, str]
    current: bool = False


def _text(name: str, value) -> str:
    if value is None:
        return ""
    if name == "escalation_level":
        return LEVEL_LABELS.get(value, value)
    if name == "last_reviewed":
        return f"{value:%Y-%m-%d}"
    return str(value)


def _versions(runbook: Runbook) -> list[Version]:
    """Every version, newest first (one query for the kept revisions)."""
    names = [name for name, _ in COMPARED]
    current = Version(
        runbook.revision,
        runbook.updated_at,
        runbook.updated_by,
        {name: _text(name, getattr(runbook, name)) for name in names},
        current=True,
    )
    kept = [
        Version(
            r.revision, r.changed_at, r.changed_by, {name: _text(name, getattr(r, name)) for name in names}
        )
        for r in runbook.revisions.select_related("changed_by").order_by("-revision")
    ]
    return [current, *kept]


@dataclass
class DiffLine:
    kind: str  # "same", "added", "removed", "skip"
    old: int | None  # line numbers, 1-based
    new: int | None
    text: str


@dataclass
class SectionDiff:
    name: str
    label: str
    changed: bool
    short: bool  # one-line fields: shown as "before → after"
    before: str
    after: str
    lines: list[DiffLine]


def diff_lines(before: str, after: str, context: int = CONTEXT_LINES) -> list[DiffLine]:
    """A line diff (difflib), unchanged runs shortened to ``context`` lines around each change."""
    old, new = before.splitlines(), after.splitlines()
    lines: list[DiffLine] = []
    for group in difflib.SequenceMatcher(None, old, new, autojunk=False).get_grouped_opcodes(context):
        if lines:
            lines.append(DiffLine("skip", None, None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [
                    DiffLine("same", i + 1, j + 1, old[i])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            lines += [DiffLine("removed", i + 1, None, old[i]) for i in range(i1, i2)]
            lines += [DiffLine("added", None, j + 1, new[j]) for j in range(j1, j2)]
    return lines


def compare(before: dict[str, str], after: dict[str, str]) -> list[SectionDiff]:
    sections = []
    for name, label in COMPARED:
        old, new = before.get(name, ""), after[name]
        sections.append(
            SectionDiff(
                name=name,
                label=label,
                changed=old != new,
                short=name in SHORT_FIELDS,
                before=old,
                after=new,
                lines=diff_lines(old, new) if old != new and name not in SHORT_FIELDS else [],
            )
        )
    return sections


def _changed_labels(version: Version, previous: Version | None) -> list[str]:
    before = previous.values if previous else {}
    return [label for name, label in COMPARED if before.get(name, "") != version.values[name]]


@org_view(Perm.READ_RUNBOOKS)
@require_GET
def runbook_history(request: HttpRequest, pk: int) -> HttpResponse:
    runbook = _runbook_or_404(request, pk)
    versions = _versions(runbook)
    rows = [
        (version, _changed_labels(version, versions[n + 1] if n + 1 < len(versions) else None))
        for n, version in enumerate(versions)
    ]
    context = {"nav": "runbooks", "runbook": runbook, "rows": rows}
    return render_local(request, "delegation/runbooks_history.html", context)


@org_view(Perm.READ_RUNBOOKS)
@require_GET
def runbook_diff(request: HttpRequest, pk: int, revision: int) -> HttpResponse:
    """Revision ``revision`` against the one before it, section by section (the first one
    against nothing: all of it added)."""
    runbook = _runbook_or_404(request, pk)
    versions = {v.revision: v for v in _versions(runbook)}
    version = versions.get(revision)
    if version is None:
        raise Http404("No such revision.")
    previous = versions.get(revision - 1)
    sections = compare(previous.values if previous else {}, version.values)
    context = {
        "nav": "runbooks",
        "runbook": runbook,
        "version": version,
        "previous": previous,
        "sections": sections,
        "changed": [s for s in sections if s.changed],
        "newer": versions.get(revision + 1),
        "show_all": request.GET.get("all") == "1",
    }
    return render_local(request, "delegation/runbooks_diff.html", context)
