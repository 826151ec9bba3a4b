"""Every write on categories, time entries and audits (STYLE 2)."""

from __future__ import annotations

from django.db import transaction

from audits.models import DEFAULT_CATEGORIES, Category
from msp_ops.orgs.models import Organization


@transaction.atomic
def create_default_categories(*, org: Organization) -> None:
    Category.objects.bulk_create(
        [
            Category(organization=org, slug=slug, name=name, kind=kind, position=position)
            for position, (slug, name, kind) in enumerate(DEFAULT_CATEGORIES)
        ],
        ignore_conflicts=True,
    )
