"""The demo organization: a 24-client MSP in Chicago, its founder and service manager.

Idempotent: a second run keeps the organization and its data and only resets the logins'
passwords. Later capabilities add their demo data through ``DEMO_SEEDERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from msp_ops.orgs.models import Organization, Role
from msp_ops.orgs.services import add_member, create_organization

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo-msp-2025"
DEMO_MEMBERS = [("founder", Role.FOUNDER), ("manager", Role.SERVICE_MANAGER), ("tech", Role.TECHNICIAN)]

# Functions (org) -> str | None that add a capability's demo data when the org is new.
DEMO_SEEDERS: list[Callable[[Organization], str | None]] = []


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
    if created:
        for seeder in _seeders():
            if note := seeder(org):
                result.notes.append(note)
    return result


def _seeders() -> list[Callable[[Organization], str | None]]:
    # Imported lazily: each app's demo module appends itself to DEMO_SEEDERS on import.
    from importlib import import_module

    for module in ("audits.demo", "delegation.demo", "kpis.demo"):
        try:
            import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
    return DEMO_SEEDERS
