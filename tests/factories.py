"""factory_boy factories; related rows always stay inside the entry's organization."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from audits.models import TAG_FIELDS, Category, TimeAudit, TimeEntry
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
from kpis.models import RollupRun, Severity, Ticket, Todo, WeeklyKpi
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


# --- kpis: tickets, to-dos, weekly rows, recompute runs ---------------------------------------


class TicketFactory(factory.django.DjangoModelFactory):
    """An open P3 VPN ticket of team "Tier 1", opened an hour after the previous one."""

    class Meta:
        model = Ticket

    organization = factory.SubFactory(OrganizationFactory)
    external_id = factory.Sequence(lambda n: f"T-{1000 + n}")
    title = factory.Sequence(lambda n: f"VPN drops at the front desk #{n}")
    client = "Acme Dental"
    category = "VPN"
    severity = Severity.P3
    team = "Tier 1"
    opened_at = factory.Sequence(lambda n: datetime(2025, 3, 3, 15, tzinfo=UTC) + timedelta(hours=n))
    closed_at = None


class TodoFactory(factory.django.DjangoModelFactory):
    """An open Level-10 to-do of the week of 3 March 2025, owned by a founder of the same org."""

    class Meta:
        model = Todo

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Find why VPN tickets age #{n}")
    owner = factory.LazyAttribute(lambda o: _founder_of(o.organization))
    ticket_category = "VPN"
    created_week = date(2025, 3, 3)
    due_date = factory.LazyAttribute(lambda o: o.created_week + timedelta(days=7))
    done = False
    done_at = factory.LazyAttribute(lambda o: timezone.now() if o.done else None)


class WeeklyKpiFactory(factory.django.DjangoModelFactory):
    """A final, all-green, all-zero weekly row, computed at 02:00 UTC the Monday after its week;
    weeks follow each other from 6 January 2025. Tests set the figures they show."""

    class Meta:
        model = WeeklyKpi

    organization = factory.SubFactory(OrganizationFactory)
    week = factory.Sequence(lambda n: date(2025, 1, 6) + timedelta(weeks=n))
    final = True
    computed_at = factory.LazyAttribute(
        lambda o: datetime.combine(o.week + timedelta(days=7), time(2), tzinfo=UTC)
    )
    delegated_hours = Decimal("0.00")
    personal_hours = Decimal("0.00")
    logged_hours = Decimal("0.00")
    hours_by_tag = factory.LazyFunction(lambda: dict.fromkeys(TAG_FIELDS, "0.00"))
    owner_interruptions = 0
    owner_interruptions_4wk_avg = Decimal("0.00")
    aged_backlog = 0
    aged_backlog_by_team = factory.LazyFunction(dict)
    level10_review = False
    level10_categories = factory.LazyFunction(dict)
    managed_clients = factory.LazyAttribute(lambda o: o.organization.managed_clients)
    status = factory.LazyFunction(
        lambda: {"delegated_hours": "green", "owner_interruptions": "green", "aged_backlog": "green"}
    )


class RollupRunFactory(factory.django.DjangoModelFactory):
    """A finished "recompute now" of two weeks, requested by a founder of the same org."""

    class Meta:
        model = RollupRun

    organization = factory.SubFactory(OrganizationFactory)
    requested_by = factory.LazyAttribute(lambda o: _founder_of(o.organization))
    weeks_total = 2
    weeks_done = 2
    finished_at = factory.LazyFunction(timezone.now)
