"""Tickets, the SLA policy, KPI targets, the weekly KPI rows and Level-10 to-dos (SPEC 1-3)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from msp_ops.orgs.scoping import OrgScopedModel, leading_organization

UNASSIGNED = "Unassigned"  # a ticket without a team (SPEC 1)
UNCATEGORIZED = "Uncategorized"  # a ticket without a category (SPEC 1)
POSITIVE = [MinValueValidator(Decimal("0.01"))]
NOT_NEGATIVE = [MinValueValidator(Decimal("0"))]


class Severity(models.TextChoices):
    P1 = "p1", "P1"
    P2 = "p2", "P2"
    P3 = "p3", "P3"
    P4 = "p4", "P4"


class Ticket(OrgScopedModel):
    """A ticket pushed by a PSA (or imported); pushes upsert on ``external_id``."""

    organization = leading_organization()
    external_id = models.CharField(max_length=200)
    title = models.CharField(max_length=500)
    client = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=100, blank=True)  # a ticket category (free text)
    severity = models.CharField(max_length=2, choices=Severity.choices)
    team = models.CharField(max_length=100, blank=True)  # empty: Unassigned
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["opened_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"], name="ticket_external_id_per_org"
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="ticket_closed_after_opened",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "opened_at"]),
            models.Index(fields=["organization", "closed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.title}"

    @property
    def team_name(self) -> str:
        return self.team or UNASSIGNED


class SlaPolicy(models.Model):
    """Resolution targets in calendar hours per severity (SPEC 1; defaults 4, 8, 24, 72)."""

    organization = models.OneToOneField("orgs.Organization", models.CASCADE, related_name="+")
    p1 = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("4"), validators=POSITIVE)
    p2 = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("8"), validators=POSITIVE)
    p3 = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("24"), validators=POSITIVE)
    p4 = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("72"), validators=POSITIVE)

    class Meta:
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(p1__gt=0, p2__gt=0, p3__gt=0, p4__gt=0), name="sla_targets_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"SLA policy of {self.organization_id}"

    def target_hours(self, severity: str) -> Decimal:
        return getattr(self, severity)


AMBER_ABOVE_GREEN = "Must be at most delegated_hours_green."


TARGET_FIELDS = (
    "delegated_hours_green",
    "delegated_hours_amber",
    "managed_clients_threshold",
    "interruptions_4wk_green_max",
    "aged_backlog_team_max",
)


def _json_value(field: models.Field, value: Any) -> str | int:
    """A decimal with the field's places ("10.00" whether read or SPEC's default ``10``)."""
    return f"{Decimal(value):.{field.decimal_places}f}" if isinstance(field, models.DecimalField) else value


class KpiTargets(models.Model):
    """The per-organization targets behind the status colours (SPEC 2, with its defaults)."""

    organization = models.OneToOneField("orgs.Organization", models.CASCADE, related_name="+")
    delegated_hours_green = models.DecimalField(
        max_digits=7, decimal_places=2, default=Decimal("10"), validators=NOT_NEGATIVE
    )
    delegated_hours_amber = models.DecimalField(
        max_digits=7, decimal_places=2, default=Decimal("5"), validators=NOT_NEGATIVE
    )
    managed_clients_threshold = models.PositiveIntegerField(default=20)
    interruptions_4wk_green_max = models.DecimalField(
        max_digits=7, decimal_places=2, default=Decimal("2"), validators=NOT_NEGATIVE
    )
    aged_backlog_team_max = models.PositiveIntegerField(default=3)

    class Meta:
        verbose_name_plural = "KPI targets"

    def __str__(self) -> str:
        return f"KPI targets of {self.organization_id}"

    def applied(self) -> dict[str, str | int]:
        """The targets as a weekly row keeps the ones its statuses were computed from
        (``WeeklyKpi.targets``): decimals as text, as the other hours of the row."""
        return {name: _json_value(self._meta.get_field(name), getattr(self, name)) for name in TARGET_FIELDS}

    @classmethod
    def from_applied(cls, applied: Mapping[str, Any], *, organization_id: int) -> KpiTargets:
        """The targets a row kept (``applied``), unsaved; a target it lacks is SPEC's default."""
        fields = [cls._meta.get_field(name) for name in TARGET_FIELDS if name in applied]
        return cls(organization_id=organization_id, **{f.name: f.to_python(applied[f.name]) for f in fields})

    def clean(self) -> None:
        # The one rule across the targets, checked on the row as stored, under its lock
        # (``services.update_settings``): the API answers it; the settings form says it first.
        if self.delegated_hours_amber > self.delegated_hours_green:
            raise ValidationError({"delegated_hours_amber": AMBER_ABOVE_GREEN})


class WeeklyKpi(OrgScopedModel):
    """One organization's figures for one week (SPEC 2), written by the rollup only (SPEC 3)."""

    organization = leading_organization()
    week = models.DateField()  # the Monday
    final = models.BooleanField(default=False)  # the rollup ran after the week's end
    computed_at = models.DateTimeField()
    delegated_hours = models.DecimalField(max_digits=9, decimal_places=2)
    personal_hours = models.DecimalField(max_digits=9, decimal_places=2)
    logged_hours = models.DecimalField(max_digits=9, decimal_places=2)
    hours_by_tag = models.JSONField(default=dict)  # tag -> hours (strings with 2 places)
    owner_interruptions = models.PositiveIntegerField()
    owner_interruptions_4wk_avg = models.DecimalField(max_digits=9, decimal_places=2)
    aged_backlog = models.PositiveIntegerField()
    aged_backlog_by_team = models.JSONField(default=dict)  # team -> count
    level10_review = models.BooleanField(default=False)
    level10_categories = models.JSONField(default=dict)  # team -> up to 3 categories
    managed_clients = models.PositiveIntegerField()
    status = models.JSONField(default=dict)  # KPI -> green | amber | red
    # For the dashboard (not in the API row): the mean delegated hours of the 4 weeks before, as
    # the rollup compared the week's with it (unrounded: hundredths over 4); null on a row rolled
    # up before it was kept.
    delegated_hours_previous_mean = models.DecimalField(max_digits=11, decimal_places=4, null=True)
    # For the Level-10 agenda (not in the API row): the week's interruptions about tickets by
    # ticket category and by channel, so the dashboard reads rolled-up rows only.
    interruptions_by_category = models.JSONField(default=dict)
    interruptions_by_channel = models.JSONField(default=dict)
    # For the dashboard (not in the API row): the KPI targets the statuses were computed from
    # (``KpiTargets.applied``), so a week shows the lines it was judged by after the targets
    # change; empty on a row rolled up before they were kept (the dashboard then shows today's).
    targets = models.JSONField(default=dict)

    class Meta:
        ordering = ["week"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "week"], name="one_kpi_row_per_org_week"),
        ]

    def __str__(self) -> str:
        return f"KPIs of the week of {self.week}"


class RollupRun(OrgScopedModel):
    """A "recompute now" of the dashboard or the API: its progress, polled by the page."""

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    # Besides the previous and the current week: the older week the dashboard showed, if any.
    week = models.DateField(null=True, blank=True)
    weeks_total = models.PositiveSmallIntegerField(default=0)
    weeks_done = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"Rollup of {self.requested_at:%Y-%m-%d %H:%M}"


class Todo(OrgScopedModel):
    """A Level-10 to-do: open ones carry over to each next week's agenda until done (SPEC 1)."""

    title = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="kpi_todos")
    ticket_category = models.CharField(max_length=100, blank=True)
    due_date = models.DateField()
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    created_week = models.DateField()  # the Monday of the week it was created in
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done=False, done_at__isnull=True) | Q(done=True, done_at__isnull=False),
                name="todo_done_at_when_done",
            ),
        ]

    def __str__(self) -> str:
        return self.title
