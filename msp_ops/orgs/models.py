"""Organizations (one MSP each), their members and roles, and API tokens (SPEC 1, 4)."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone '{value}'; use an IANA name such as America/Chicago.")


class Organization(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    managed_clients = models.PositiveIntegerField(default=0)
    # KPI targets (SPEC 2, "Targets and status"): per organization, editable.
    delegated_green_hours = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("10"), validators=[MinValueValidator(0)]
    )
    delegated_amber_hours = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("5"), validators=[MinValueValidator(0)]
    )
    delegated_fixed_target_min_clients = models.PositiveIntegerField(
        default=20, help_text="From this many managed clients on, delegated hours use fixed targets."
    )
    interruptions_green_max_avg = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("2"), validators=[MinValueValidator(0)]
    )
    aged_backlog_team_max = models.PositiveIntegerField(
        default=3, help_text="A team above this many aged tickets is red and triggers a Level-10 review."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A new number from a sequence, set by PostgreSQL itself on every insert, update or delete of
    # one of the organization's categories (a trigger, audits migration 0006): an API worker
    # trusts the categories it kept from an earlier request while the number read with the
    # token is the one it kept them at (audits.selectors.current_categories). Not used on SQLite.
    categories_version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Role(models.TextChoices):
    FOUNDER = "founder", "Founder"
    SERVICE_MANAGER = "service_manager", "Service manager"
    TECHNICIAN = "technician", "Technician"
    VIEWER = "viewer", "Viewer"


class MembershipQuerySet(models.QuerySet):
    def for_org(self, org: Organization) -> MembershipQuerySet:
        return self.filter(organization=org)


class Membership(models.Model):
    organization = models.ForeignKey(Organization, models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_org"),
        ]
        ordering = ["organization__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


def hash_token_key(key: str) -> str:
    """Keys are random 256-bit strings, so one SHA-256 pass is enough (no stretching needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A key for one member of one organization; only its SHA-256 is stored (SPEC 4)."""

    PREFIX = "msp_"

    membership = models.ForeignKey(Membership, models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="API token")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the key, to tell tokens apart in lists; not enough to guess it.
    key_prefix = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def generate_key(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
