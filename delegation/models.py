"""Delegates, delegations, runbooks, the escalation map, owner interruptions, offline drills and
the founder's time blocks (SPEC 1 "Delegation")."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from msp_ops.lib.weeks import NAIVE_TIME_MESSAGE, elapsed
from msp_ops.orgs.scoping import OrgScopedModel, OrgScopedQuerySet, leading_organization

UNCATEGORIZED = "Uncategorized"  # a ticket category left empty (SPEC 1)
DRILL_DEFAULT_LENGTH = timedelta(days=3)
RUNBOOK_STALE_AFTER = timedelta(days=90)
NOT_NEGATIVE = [MinValueValidator(Decimal("0"))]


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, validators=NOT_NEGATIVE, **kwargs)


def hours_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=7, decimal_places=2, validators=NOT_NEGATIVE, **kwargs)


# --- delegates and delegations ------------------------------------------------------------


class DelegateKind(models.TextChoices):
    TECHNICIAN = "technician", "Technician"
    CONTRACTOR = "contractor", "Contractor"
    NOC = "noc", "NOC"
    HELP_DESK = "help_desk", "Help desk"
    SERVICE_MANAGER = "service_manager", "Service manager"
    OTHER = "other", "Other"


class Delegate(OrgScopedModel):
    """Who takes work off the founder."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=DelegateKind.choices, default=DelegateKind.TECHNICIAN)
    email = models.EmailField(null=True, blank=True)  # noqa: DJ001 (SPEC: email or null)
    hourly_cost = money_field(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hourly_cost__isnull=True) | Q(hourly_cost__gte=0),
                name="delegate_cost_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DelegationStatus(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    PLANNED = "planned", "Planned"
    HANDED_OFF = "handed_off", "Handed off"
    DONE = "done", "Done"
    REVERTED = "reverted", "Reverted"


# SPEC 1: the status changes allowed; any other is refused and changes nothing.
ALLOWED_MOVES: dict[str, frozenset[str]] = {
    DelegationStatus.CANDIDATE: frozenset({DelegationStatus.PLANNED, DelegationStatus.HANDED_OFF}),
    DelegationStatus.PLANNED: frozenset({DelegationStatus.CANDIDATE, DelegationStatus.HANDED_OFF}),
    DelegationStatus.HANDED_OFF: frozenset({DelegationStatus.DONE, DelegationStatus.REVERTED}),
    DelegationStatus.DONE: frozenset({DelegationStatus.REVERTED}),
    DelegationStatus.REVERTED: frozenset({DelegationStatus.PLANNED}),
}


class Delegation(OrgScopedModel):
    """A "delegation win": a category of the founder's work handed to a delegate."""

    title = models.CharField(max_length=200)
    # RESTRICT, not PROTECT: an organization deleted takes its categories and delegations along.
    category = models.ForeignKey("audits.Category", models.RESTRICT, related_name="delegations")
    delegate = models.ForeignKey(Delegate, models.RESTRICT, null=True, blank=True, related_name="delegations")
    status = models.CharField(
        max_length=20, choices=DelegationStatus.choices, default=DelegationStatus.CANDIDATE
    )
    # [{"text": "...", "done": false}, ...]
    definition_of_done = models.JSONField(default=list, blank=True)
    decision_boundary = models.TextField(blank=True)
    approval_limit_amount = money_field(null=True, blank=True)
    approval_limit_hours = hours_field(null=True, blank=True)
    escalation_triggers = models.TextField(blank=True)
    expected_hours_per_week = hours_field(default=Decimal("0"))
    handoff_date = models.DateField(null=True, blank=True)
    review_date = models.DateField(null=True, blank=True)
    done_override_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expected_hours_per_week__gte=0), name="delegation_expected_hours_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(status=DelegationStatus.HANDED_OFF) | Q(delegate__isnull=False),
                name="handed_off_delegation_has_delegate",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def checklist_done(self) -> int:
        return sum(1 for item in self.definition_of_done if item.get("done"))


# --- runbooks and the escalation map ------------------------------------------------------


class EscalationLevel(models.TextChoices):
    L1 = "L1", "L1"
    L2 = "L2", "L2"
    OWNER_ONLY = "owner_only", "Owner only"


RUNBOOK_TEXT_FIELDS = [
    "title",
    "first_checks",
    "decision_points",
    "standard_fix",
    "edge_cases",
    "sign_off_rules",
    "client_message_template",
]


class RunbookQuerySet(OrgScopedQuerySet):
    def for_category(self, ticket_category: str):
        return self.filter(ticket_category__iexact=ticket_category.strip())


class Runbook(OrgScopedModel):
    """One per ticket category (compared case-insensitively), updated after real incidents."""

    ticket_category = models.CharField(max_length=100)
    title = models.CharField(max_length=200, blank=True)
    first_checks = models.TextField(blank=True)
    decision_points = models.TextField(blank=True)
    standard_fix = models.TextField(blank=True)
    edge_cases = models.TextField(blank=True)
    sign_off_rules = models.TextField(blank=True)
    client_message_template = models.TextField(blank=True)
    escalation_level = models.CharField(
        max_length=20, choices=EscalationLevel.choices, default=EscalationLevel.L1
    )
    last_reviewed = models.DateField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = RunbookQuerySet.as_manager()

    class Meta:
        ordering = ["ticket_category", "id"]
        constraints = [
            models.UniqueConstraint(
                F("organization"), Lower("ticket_category"), name="one_runbook_per_ticket_category"
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.ticket_category


class RunbookRevision(models.Model):
    """A runbook as it was before a change: its text, who wrote that version and when."""

    runbook = models.ForeignKey(Runbook, models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField()
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ticket_category = models.CharField(max_length=100)
    title = models.CharField(max_length=200, blank=True)
    first_checks = models.TextField(blank=True)
    decision_points = models.TextField(blank=True)
    standard_fix = models.TextField(blank=True)
    edge_cases = models.TextField(blank=True)
    sign_off_rules = models.TextField(blank=True)
    client_message_template = models.TextField(blank=True)
    escalation_level = models.CharField(max_length=20, choices=EscalationLevel.choices)
    last_reviewed = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-revision"]
        constraints = [
            models.UniqueConstraint(fields=["runbook", "revision"], name="one_runbook_revision_number"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_category} revision {self.revision}"


class EscalationStep(OrgScopedModel):
    """One level of the escalation map: its criteria and the limit under which no escalation
    is needed. Every organization has the three, created with it."""

    level = models.CharField(max_length=20, choices=EscalationLevel.choices)
    criteria = models.TextField(blank=True)
    approval_limit_amount = money_field(null=True, blank=True)
    approval_limit_hours = hours_field(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "level"], name="one_escalation_step_per_level"),
        ]

    def __str__(self) -> str:
        return self.get_level_display()


# --- owner interruptions and drills -------------------------------------------------------


class Channel(models.TextChoices):
    CALL = "call", "Call"
    TEXT = "text", "Text"
    CHAT = "chat", "Chat"
    EMAIL = "email", "Email"
    IN_PERSON = "in_person", "In person"
    ESCALATION = "escalation", "Emergency escalation"


class FollowUp(models.TextChoices):
    NONE = "none", "None yet"
    RUNBOOK_UPDATED = "runbook_updated", "Runbook updated"
    RULE_TIGHTENED = "rule_tightened", "Rule tightened"


class Interruption(OrgScopedModel):
    """Each time the owner is contacted directly for a decision or an action."""

    organization = leading_organization()
    occurred_at = models.DateTimeField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    about_ticket = models.BooleanField(default=True)
    ticket_ref = models.CharField(max_length=100, blank=True)
    client = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=100, blank=True)  # a ticket category (free text)
    requested_by = models.CharField(max_length=200, blank=True)
    owner_level = models.BooleanField(null=True, blank=True)
    follow_up = models.CharField(max_length=20, choices=FollowUp.choices, default=FollowUp.NONE)
    runbook = models.ForeignKey(Runbook, models.SET_NULL, null=True, blank=True, related_name="interruptions")
    notes = models.TextField(blank=True, max_length=10_000)
    # NULL when absent: NULLs never collide, so ON CONFLICT (organization, external_id) works.
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    # The member who logged it: a technician reads and writes only the ones it logged.
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"], name="interruption_external_id_per_org"
            ),
            models.CheckConstraint(
                condition=Q(runbook__isnull=True) | Q(follow_up=FollowUp.RUNBOOK_UPDATED),
                name="interruption_runbook_only_when_updated",
            ),
        ]
        indexes = [models.Index(fields=["organization", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        # A naive time names no instant (the drill and out-of-window flags read it in UTC).
        if isinstance(self.occurred_at, datetime) and timezone.is_naive(self.occurred_at):
            raise ValidationError({"occurred_at": NAIVE_TIME_MESSAGE})

    @property
    def needs_follow_up(self) -> bool:
        """SPEC 1: a drill's review is complete when each has a follow-up or is owner-level."""
        return self.follow_up == FollowUp.NONE and not self.owner_level


class DrillStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    RUNNING = "running", "Running"
    IN_REVIEW = "in_review", "In review"
    COMPLETE = "complete", "Complete"


class Drill(OrgScopedModel):
    """An owner offline drill: a window in which the owner answers only true emergencies."""

    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    notes = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="drill_ends_after_start"),
            # No two drills of one organization overlap: an exclusion constraint on PostgreSQL
            # (migration 0002), the service's check everywhere.
        ]

    def __str__(self) -> str:
        return f"Drill from {self.starts_at:%Y-%m-%d}"

    def clean(self) -> None:
        """The check constraint in Python (``save_batch`` validates no constraint itself): a
        refusal, not an IntegrityError at the write."""
        errors = {}
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            if isinstance(value, datetime) and timezone.is_naive(value):
                errors[name] = NAIVE_TIME_MESSAGE
        both = not errors and isinstance(self.starts_at, datetime) and isinstance(self.ends_at, datetime)
        if both and elapsed(self.starts_at, self.ends_at) <= timedelta(0):
            errors["ends_at"] = "A drill must end after it starts."
        if errors:
            raise ValidationError(errors)

    def status_at(self, now: datetime) -> DrillStatus:
        if self.completed_at is not None:
            return DrillStatus.COMPLETE
        if now < self.starts_at:
            return DrillStatus.SCHEDULED
        if now < self.ends_at:
            return DrillStatus.RUNNING
        return DrillStatus.IN_REVIEW


# --- the founder's weekly plan ------------------------------------------------------------


class BlockKind(models.TextChoices):
    SALES_RETENTION = "sales_retention", "Sales and retention"
    SERVICE_DELIVERY = "service_delivery", "Service delivery"
    OWNER_ESCALATIONS = "owner_escalations", "Owner escalations"
    TEAM = "team", "Team"
    OTHER = "other", "Other"


class Weekday(models.IntegerChoices):
    MONDAY = 1, "Monday"
    TUESDAY = 2, "Tuesday"
    WEDNESDAY = 3, "Wednesday"
    THURSDAY = 4, "Thursday"
    FRIDAY = 5, "Friday"
    SATURDAY = 6, "Saturday"
    SUNDAY = 7, "Sunday"


class TimeBlock(OrgScopedModel):
    """A block of the weekly plan, in local time of the organization."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="time_blocks")
    kind = models.CharField(max_length=20, choices=BlockKind.choices)
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["weekday", "start_time", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="block_ends_after_start"),
            models.CheckConstraint(condition=Q(weekday__gte=1, weekday__lte=7), name="block_weekday_1_to_7"),
            # Blocks of one member on one weekday never overlap: an exclusion constraint on
            # PostgreSQL (migration 0002), the service's check everywhere.
        ]

    def __str__(self) -> str:
        span = f"{self.start_time:%H:%M}-{self.end_time:%H:%M}"
        return f"{self.get_kind_display()} {self.get_weekday_display()} {span}"

    def clean(self) -> None:
        """The check constraint in Python (``save_batch`` validates no constraint itself)."""
        if self.start_time is not None and self.end_time is not None and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "A block must end after it starts."})
