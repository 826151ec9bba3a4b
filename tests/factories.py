"""factory_boy factories; related rows always stay inside the entry's organization."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from audits.models import Category, TimeAudit, TimeEntry
from delegation.models import (
    BlockKind,
    Channel,
    Delegate,
    DelegateKind,
    Delegation,
    DelegationStatus,
    Drill,
    Interruption,
    Runbook,
    TimeBlock,
)
from msp_ops.orgs.models import Membership, Organization, Role
from msp_ops.orgs.services import create_organization


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    slug = factory.Sequence(lambda n: f"msp-{n}")
    name = factory.Sequence(lambda n: f"MSP {n}")
    timezone = "UTC"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the service, so every org gets its default categories like in real life.
        return create_organization(
            slug=kwargs["slug"],
            name=kwargs["name"],
            timezone_name=kwargs.get("timezone", "UTC"),
            managed_clients=kwargs.get("managed_clients", 0),
        )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery staple")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.FOUNDER


class TimeEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeEntry

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.LazyAttribute(
        lambda o: MembershipFactory(organization=o.organization, role=Role.FOUNDER).user
    )
    category = factory.LazyAttribute(
        lambda o: Category.objects.get(organization=o.organization, slug="tickets")
    )
    started_at = factory.Sequence(lambda n: datetime(2025, 1, 6, 8, tzinfo=UTC) + timedelta(hours=n))
    ended_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(minutes=45))
    activity = factory.Sequence(lambda n: f"Password reset #{n}")


class TimeAuditFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeAudit

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.LazyAttribute(
        lambda o: MembershipFactory(organization=o.organization, role=Role.FOUNDER).user
    )
    start_date = factory.Faker("date_object")


# --- delegation: delegates, delegations, runbooks -------------------------------------------


class DelegateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delegate

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Delegate {n}")
    kind = DelegateKind.TECHNICIAN


class DelegationFactory(factory.django.DjangoModelFactory):
    """A candidate in the org's ``tickets`` category, with a delegate of the same org."""

    class Meta:
        model = Delegation

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Hand off password resets #{n}")
    category = factory.LazyAttribute(
        lambda o: Category.objects.get(organization=o.organization, slug="tickets")
    )
    delegate = factory.SubFactory(DelegateFactory, organization=factory.SelfAttribute("..organization"))
    status = DelegationStatus.CANDIDATE
    definition_of_done = factory.LazyFunction(lambda: [{"text": "Runbook written", "done": False}])
    expected_hours_per_week = Decimal("2.00")


class RunbookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Runbook

    organization = factory.SubFactory(OrganizationFactory)
    ticket_category = factory.Sequence(lambda n: f"Category {n}")
    title = factory.LazyAttribute(lambda o: f"{o.ticket_category} triage")
    first_checks = "Is the client's internet up?"
    updated_at = factory.LazyFunction(timezone.now)


# --- delegation: interruptions, drills, time blocks -------------------------------------------


def _founder_of(org):
    return MembershipFactory(organization=org, role=Role.FOUNDER).user


class InterruptionFactory(factory.django.DjangoModelFactory):
    """A call about a ticket, logged by a founder of the same org."""

    class Meta:
        model = Interruption

    organization = factory.SubFactory(OrganizationFactory)
    occurred_at = factory.Sequence(lambda n: datetime(2025, 3, 3, 15, tzinfo=UTC) + timedelta(minutes=7 * n))
    channel = Channel.CALL
    about_ticket = True
    ticket_ref = factory.Sequence(lambda n: f"{48000 + n}")
    client = "Acme Dental"
    category = "VPN"
    requested_by = "Tess"
    logged_by = factory.LazyAttribute(lambda o: _founder_of(o.organization))


class DrillFactory(factory.django.DjangoModelFactory):
    """Three-day drills a month apart (drills of one org never overlap)."""

    class Meta:
        model = Drill

    organization = factory.SubFactory(OrganizationFactory)
    starts_at = factory.Sequence(lambda n: datetime(2025, 1, 6, 15, tzinfo=UTC) + timedelta(days=30 * n))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(days=3))


class TimeBlockFactory(factory.django.DjangoModelFactory):
    """An owner-escalations block of a founder of the same org (a new founder each time, so
    blocks never overlap unless a test gives the member)."""

    class Meta:
        model = TimeBlock

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.LazyAttribute(lambda o: _founder_of(o.organization))
    kind = BlockKind.OWNER_ESCALATIONS
    weekday = 1
    start_time = datetime(2025, 1, 1, 13, 0).time()  # 13:00-14:00 local
    end_time = datetime(2025, 1, 1, 14, 0).time()
