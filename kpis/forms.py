"""Forms of the KPI pages: they check shape and resolve members inside the org; they never write.

Every write goes through ``kpis.services`` (STYLE 3); a service's refusal is put back on the form
with ``delegation.views.common.attach_errors``. A local wall-clock time becomes an instant
through ``weeks.local_moment`` only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth import get_user_model

from kpis.models import KpiTargets, SlaPolicy
from msp_ops.lib import weeks
from msp_ops.orgs.models import Organization

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
HOURS_WIDGET = forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"})
COUNT_WIDGET = forms.NumberInput(attrs={"step": "1", "min": "0", "inputmode": "numeric"})
MORE_THAN_ZERO = "Give more than 0 hours."
AT_LEAST_ZERO = "Give 0 or more."


def members_of(org: Organization):
    """The organization's members (any role), by username: who may own a to-do."""
    return get_user_model().objects.filter(memberships__organization=org).order_by("username")


def _hours(label: str, *, positive: bool) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=7,
        decimal_places=2,
        min_value=Decimal("0.01") if positive else Decimal("0"),
        error_messages={"min_value": MORE_THAN_ZERO if positive else AT_LEAST_ZERO},
        widget=HOURS_WIDGET if positive else forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
    )


def _count(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=1_000_000,
        error_messages={"min_value": AT_LEAST_ZERO},
        widget=COUNT_WIDGET,
    )


# --- settings -----------------------------------------------------------------------------


class SlaPolicyForm(forms.Form):
    """Resolution targets in calendar hours per severity (SPEC 1): each more than 0."""

    p1 = _hours("P1 (hours)", positive=True)
    p2 = _hours("P2 (hours)", positive=True)
    p3 = _hours("P3 (hours)", positive=True)
    p4 = _hours("P4 (hours)", positive=True)

    @classmethod
    def initial_of(cls, policy: SlaPolicy) -> dict[str, Any]:
        return {name: getattr(policy, name) for name in cls.base_fields}


class KpiTargetsForm(forms.Form):
    """The targets behind the status colours (SPEC 2); the amber line is at most the green one."""

    delegated_hours_green = _hours("Delegated hours: green at (hours or more)", positive=False)
    delegated_hours_amber = _hours("Delegated hours: amber at (hours or more)", positive=False)
    managed_clients_threshold = _count("Fixed delegated-hours targets from (managed clients)")
    interruptions_4wk_green_max = _hours("Owner interruptions: green up to (4-week average)", positive=False)
    aged_backlog_team_max = _count("Aged backlog: green up to (aged tickets per team)")

    @classmethod
    def initial_of(cls, targets: KpiTargets) -> dict[str, Any]:
        return {name: getattr(targets, name) for name in cls.base_fields}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        green, amber = data.get("delegated_hours_green"), data.get("delegated_hours_amber")
        if green is not None and amber is not None and amber > green:
            self.add_error("delegated_hours_amber", "The amber line must be at most the green one.")
        return data


class ManagedClientsForm(forms.Form):
    """How many managed clients the MSP has (SPEC 1): which delegated-hours targets apply."""

    managed_clients = _count("Managed clients")

    @classmethod
    def initial_of(cls, org: Organization) -> dict[str, Any]:
        return {"managed_clients": org.managed_clients}


# --- to-dos -------------------------------------------------------------------------------


class TodoForm(forms.Form):
    """A Level-10 to-do: title, owner (a member), due date (default: the next weekly review,
    7 days after today in the org's zone; SPEC 1) and the ticket category it is about."""

    title = forms.CharField(max_length=200)
    owner = forms.ModelChoiceField(queryset=get_user_model().objects.none(), empty_label=None)
    due_date = forms.DateField(widget=DATE_INPUT, label="Due", required=False)
    ticket_category = forms.CharField(max_length=100, required=False, label="Ticket category")

    def __init__(self, *args, org: Organization, now: datetime, **kwargs) -> None:
        kwargs.setdefault("auto_id", "todo_%s")  # unique ids beside the page's own forms
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = members_of(org)
        self.fields["owner"].label_from_instance = lambda user: user.get_username()
        self.fields["due_date"].initial = weeks.today(org.tz, now) + timedelta(days=7)
        self.fields["due_date"].help_text = "Default: the next weekly review, 7 days from today."


class TodoFilterForm(forms.Form):
    """The to-do list's filters: open (default), done or all; one owner or everyone."""

    STATUS_CHOICES = [("open", "Open"), ("done", "Done"), ("all", "All")]
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Everyone",
        to_field_name="username",
    )

    def __init__(self, *args, org: Organization, **kwargs) -> None:
        kwargs.setdefault("auto_id", "f_%s")
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = members_of(org)
        self.fields["owner"].label_from_instance = lambda user: user.get_username()

    def filter_data(self) -> dict[str, str]:
        """The same filters as ``/api/v1/todos/`` (``kpis.filters.TodoFilter``)."""
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status") or "open"
        done = {"open": "false", "done": "true"}.get(status, "")
        owner = data.get("owner")
        return {"done": done, "owner": owner.get_username() if owner else ""}


# --- the stand-up -------------------------------------------------------------------------


class StandupAtForm(forms.Form):
    """``?at=`` a local date and time (``YYYY-MM-DDTHH:MM``, as ``datetime-local`` sends it)."""

    at = forms.CharField(
        required=False,
        label="As of",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, tz: ZoneInfo, **kwargs) -> None:
        self.tz = tz
        super().__init__(*args, **kwargs)

    def clean_at(self) -> datetime | None:
        value = (self.cleaned_data.get("at") or "").strip()
        if not value:
            return None
        for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                naive = datetime.strptime(value, pattern)
                break
            except ValueError:
                continue
        else:
            raise forms.ValidationError("Give a local date and time, e.g. 2025-03-04T08:30.")
        try:
            return weeks.local_moment(naive.date(), naive.time(), self.tz)
        except weeks.NonexistentLocalTime as error:
            raise forms.ValidationError(str(error)) from None


def local_input(moment: datetime, tz: ZoneInfo) -> str:
    """An instant as the value of a ``datetime-local`` input in the org's zone."""
    return weeks.to_local(moment, tz).strftime("%Y-%m-%dT%H:%M")


def monday_or_none(value: str | None) -> date | None:
    try:
        return weeks.parse_week(value) if value else None
    except ValueError:
        return None
