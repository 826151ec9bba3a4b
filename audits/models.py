"""Time entries, their categories and 7-day time audits (SPEC 1, "Time entries", "Time audit")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from msp_ops.lib.weeks import NAIVE_TIME_MESSAGE, elapsed, hours_between
from msp_ops.orgs.scoping import OrgScopedModel, OrgScopedQuerySet, leading_organization

MAX_ENTRY_DURATION = timedelta(hours=24)
MAX_ACTIVITY_LENGTH = 500
ENDS_BEFORE_START = "The entry must end after it starts."
TOO_LONG = "An entry lasts at most 24 hours."


class Tag(models.TextChoices):
    """The four tags of a time audit, in the order the API answers them (SPEC 4)."""

    REPETITIVE = "repetitive", "Repetitive"
    OUTSOURCEABLE = "outsourceable", "Outsourceable"
    SYSTEMIZABLE = "systemizable", "Systemizable"
    OWNER_BY_HABIT = "owner_by_habit", "Owner by habit"


# Each tag is a boolean column, so hours per tag are plain SQL sums on every database.
TAG_FIELDS: dict[str, str] = {tag.value: f"tag_{tag.value}" for tag in Tag}


class Handling(models.TextChoices):
    PERSONAL = "personal", "Personal (I did the work)"
    DELEGATED = "delegated", "Delegated (I assigned, planned or reviewed)"


class Source(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    IMPORT = "import", "Import"
    TIMER = "timer", "Timer"


class CategoryKind(models.TextChoices):
    IN_BUSINESS = "in_business", "In the business"
    ON_BUSINESS = "on_business", "On the business"
    NEITHER = "neither", "Neither"


# SPEC 1 default categories: (slug, name, kind), in the order a founder sees them.
DEFAULT_CATEGORIES: list[tuple[str, str, str]] = [
    ("escalations", "Escalations", CategoryKind.IN_BUSINESS),
    ("tickets", "Tickets", CategoryKind.IN_BUSINESS),
    ("onboarding", "Onboarding", CategoryKind.IN_BUSINESS),
    ("approvals", "Approvals", CategoryKind.IN_BUSINESS),
    ("backlog", "Backlog", CategoryKind.IN_BUSINESS),
    ("vendor-calls", "Vendor calls", CategoryKind.IN_BUSINESS),
    ("sales", "Sales", CategoryKind.ON_BUSINESS),
    ("client-retention", "Client retention", CategoryKind.ON_BUSINESS),
    ("service-delivery", "Service delivery (leadership)", CategoryKind.ON_BUSINESS),
    ("team", "Team (hiring, coaching)", CategoryKind.ON_BUSINESS),
    ("billing-admin", "Billing and admin", CategoryKind.IN_BUSINESS),
    ("documentation", "Documentation", CategoryKind.IN_BUSINESS),
    ("projects", "Projects", CategoryKind.IN_BUSINESS),
    ("other", "Other", CategoryKind.NEITHER),
]
DEFAULT_CATEGORY_SLUG = "other"


class CategoryQuerySet(OrgScopedQuerySet):
    def active(self) -> Self:
        return self.filter(archived=False)


class Category(OrgScopedModel):
    slug = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=CategoryKind.choices, default=CategoryKind.NEITHER)
    archived = models.BooleanField(default=False, help_text="Archived categories stay on old entries.")
    position = models.PositiveIntegerField(default=0)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="category_slug_per_org"),
        ]

    def __str__(self) -> str:
        return self.name


def duration_inside(start: datetime, end: datetime, condition: Q | None = None) -> Sum:
    """Sum of each entry's part inside [start, end); use on entries ``overlapping(start, end)``.

    ``condition`` restricts the sum to some of those entries (SQL ``FILTER (WHERE ...)``).
    """
    part = Least(F("ended_at"), Value(end, output_field=DateTimeField())) - Greatest(
        F("started_at"), Value(start, output_field=DateTimeField())
    )
    return Sum(ExpressionWrapper(part, output_field=DurationField()), filter=condition)


class TimeEntryQuerySet(OrgScopedQuerySet):
    def overlapping(self, start: datetime, end: datetime) -> Self:
        """Entries sharing some time with [start, end); touching ones do not.

        No entry lasts over 24 h (a database constraint), so it starts at most 24 h before
        ``start``: that bound keeps the (organization, user, started_at) index scan to the
        window instead of every earlier entry of the member.
        """
        return self.filter(started_at__gte=start - MAX_ENTRY_DURATION, started_at__lt=end, ended_at__gt=start)


def any_tag() -> Q:
    """Entries with at least one of the four tags (the "reclaimable" ones, SPEC 1)."""
    q = Q()
    for field in TAG_FIELDS.values():
        q |= Q(**{field: True})
    return q


class TimeEntry(OrgScopedModel):
    organization = leading_organization()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="time_entries")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    activity = models.CharField(max_length=MAX_ACTIVITY_LENGTH)
    category = models.ForeignKey(Category, models.PROTECT, related_name="entries")
    tag_repetitive = models.BooleanField(default=False)
    tag_outsourceable = models.BooleanField(default=False)
    tag_systemizable = models.BooleanField(default=False)
    tag_owner_by_habit = models.BooleanField(default=False)
    handling = models.CharField(max_length=10, choices=Handling.choices, default=Handling.PERSONAL)
    urgent = models.BooleanField(null=True, blank=True)
    important = models.BooleanField(null=True, blank=True)
    client = models.CharField(max_length=200, blank=True)
    ticket_ref = models.CharField(max_length=100, blank=True)
    # A TextField's max_length binds only forms; the validator makes full_clean() enforce it.
    notes = models.TextField(blank=True, max_length=10_000, validators=[MaxLengthValidator(10_000)])
    # NULL when absent: NULLs never collide, so ON CONFLICT (organization, external_id) works.
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TimeEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "time entries"
        ordering = ["started_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ended_at__gt=F("started_at")), name="entry_ends_after_start"),
            models.CheckConstraint(
                condition=Q(ended_at__lte=F("started_at") + MAX_ENTRY_DURATION),
                name="entry_at_most_24h",
            ),
            models.UniqueConstraint(fields=["organization", "external_id"], name="entry_external_id_per_org"),
            # The no-overlap rule also lives in PostgreSQL as an exclusion constraint
            # (migration 0002), so it holds under concurrent requests.
        ]
        indexes = [
            # A member's entries in time order; with the columns the weekly founder hours sum
            # (audits.selectors.founder_hours_by_week), which PostgreSQL then reads from the index
            # alone: about 30 pages for a founder's year, not the 340 of the table they lie on.
            models.Index(
                fields=["organization", "user", "started_at"],
                include=["ended_at", "handling", *TAG_FIELDS.values()],
                name="entry_member_started",
            ),
            models.Index(fields=["organization", "started_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.activity}"

    @property
    def tags(self) -> list[str]:
        return [tag for tag, field in TAG_FIELDS.items() if getattr(self, field)]

    @tags.setter
    def tags(self, values: Iterable[str]) -> None:
        chosen = set(values)
        if unknown := chosen - TAG_FIELDS.keys():
            raise ValidationError({"tags": f"Unknown tag(s): {', '.join(sorted(unknown))}."})
        for tag, field in TAG_FIELDS.items():
            setattr(self, field, tag in chosen)

    @property
    def duration_hours(self) -> Decimal:
        return hours_between(self.started_at, self.ended_at)

    def clean(self) -> None:
        """SPEC 1 rules of one entry that need Python: aware times, order and length, activity."""
        errors: dict[str, str] = {}
        times_ok = True
        for name in ("started_at", "ended_at"):
            value = getattr(self, name)
            if not isinstance(value, datetime):
                times_ok = False
            elif timezone.is_naive(value):
                times_ok = False
                errors[name] = NAIVE_TIME_MESSAGE
        if times_ok:
            # Through UTC: same-zone datetimes subtract as wall-clock time (25 h look like 24).
            length = elapsed(self.started_at, self.ended_at)
            if length <= timedelta(0):
                errors["ended_at"] = ENDS_BEFORE_START
            elif length > MAX_ENTRY_DURATION:
                errors["ended_at"] = TOO_LONG
        if self.activity and not self.activity.strip():
            errors["activity"] = f"Say what you did (1 to {MAX_ACTIVITY_LENGTH} characters)."
        if errors:
            raise ValidationError(errors)


# A time entry's fields as clients name them (SPEC 4), in the API's order; the API, the CSV
# layout and the entry form read them from here, and their values from ``entry_values``.
ENTRY_FIELDS: tuple[str, ...] = (
    "id",
    "user",
    "started_at",
    "ended_at",
    "activity",
    "category",
    "tags",
    "handling",
    "urgent",
    "important",
    "client",
    "ticket_ref",
    "notes",
    "external_id",
    "source",
    "duration_hours",
)


def entry_values(entry: TimeEntry, tz, fields: Iterable[str] = ENTRY_FIELDS) -> dict[str, Any]:
    """Each of ``fields`` (of ``ENTRY_FIELDS``) as clients see it: the member's username, the
    category's slug, the tag list, times in the organization's zone with their offset."""
    if fields is ENTRY_FIELDS:
        return _all_entry_values(entry, tz)
    return {name: _ENTRY_VALUE[name](entry, tz) for name in fields}


def _all_entry_values(entry: TimeEntry, tz) -> dict[str, Any]:
    """``entry_values`` of every field, written out (a batch's answer builds 500 of them)."""
    return {
        "id": entry.pk,
        "user": entry.user.get_username(),
        "started_at": entry.started_at.astimezone(tz).isoformat(),
        "ended_at": entry.ended_at.astimezone(tz).isoformat(),
        "activity": entry.activity,
        "category": entry.category.slug,
        "tags": entry.tags,
        "handling": entry.handling,
        "urgent": entry.urgent,
        "important": entry.important,
        "client": entry.client,
        "ticket_ref": entry.ticket_ref,
        "notes": entry.notes,
        "external_id": entry.external_id,
        "source": entry.source,
        "duration_hours": float(entry.duration_hours),
    }


_ENTRY_VALUE: dict[str, Any] = {
    "id": lambda entry, tz: entry.pk,
    "user": lambda entry, tz: entry.user.get_username(),
    "started_at": lambda entry, tz: entry.started_at.astimezone(tz).isoformat(),
    "ended_at": lambda entry, tz: entry.ended_at.astimezone(tz).isoformat(),
    "category": lambda entry, tz: entry.category.slug,
    "tags": lambda entry, tz: entry.tags,
    "duration_hours": lambda entry, tz: float(entry.duration_hours),
} | {
    name: (lambda entry, tz, name=name: getattr(entry, name))
    for name in ENTRY_FIELDS
    if name not in ("id", "user", "started_at", "ended_at", "category", "tags", "duration_hours")
}


class TimeAudit(OrgScopedModel):
    """A 7-day window over one member's entries; entries are not owned by it (SPEC 1)."""

    DAYS = 7

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="time_audits")
    start_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "start_date"], name="one_audit_per_member_and_start"
            ),
        ]

    def __str__(self) -> str:
        return f"Audit of {self.user} from {self.start_date}"

    @property
    def end_date(self) -> date:
        return self.start_date + timedelta(days=self.DAYS - 1)


class RunningTimer(OrgScopedModel):
    """A member's running timer, kept server-side so it survives reloads and a second tab."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    activity = models.CharField(max_length=MAX_ACTIVITY_LENGTH, blank=True)
    category = models.ForeignKey(Category, models.SET_NULL, null=True, blank=True, related_name="+")
    tags = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_timer_per_member"),
        ]
