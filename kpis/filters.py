"""django-filter FilterSets of the KPI app, shared by pages and the API (STYLE 1)."""

from __future__ import annotations

from datetime import date, datetime

import django_filters
from django.db.models import Q

from kpis.models import UNASSIGNED, UNCATEGORIZED, Ticket, Todo
from kpis.selectors import on_agenda
from msp_ops.api.filters import AwareDateTimeFilter, BooleanFilter, WeekFilter


class TicketFilter(django_filters.FilterSet):
    """``from``/``to`` select the tickets open at some moment of [from, to): opened before ``to``
    and not closed by ``from``."""

    category = django_filters.CharFilter(
        method="filter_category",
        label=f"Ticket category (case-insensitive); `{UNCATEGORIZED}` also finds the tickets without one.",
    )
    team = django_filters.CharFilter(method="filter_team", label=f"Team name; `{UNASSIGNED}` for none.")
    open = BooleanFilter(field_name="closed_at", lookup_expr="isnull", label="Still open.")

    class Meta:
        model = Ticket
        fields = ["category", "team", "open"]

    def filter_category(self, queryset, name: str, value: str):
        # As the aged backlog groups them (SPEC 1): compared case-insensitively, none counting
        # as Uncategorized.
        matches = Q(category__iexact=value)
        if value.lower() == UNCATEGORIZED.lower():
            matches |= Q(category="")
        return queryset.filter(matches)

    def filter_team(self, queryset, name: str, value: str):
        return queryset.filter(team="" if value == UNASSIGNED else value)

    def filter_from(self, queryset, name: str, value: datetime):
        return queryset.filter(Q(closed_at__isnull=True) | Q(closed_at__gt=value))

    def filter_to(self, queryset, name: str, value: datetime):
        return queryset.filter(opened_at__lt=value)


TicketFilter.base_filters["from"] = AwareDateTimeFilter(
    method="filter_from", label="Tickets still open at or after this time (ISO 8601 with offset)."
)
TicketFilter.base_filters["to"] = AwareDateTimeFilter(
    method="filter_to", label="Tickets opened before this time (ISO 8601 with offset)."
)


class TodoFilter(django_filters.FilterSet):
    done = BooleanFilter()
    owner = django_filters.CharFilter(field_name="owner__username", label="Username of the owner.")
    week = WeekFilter(
        method="filter_week",
        label="A Monday: the to-dos of that week's agenda (created in or before it, not done before it).",
    )

    class Meta:
        model = Todo
        fields = ["done", "owner", "week"]

    def filter_week(self, queryset, name: str, value: date):
        return on_agenda(queryset, value, self.request.org.tz)
