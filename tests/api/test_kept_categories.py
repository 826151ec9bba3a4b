"""An API worker keeps each organization's categories between writes, and never a stale one:
PostgreSQL gives the organization a new ``categories_version`` on every change to a category,
however it is written, and the token's row carries it (``audits.selectors.current_categories``)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from audits.models import Category, TimeEntry
from audits.selectors import current_categories
from audits.services import archive_category, create_category
from msp_ops.orgs.models import Organization
from tests.api.conftest import ENTRIES, at, item, post


def version(org: Organization) -> int:
    return Organization.objects.values_list("categories_version", flat=True).get(pk=org.pk)


def test_every_way_of_writing_a_category_gives_its_organization_a_new_number(org, other_org):
    numbers = [version(org)]
    others = version(other_org)
    category = create_category(org=org, slug="qbr", name="QBRs", kind="on_business")
    numbers.append(version(org))
    Category.objects.filter(pk=category.pk).update(name="Quarterly reviews")  # no signal sees it
    numbers.append(version(org))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audits_category SET position = 99 WHERE id = %s", [category.pk])
    numbers.append(version(org))
    category.delete()
    numbers.append(version(org))

    assert len(set(numbers)) == 5, numbers  # each change a number not seen before
    assert version(other_org) == others  # the other organization's categories did not change


@pytest.mark.django_db(transaction=True)
def test_a_truncate_of_the_categories_gives_every_organization_a_new_number(org, other_org):
    before = {version(org), version(other_org)}
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audits_category CASCADE")  # an operator's psql; no row trigger fires
    after = {version(org), version(other_org)}
    assert len(after) == 2
    assert not after & before


def test_a_number_seen_in_a_rolled_back_transaction_is_never_given_again(org):
    before = version(org)
    seen = []

    def change_then_fail() -> None:
        with transaction.atomic():
            create_category(org=org, slug="qbr", name="QBRs", kind="on_business")
            seen.append(version(org))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert version(org) == before
    inside = seen[0]

    create_category(org=org, slug="other-qbr", name="Other QBRs", kind="on_business")
    assert version(org) not in (before, inside)


def read_org(org: Organization) -> Organization:
    """The organization as the token's lookup reads it on each request."""
    return Organization.objects.get(pk=org.pk)


def test_kept_categories_are_the_organizations_own_and_follow_every_change(
    org, other_org, django_assert_num_queries
):
    ours = read_org(org)
    with django_assert_num_queries(1):
        first = current_categories(ours, {"tickets", "qbr"})
    assert set(first) == {"tickets"}
    assert first["tickets"].organization_id == org.pk
    ours = read_org(org)
    with django_assert_num_queries(0):  # the same number: kept
        assert current_categories(ours, {"tickets"}) == {"tickets": first["tickets"]}
    # Another organization's categories of the same slug are its own.
    theirs = current_categories(read_org(other_org), {"tickets"})
    assert theirs["tickets"].organization_id == other_org.pk

    create_category(org=org, slug="qbr", name="QBRs", kind="on_business")
    ours = read_org(org)
    with django_assert_num_queries(1):
        assert set(current_categories(ours, {"tickets", "qbr"})) == {"tickets", "qbr"}
    Category.objects.filter(organization=org, slug="qbr").update(archived=True)
    assert current_categories(read_org(org), {"qbr"})["qbr"].archived is True


def test_a_write_after_a_category_is_archived_or_renamed_behind_the_apis_back_sees_it(api, org):
    assert post(api, ENTRIES, item(category="tickets")).status_code == 201  # categories now kept

    Category.objects.filter(organization=org, slug="tickets").update(archived=True)
    response = post(api, ENTRIES, item(category="tickets", started_at=at(11), ended_at=at(12)))
    assert response.status_code == 400
    assert response.json() == {"category": ["Category 'tickets' is archived."]}

    with connection.cursor() as cursor:  # raw SQL, as an operator in psql would
        cursor.execute(
            "UPDATE audits_category SET slug = 'tix', archived = false"
            " WHERE organization_id = %s AND slug = 'tickets'",
            [org.pk],
        )
    response = post(api, ENTRIES, item(category="tickets", started_at=at(11), ended_at=at(12)))
    assert response.status_code == 400
    assert "tickets" in response.json()["category"][0]
    response = post(api, ENTRIES, item(category="tix", started_at=at(11), ended_at=at(12)))
    assert response.status_code == 201, response.content
    assert response.json()["category"] == "tix"
    assert TimeEntry.objects.filter(organization=org).count() == 2


def test_unarchived_through_the_service_the_category_is_accepted_again(api, org):
    tickets = Category.objects.get(organization=org, slug="tickets")
    archive_category(category=tickets)
    assert post(api, ENTRIES, item(category="tickets")).status_code == 400
    archive_category(category=tickets, archived=False)
    assert post(api, ENTRIES, item(category="tickets")).status_code == 201
