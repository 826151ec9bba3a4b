"""The categories a write names, read by slug in one query: what the ORM reads."""

from __future__ import annotations

from audits.models import Category
from audits.selectors import categories_by_slug
from audits.services import archive_category


def test_categories_by_slug_are_the_orms_rows_of_the_organization(org, other_org, django_assert_num_queries):
    archive_category(category=Category.objects.for_org(org).get(slug="sales"))
    slugs = {"tickets", "sales", "other", "nope", "Tickets"}
    expected = {c.slug: c for c in Category.objects.for_org(org).filter(slug__in=slugs)}

    with django_assert_num_queries(1):
        got = categories_by_slug(org, slugs)

    assert got.keys() == expected.keys() == {"tickets", "sales", "other"}
    fields = Category._meta.concrete_fields
    for slug, category in got.items():
        assert [getattr(category, f.attname) for f in fields] == [
            getattr(expected[slug], f.attname) for f in fields
        ]
        assert not category._state.adding
    assert got["sales"].archived
    assert categories_by_slug(other_org, {"tickets"})["tickets"].organization_id == other_org.pk
    assert categories_by_slug(org, set()) == {}
