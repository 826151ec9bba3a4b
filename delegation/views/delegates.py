"""Delegates (issue 10, item 8): the list with the founder hours each took over, add, edit,
deactivate, and a delegate's page with their delegations.

"Hours taken over" is the sum of SPEC 1's hours freed of the delegate's handed-off and done
delegations (``selectors.hours_freed``, one query for every delegation on the page).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegation import services
from delegation.forms import DelegateForm
from delegation.models import Delegate, Delegation, DelegationStatus
from delegation.views.board import RUNNING_STATUSES, Card, cards_for
from delegation.views.common import UNPROCESSABLE, attach_errors, render_local
from msp_ops.orgs.access import can, org_view
from msp_ops.orgs.batches import BatchValidationError
from msp_ops.orgs.roles import Perm
from msp_ops.orgs.scoping import org_object_or_404


@dataclass
class DelegateRow:
    delegate: Delegate
    cards: list[Card] = field(default_factory=list)

    @property
    def running(self) -> list[Card]:
        return [c for c in self.cards if c.delegation.status in RUNNING_STATUSES]

    @property
    def taken_over(self) -> Decimal | None:
        """Founder hours per week taken over: None while no delegation has a figure yet."""
        figures = [c.freed for c in self.running if c.freed is not None]
        return sum(figures, Decimal("0.00")) if figures else None

    @property
    def expected(self) -> Decimal:
        return sum((c.delegation.expected_hours_per_week for c in self.running), Decimal("0.00"))


def _rows(request: HttpRequest, delegates: list[Delegate]) -> list[DelegateRow]:
    """Each delegate with its delegations as cards (two queries, whatever the number)."""
    rows = {d.pk: DelegateRow(d) for d in delegates}
    delegations = list(
        Delegation.objects.for_org(request.org)
        .filter(delegate__in=list(rows))
        .select_related("category", "delegate")
        .order_by("status", "title", "pk")
    )
    by_delegate: dict[int, list[Card]] = defaultdict(list)
    for card in cards_for(request, delegations):
        by_delegate[card.delegation.delegate_id].append(card)
    for pk, row in rows.items():
        order = list(DelegationStatus.values)
        row.cards = sorted(by_delegate[pk], key=lambda c: (order.index(c.delegation.status), c.delegation.pk))
    return list(rows.values())


@org_view(Perm.VIEW)
@require_http_methods(["GET", "POST"])
def delegate_list(request: HttpRequest) -> HttpResponse:
    may_manage = can(request, Perm.MANAGE_DELEGATION)
    form = DelegateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied("Your role may not manage delegation.")
        if form.is_valid():
            delegate = Delegate(**form.values())
            try:
                services.save_delegates(org=request.org, delegates=[delegate])
            except BatchValidationError as error:
                attach_errors(form, error)
            else:
                messages.success(request, f"Added {delegate.name}.")
                return redirect("delegation:delegate_list")
        status = UNPROCESSABLE
    delegates = list(Delegate.objects.for_org(request.org).order_by("-active", "name", "pk"))
    context = {"nav": "delegates", "rows": _rows(request, delegates), "form": form, "may_manage": may_manage}
    return render_local(request, "delegation/delegates.html", context, status)


@org_view(Perm.VIEW)
@require_GET
def delegate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delegate = org_object_or_404(request, Delegate, pk=pk)
    (row,) = _rows(request, [delegate])
    context = {
        "nav": "delegates",
        "delegate": delegate,
        "row": row,
        "may_manage": can(request, Perm.MANAGE_DELEGATION),
        "where": "detail",
    }
    return render_local(request, "delegation/delegates_detail.html", context)


@org_view(Perm.MANAGE_DELEGATION)
@require_http_methods(["GET", "POST"])
def delegate_edit(request: HttpRequest, pk: int) -> HttpResponse:
    delegate = org_object_or_404(request, Delegate, pk=pk)
    form = DelegateForm(request.POST or None, delegate=delegate)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            changed = Delegate(pk=delegate.pk, **form.values())  # a copy: a refusal shows the stored one
            try:
                services.save_delegates(org=request.org, delegates=[changed])
            except BatchValidationError as error:
                attach_errors(form, error)
            else:
                messages.success(request, f"Saved {changed.name}.")
                return redirect("delegation:delegate_detail", pk=delegate.pk)
        status = UNPROCESSABLE
    context = {"nav": "delegates", "delegate": delegate, "form": form}
    return render_local(request, "delegation/delegates_form.html", context, status)


@org_view(Perm.MANAGE_DELEGATION)
@require_POST
def delegate_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (no longer offered for new delegations; the existing ones keep them) or back."""
    delegate = org_object_or_404(request, Delegate, pk=pk)
    delegate.active = request.POST.get("active", "0") == "1"
    services.save_delegates(org=request.org, delegates=[delegate])
    state = "active again" if delegate.active else "deactivated: no longer offered for new delegations"
    messages.success(request, f"{delegate.name} {state}.")
    if request.POST.get("where") == "detail":
        return redirect("delegation:delegate_detail", pk=delegate.pk)
    return redirect("delegation:delegate_list")


@org_view(Perm.MANAGE_DELEGATION)
@require_POST
def delegate_delete(request: HttpRequest, pk: int) -> HttpResponse:
    delegate = org_object_or_404(request, Delegate, pk=pk)
    try:
        services.delete_row(row=delegate)
    except (ProtectedError, RestrictedError):  # a delegate with delegations
        count = Delegation.objects.for_org(request.org).filter(delegate=delegate).count()
        messages.error(
            request,
            f"{delegate.name} has {count} delegation{'s' if count != 1 else ''}: deactivate instead, "
            "so their history stays.",
        )
        return redirect("delegation:delegate_detail", pk=delegate.pk)
    messages.success(request, f"Deleted {delegate.name}.")
    return redirect("delegation:delegate_list")
