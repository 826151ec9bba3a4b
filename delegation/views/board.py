"""The delegation board (issue 10, item 3): delegations in columns by status, each card with its
category, delegate, checklist progress, expected and freed founder hours, its dates and the
overdue-review mark; create, edit, delete; and candidates from an audit report's candidates.

A card moves by SPEC 1's rules only (``services.move_delegation``): it offers the moves
``ALLOWED_MOVES`` allows, and a refused one answers 422 with the service's message on the card
and changes nothing. The definition of done is edited in place (``services.edit_checklist``).
Without JavaScript every button is a plain POST answered with a redirect and a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audits.models import Category, TimeAudit
from delegation import services
from delegation.forms import CandidateFromAuditForm, ChecklistForm, DelegationForm, MoveForm
from delegation.models import ALLOWED_MOVES, Delegate, Delegation, DelegationStatus
from delegation.selectors import hours_freed
from delegation.views.common import UNPROCESSABLE, attach_errors, error_lines, render_local
from msp_ops.lib import weeks
from msp_ops.lib.htmx import wants_partial
from msp_ops.orgs.access import can, org_view
from msp_ops.orgs.batches import BatchValidationError
from msp_ops.orgs.roles import Perm

STATUS_LABELS = dict(DelegationStatus.choices)
# The button that moves a card to a status (``ALLOWED_MOVES`` says which a card offers).
MOVE_LABELS = {
    DelegationStatus.CANDIDATE: "Back to candidates",
    DelegationStatus.PLANNED: "Plan",
    DelegationStatus.HANDED_OFF: "Hand off",
    DelegationStatus.DONE: "Mark done",
    DelegationStatus.REVERTED: "Revert",
}
MOVE_ORDER = list(DelegationStatus.values)
# Only a running handoff waits for its review: done means it was reviewed and stuck, reverted
# that it came back, and a candidate or planned one has not started (docs/delegation.md).
REVIEWED_STATUSES = {DelegationStatus.HANDED_OFF}
RUNNING_STATUSES = {DelegationStatus.HANDED_OFF, DelegationStatus.DONE}  # the ones freeing hours
WHERE = ("board", "detail")  # where a card is shown: what its buttons answer with


@dataclass
class Card:
    """One delegation as a card shows it."""

    delegation: Delegation
    freed: Decimal | None  # SPEC 1 "Hours freed"; None: no figure yet
    review: str | None  # "overdue", "today" or None
    moves: list[tuple[str, str]]  # (status, button label)
    errors: list[str] = field(default_factory=list)
    checklist_errors: list[str] = field(default_factory=list)
    checklist_open: bool = False
    focus: str | None = None  # after an htmx swap: "card", "add" (the new-item line) or an item's index

    @property
    def items(self) -> list[tuple[int, dict]]:
        return list(enumerate(self.delegation.definition_of_done or []))


@dataclass
class Column:
    status: str
    label: str
    cards: list[Card]

    @property
    def expected(self) -> Decimal:
        return sum((c.delegation.expected_hours_per_week for c in self.cards), Decimal("0.00"))

    @property
    def freed(self) -> Decimal | None:
        figures = [c.freed for c in self.cards if c.freed is not None]
        return sum(figures, Decimal("0.00")) if figures else None


def _delegations(request: HttpRequest):
    return Delegation.objects.for_org(request.org).select_related("category", "delegate")


def _delegation_or_404(request: HttpRequest, pk: int) -> Delegation:
    delegation = get_object_or_404(_delegations(request), pk=pk)
    delegation.organization = request.org  # hours_freed and the services read its zone: no query
    return delegation


def _review_mark(delegation: Delegation, today: date) -> str | None:
    if delegation.status not in REVIEWED_STATUSES or delegation.review_date is None:
        return None
    if delegation.review_date < today:
        return "overdue"
    return "today" if delegation.review_date == today else None


def _moves(delegation: Delegation) -> list[tuple[str, str]]:
    allowed = sorted(ALLOWED_MOVES[delegation.status], key=MOVE_ORDER.index)
    label = lambda status: (  # noqa: E731
        "Plan again" if delegation.status == DelegationStatus.REVERTED else MOVE_LABELS[status]
    )
    return [(status, label(status)) for status in allowed]


def cards_for(request: HttpRequest, delegations: list[Delegation]) -> list[Card]:
    """Cards for many delegations: hours freed for all of them in one query."""
    for delegation in delegations:
        delegation.organization = request.org
    freed = hours_freed(delegations)
    today = weeks.today(request.org.tz)
    return [Card(d, freed[d.pk], _review_mark(d, today), _moves(d)) for d in delegations]


def _column_order(status: str):
    """Biggest expected win first among candidates and planned ones, the next review first among
    handed-off ones (overdue on top), the latest change first among done and reverted ones."""
    if status in (DelegationStatus.CANDIDATE, DelegationStatus.PLANNED):
        return lambda c: (-c.delegation.expected_hours_per_week, c.delegation.title.lower(), c.delegation.pk)
    if status == DelegationStatus.HANDED_OFF:
        return lambda c: (c.delegation.review_date or date.max, c.delegation.title.lower(), c.delegation.pk)
    return lambda c: (-c.delegation.updated_at.timestamp(), c.delegation.pk)


def _board_context(request: HttpRequest, **extra) -> dict:
    cards = cards_for(request, list(_delegations(request)))
    for card in cards:
        if card.delegation.pk == extra.get("focus"):
            card.focus = "card"
            card.errors = extra.get("card_errors", [])
    columns = []
    for status, label in DelegationStatus.choices:
        in_column = sorted((c for c in cards if c.delegation.status == status), key=_column_order(status))
        columns.append(Column(status, label, in_column))
    running = [c for c in cards if c.delegation.status in RUNNING_STATUSES]
    freed = [c.freed for c in running if c.freed is not None]
    context = {
        "nav": "board",
        "columns": columns,
        "may_manage": can(request, Perm.MANAGE_DELEGATION),
        "where": "board",
        "expected_running": sum((c.delegation.expected_hours_per_week for c in running), Decimal("0.00")),
        "freed_running": sum(freed, Decimal("0.00")) if freed else None,
        "overdue_count": sum(1 for c in cards if c.review == "overdue"),
    }
    context.update(extra)
    return context


@org_view(Perm.VIEW)
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    context = _board_context(request)
    page = "delegation/partials/board_columns.html" if wants_partial(request) else "delegation/board.html"
    return render_local(request, page, context)


def _where(request: HttpRequest) -> str:
    where = request.POST.get("where") or request.GET.get("where")
    return where if where in WHERE else "board"


def _card_url(delegation: Delegation, where: str) -> str:
    if where == "detail":
        return reverse("delegation:delegation_detail", args=[delegation.pk])
    return f"{reverse('delegation:board')}#delegation-{delegation.pk}"


def _card_response(request: HttpRequest, delegation: Delegation, status: int = 200, **card_fields):
    """The card alone (its checklist changed, or a move on the detail page)."""
    delegation = _delegation_or_404(request, delegation.pk)
    (card,) = cards_for(request, [delegation])
    for name, value in card_fields.items():
        setattr(card, name, value)
    card.focus = card.focus or "card"
    context = {"card": card, "may_manage": True, "where": _where(request)}
    return render_local(request, "delegation/partials/board_card.html", context, status)


@org_view(Perm.MANAGE_DELEGATION)
@require_POST
def delegation_move(request: HttpRequest, pk: int) -> HttpResponse:
    delegation = _delegation_or_404(request, pk)
    form = MoveForm(request.POST)
    errors: list[str] = []
    status = request.POST.get("status", "")
    if not form.is_valid():
        errors = [f"Unknown status '{status}'."]
    else:
        try:
            services.move_delegation(delegation=delegation, status=status)
        except ValidationError as error:
            errors = error_lines(error)
    where = _where(request)
    if not wants_partial(request):
        if errors:
            messages.error(request, f"“{delegation.title}” did not move: {' '.join(errors)}")
        else:
            messages.success(request, f"“{delegation.title}” moved to {STATUS_LABELS[status]}.")
        return redirect(_card_url(delegation, where))
    code = UNPROCESSABLE if errors else 200
    if where == "detail":
        return _card_response(request, delegation, code, errors=errors)
    announce = "" if errors else f"“{delegation.title}” moved to {STATUS_LABELS[status]}."
    context = _board_context(request, focus=delegation.pk, card_errors=errors, announce=announce)
    return render_local(request, "delegation/partials/board_columns.html", context, code)


@org_view(Perm.MANAGE_DELEGATION)
@require_POST
def delegation_checklist(request: HttpRequest, pk: int) -> HttpResponse:
    """Add, check, uncheck or remove a definition-of-done item, in place."""
    delegation = _delegation_or_404(request, pk)
    form = ChecklistForm(request.POST)
    errors: list[str] = []
    if not form.is_valid():
        errors = [f"{name}: {' '.join(texts)}" for name, texts in form.errors.items()]
    else:
        data = form.cleaned_data
        try:
            services.edit_checklist(
                delegation=delegation, action=data["action"], text=data["text"], index=data["index"]
            )
        except ValidationError as error:
            errors = error_lines(error)
    if not wants_partial(request):
        if errors:
            messages.error(request, " ".join(errors))
        return redirect(_card_url(delegation, _where(request)))
    code = UNPROCESSABLE if errors else 200
    # Keep the keyboard where it was: on the item toggled, else on the new-item line.
    data = form.cleaned_data if form.is_valid() else {}
    focus = str(data["index"]) if data.get("action") in ("check", "uncheck") and not errors else "add"
    return _card_response(
        request, delegation, code, checklist_errors=errors, checklist_open=True, focus=focus
    )


def _form_choices(request: HttpRequest) -> dict:
    return {
        "categories": list(Category.objects.for_org(request.org).active()),
        "delegates": list(Delegate.objects.for_org(request.org).filter(active=True)),
    }


@org_view(Perm.MANAGE_DELEGATION)
@require_http_methods(["GET", "POST"])
def delegation_create(request: HttpRequest) -> HttpResponse:
    initial = {"category": "other"}
    if (slug := request.GET.get("category")) is not None:
        initial["category"] = slug
    form = DelegationForm(request.POST or None, initial=initial, **_form_choices(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            delegation = Delegation(**form.values())
            try:
                services.save_delegations(org=request.org, delegations=[delegation])
            except BatchValidationError as error:
                attach_errors(form, error, {"definition_of_done": "checklist"})
            else:
                messages.success(request, f"“{delegation.title}” is on the board.")
                return redirect(_card_url(delegation, "board"))
        status = UNPROCESSABLE
    context = {"nav": "board", "form": form, "delegation": None}
    return render_local(request, "delegation/board_form.html", context, status)


@org_view(Perm.VIEW)
@require_GET
def delegation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delegation = _delegation_or_404(request, pk)
    (card,) = cards_for(request, [delegation])
    card.checklist_open = True
    context = {
        "nav": "board",
        "card": card,
        "delegation": delegation,
        "may_manage": can(request, Perm.MANAGE_DELEGATION),
        "where": "detail",
    }
    return render_local(request, "delegation/board_detail.html", context)


@org_view(Perm.MANAGE_DELEGATION)
@require_http_methods(["GET", "POST"])
def delegation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    delegation = _delegation_or_404(request, pk)
    form = DelegationForm(request.POST or None, delegation=delegation, **_form_choices(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_delegation(delegation=delegation, **form.values())
            except ValidationError as error:
                attach_errors(form, error)
            else:
                messages.success(request, f"Saved “{form.cleaned_data['title']}”.")
                return redirect("delegation:delegation_detail", pk=delegation.pk)
        status = UNPROCESSABLE
    context = {"nav": "board", "form": form, "delegation": delegation}
    return render_local(request, "delegation/board_form.html", context, status)


@org_view(Perm.MANAGE_DELEGATION)
@require_POST
def delegation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    delegation = _delegation_or_404(request, pk)
    services.delete_row(row=delegation)
    messages.success(request, f"Deleted “{delegation.title}”.")
    return redirect("delegation:board")


@org_view(Perm.MANAGE_DELEGATION)
@require_POST
def candidate_from_audit(request: HttpRequest, pk: int) -> HttpResponse:
    """The report's button: a candidate titled after the category, expecting its tagged hours
    (``services.candidate_from_audit``, the rule the API's ``from_audit`` uses too)."""
    audit = get_object_or_404(TimeAudit.objects.for_org(request.org).select_related("user"), pk=pk)
    audit.organization = request.org
    form = CandidateFromAuditForm(request.POST, categories=Category.objects.for_org(request.org))
    if not form.is_valid():
        texts = [text for texts in form.errors.values() for text in texts]
        messages.error(request, f"No candidate created: {' '.join(texts)}")
        return redirect("audits:audit_report", pk=audit.pk)
    category = form.cleaned_data["category"]
    hours = form.cleaned_data["expected_hours_per_week"]
    given = {} if hours is None else {"expected_hours_per_week": hours}
    with transaction.atomic():
        # A second click (or a double click) opens the candidate the first one made: one open
        # candidate per category, checked under a lock on the category so two clicks at once
        # still make one.
        Category.objects.select_for_update().filter(pk=category.pk).first()
        existing = (
            Delegation.objects.for_org(request.org)
            .filter(category=category, status=DelegationStatus.CANDIDATE)
            .order_by("pk")
            .first()
        )
        if existing is not None:
            messages.info(request, f"“{existing.title}” is already a candidate on the board.")
            return redirect(_card_url(existing, "board"))
        candidate = services.candidate_from_audit(audit=audit, category=category, **given)
        try:
            services.save_delegations(org=request.org, delegations=[candidate])
        except BatchValidationError as error:
            messages.error(request, f"No candidate created: {' '.join(error_lines(error))}")
            return redirect("audits:audit_report", pk=audit.pk)
    messages.success(
        request,
        f"Candidate “{candidate.title}” created from the audit report: "
        f"{candidate.expected_hours_per_week} founder hours a week to free.",
    )
    return redirect(_card_url(candidate, "board"))
