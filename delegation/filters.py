"""django-filter FilterSets of the delegation app, shared by pages and the API (STYLE 1)."""

from __future__ import annotations

from datetime import date, datetime

import django_filters

from delegation.models import (
    BlockKind,
    Channel,
    Delegate,
    DelegateKind,
    Delegation,
    DelegationStatus,
    EscalationLevel,
    FollowUp,
    Interruption,
    Runbook,
    TimeBlock,
)
from msp_ops.api.filters import AwareDateTimeFilter, BooleanFilter, IdFilter, WeekFilter
from msp_ops.lib import weeks


class InterruptionFilter(django_filters.FilterSet):
    """``from``/``to`` select ``occurred_at`` in [from, to); ``out_of_window`` and ``drill`` read the
    annotations of ``selectors.with_flags``."""

    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    category = django_filters.CharFilter(
        field_name="category", lookup_expr="iexact", label="Ticket category (case-insensitive)."
    )
    follow_up = django_filters.ChoiceFilter(choices=FollowUp.choices)
    runbook = IdFilter(field_name="runbook_id", label="Runbook id.")
    out_of_window = BooleanFilter(field_name="flag_out_of_window")
    drill = IdFilter(field_name="flag_drill", label="Drill id.")
    week = WeekFilter(
        method="filter_week",
        label="The week named by its Monday (YYYY-MM-DD), in the organization's time zone.",
    )

    class Meta:
        model = Interruption
        fields = ["channel", "category", "follow_up", "runbook", "out_of_window", "drill"]

    def filter_week(self, queryset, name: str, value: date):
        start, end = weeks.week_bounds(value, self.request.org.tz)
        return queryset.filter(occurred_at__gte=start, occurred_at__lt=end)

    def filter_from(self, queryset, name: str, value: datetime):
        return queryset.filter(occurred_at__gte=value)

    def filter_to(self, queryset, name: str, value: datetime):
        return queryset.filter(occurred_at__lt=value)


InterruptionFilter.base_filters["from"] = AwareDateTimeFilter(
    method="filter_from", label="Interruptions at or after this time (ISO 8601 with offset)."
)
InterruptionFilter.base_filters["to"] = AwareDateTimeFilter(
    method="filter_to", label="Interruptions before this time (ISO 8601 with offset)."
)


class DelegateFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=DelegateKind.choices)
    active = BooleanFilter()

    class Meta:
        model = Delegate
        fields = ["kind", "active"]


class DelegationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DelegationStatus.choices)
    delegate = IdFilter(field_name="delegate_id", label="Delegate id.")
    category = django_filters.CharFilter(field_name="category__slug", label="Category slug.")

    class Meta:
        model = Delegation
        fields = ["status", "delegate", "category"]


class RunbookFilter(django_filters.FilterSet):
    ticket_category = django_filters.CharFilter(
        field_name="ticket_category", lookup_expr="iexact", label="Ticket category (case-insensitive)."
    )
    escalation_level = django_filters.ChoiceFilter(choices=EscalationLevel.choices)

    class Meta:
        model = Runbook
        fields = ["ticket_category", "escalation_level"]


class TimeBlockFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="user__username", label="Username of the member.")
    kind = django_filters.ChoiceFilter(choices=BlockKind.choices)

    class Meta:
        model = TimeBlock
        fields = ["user", "kind"]
