"""The demo organization: a 24-client MSP in Chicago, its founder and service manager.

Idempotent: a second run keeps the organization and its data and only resets the logins'
passwords. Each app adds its demo data through its ``MspApp.seed_demo`` hook (``msp_ops.plugins``),
called on every run with ``created`` saying whether the organization is new.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from msp_ops import plugins
from msp_ops.orgs.models import Organization, Role
from msp_ops.orgs.services import add_member, create_organization

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo-msp-2025"
DEMO_MEMBERS = [("founder", Role.FOUNDER), ("manager", Role.SERVICE_MANAGER), ("tech", Role.TECHNICIAN)]


@dataclass
class SeedResult:
    org: Organization
    created: bool
    logins: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        head = (
            f"Created demo organization '{self.org.slug}' ({self.org.name})."
            if self.created
            else f"Demo organization '{self.org.slug}' already exists; logins refreshed."
        )
        return "\n".join([head, *self.notes])


@transaction.atomic
def seed_demo() -> SeedResult:
    org = Organization.objects.filter(slug=DEMO_SLUG).first()
    created = org is None
    if created:
        org = create_organization(
            slug=DEMO_SLUG, name="Northwind Managed IT", timezone_name="America/Chicago", managed_clients=24
        )
    logins = []
    for username, role in DEMO_MEMBERS:
        add_member(org=org, username=username, role=role, password=DEMO_PASSWORD)
        logins.append((username, Role(role).label))
    result = SeedResult(org=org, created=created, logins=logins)
    result.notes += plugins.seed_demo(org, created=created)
    return result
