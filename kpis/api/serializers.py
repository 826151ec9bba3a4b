"""Shapes of the KPI endpoints (SPEC 4), field for field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from kpis.models import Severity, Ticket, Todo
from msp_ops.api.serializers import (
    AwareDateTimeField,
    BoundedDateField,
    JsonNumberField,
    StrictBooleanField,
    StrictSerializer,
    members_by_username,
    resolve_member,
)
from msp_ops.lib import weeks


class TicketSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    external_id = serializers.CharField(
        max_length=200, help_text="Required; unique per organization: pushing it again updates the ticket."
    )
    title = serializers.CharField(max_length=500)
    client = serializers.CharField(required=False, allow_blank=True, max_length=200)
    category = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Ticket category; empty: Uncategorized."
    )
    severity = serializers.ChoiceField(choices=Severity.choices)
    team = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Technician team; empty: Unassigned."
    )
    opened_at = AwareDateTimeField()
    closed_at = AwareDateTimeField(required=False, allow_null=True, help_text="null while open.")

    def to_object(self, data: dict[str, Any], instance: Ticket | None = None) -> Ticket:
        instance = instance if instance is not None else Ticket(organization=self.context["org"])
        for name, value in data.items():
            setattr(instance, name, value)
        return instance

    def to_representation(self, ticket: Ticket) -> dict[str, Any]:
        tz = self.context["tz"]
        return {
            "id": ticket.pk,
            "external_id": ticket.external_id,
            "title": ticket.title,
            "client": ticket.client,
            "category": ticket.category,
            "severity": ticket.severity,
            "team": ticket.team,
            "opened_at": weeks.to_local(ticket.opened_at, tz).isoformat(),
            "closed_at": weeks.to_local(ticket.closed_at, tz).isoformat() if ticket.closed_at else None,
        }


class SlaPolicySerializer(StrictSerializer):
    p1 = JsonNumberField(
        max_digits=7, min_value=Decimal("0.01"), help_text="Resolution target in hours (> 0)."
    )
    p2 = JsonNumberField(max_digits=7, min_value=Decimal("0.01"))
    p3 = JsonNumberField(max_digits=7, min_value=Decimal("0.01"))
    p4 = JsonNumberField(max_digits=7, min_value=Decimal("0.01"))


class KpiTargetsSerializer(StrictSerializer):
    delegated_hours_green = JsonNumberField(max_digits=7)
    delegated_hours_amber = JsonNumberField(max_digits=7)
    managed_clients_threshold = serializers.IntegerField(min_value=0, max_value=1_000_000)
    interruptions_4wk_green_max = JsonNumberField(max_digits=7)
    aged_backlog_team_max = serializers.IntegerField(min_value=0, max_value=1_000_000)


class _HoursByTag(serializers.Serializer):
    repetitive = serializers.FloatField()
    outsourceable = serializers.FloatField()
    systemizable = serializers.FloatField()
    owner_by_habit = serializers.FloatField()


class _Status(serializers.Serializer):
    delegated_hours = serializers.CharField(help_text="`green`, `amber` or `red`.")
    owner_interruptions = serializers.CharField(help_text="`green` or `red`.")
    aged_backlog = serializers.CharField(help_text="`green` or `red`.")


class WeeklyKpiSerializer(serializers.Serializer):
    """Schema only: the body comes from ``kpis.selectors.weekly_row``."""

    week = serializers.DateField(help_text="The week's Monday.")
    final = serializers.BooleanField(help_text="The rollup ran after the week ended.")
    computed_at = serializers.DateTimeField()
    delegated_hours = serializers.FloatField()
    personal_hours = serializers.FloatField()
    logged_hours = serializers.FloatField()
    hours_by_tag = _HoursByTag()
    owner_interruptions = serializers.IntegerField()
    owner_interruptions_4wk_avg = serializers.FloatField()
    aged_backlog = serializers.IntegerField()
    aged_backlog_by_team = serializers.DictField(child=serializers.IntegerField())
    level10_review = serializers.BooleanField()
    level10_categories = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    managed_clients = serializers.IntegerField()
    status = _Status()


class TodoSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(max_length=200)
    owner = serializers.CharField(max_length=150, help_text="Username of a member.")
    ticket_category = serializers.CharField(required=False, allow_blank=True, max_length=100)
    due_date = BoundedDateField(required=False, help_text="Default: 7 days after the day it is created.")
    done = StrictBooleanField(required=False, help_text="Default false.")
    created_week = serializers.DateField(read_only=True, help_text="Monday of the week it was created in.")
    done_at = serializers.DateTimeField(read_only=True, allow_null=True)

    @classmethod
    def batch_context(cls, items: list[Any], request) -> dict[str, Any]:
        return {"members": members_by_username(request, items, field="owner")}

    def validate_owner(self, value: str):
        return resolve_member(self.context, value)

    def to_object(self, data: dict[str, Any], instance: Todo | None = None) -> Todo:
        instance = instance if instance is not None else Todo(organization=self.context["org"])
        for name, value in data.items():
            setattr(instance, name, value)
        return instance

    def to_representation(self, todo: Todo) -> dict[str, Any]:
        return {
            "id": todo.pk,
            "title": todo.title,
            "owner": todo.owner.get_username(),
            "ticket_category": todo.ticket_category,
            "due_date": todo.due_date.isoformat(),
            "done": todo.done,
            "created_week": todo.created_week.isoformat(),
            "done_at": weeks.to_local(todo.done_at, self.context["tz"]).isoformat() if todo.done_at else None,
        }


class StandupTicketSerializer(TicketSerializer):
    age_hours = serializers.FloatField(read_only=True)
    target_hours = serializers.FloatField(read_only=True)


class StandupTeamSerializer(serializers.Serializer):
    team = serializers.CharField()
    breached = StandupTicketSerializer(many=True)
    due_within_24h = StandupTicketSerializer(many=True)
