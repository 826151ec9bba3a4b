"""The categories a write names, read by slug in one query (the organization's, as
PostgreSQL's statement reads them for the API's keep): what the ORM reads."""

from __future__ import annotations

from audits.models import Category
from audits.selectors import current_categories
from audits.services import archive_category


def test_current_categories_are_the_orms_rows_of_the_organization(org, other_org, django_assert_num_queries):
    archive_category(category=Category.objects.for_org(org).get(slug="sales"))
    slugs = {"tickets", "sales", "other", "nope", "Tickets"}
    expected = {c.slug: c for c in Category.objects.for_org(org).filter(slug__in=slugs)}

    with django_assert_num_queries(1):
        got = current_categories(org, slugs)

    assert got.keys() == expected.keys() == {"tickets", "sales", "other"}
    fields = Category._meta.concrete_fields
    for slug, category in got.items():
        assert [getattr(category, f.attname) for f in fields] == [
            getattr(expected[slug], f.attname) for f in fields
        ]
        assert not category._state.adding
    assert got["sales"].archived
    assert current_categories(other_org, {"tickets"})["tickets"].organization_id == other_org.pk
    assert current_categories(org, set()) == {}
