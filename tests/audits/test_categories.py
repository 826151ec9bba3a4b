"""Per-organization categories (SPEC 1 "Time entries"): defaults, add, rename, archive."""

import pytest
from django.core.exceptions import ValidationError

from audits.models import DEFAULT_CATEGORIES, Category
from audits.services import archive_category, create_category, update_category
from msp_ops.orgs.models import Organization
from tests.factories import OrganizationFactory

SPEC_DEFAULTS = {
    "escalations": "in_business",
    "tickets": "in_business",
    "onboarding": "in_business",
    "approvals": "in_business",
    "backlog": "in_business",
    "vendor-calls": "in_business",
    "billing-admin": "in_business",
    "documentation": "in_business",
    "projects": "in_business",
    "sales": "on_business",
    "client-retention": "on_business",
    "service-delivery": "on_business",
    "team": "on_business",
    "other": "neither",
}


def test_every_new_org_gets_the_spec_defaults(db):
    org = OrganizationFactory(slug="new-msp", name="New MSP")
    categories = Category.objects.for_org(org)
    assert dict(categories.values_list("slug", "kind")) == SPEC_DEFAULTS
    assert not categories.filter(archived=True).exists()
    # In the order of DEFAULT_CATEGORIES, as a founder sees them.
    assert list(categories.values_list("slug", flat=True)) == [slug for slug, _, _ in DEFAULT_CATEGORIES]


def test_each_org_has_its_own_copy(org, other_org):
    assert Category.objects.for_org(org).count() == Category.objects.for_org(other_org).count() == 14
    rename = Category.objects.get(organization=org, slug="tickets")
    update_category(category=rename, name="Help desk", kind="in_business")
    assert Category.objects.get(organization=other_org, slug="tickets").name == "Tickets"


def test_add_a_category_after_the_others(org):
    category = create_category(org=org, slug=" Peer-Group ", name=" Peer group ", kind="on_business")
    assert (category.slug, category.name, category.kind) == ("peer-group", "Peer group", "on_business")
    assert list(Category.objects.for_org(org).values_list("slug", flat=True))[-1] == "peer-group"


def test_the_same_slug_twice_is_refused(org, other_org):
    with pytest.raises(ValidationError) as error:
        create_category(org=org, slug="sales", name="More sales", kind="on_business")
    assert error.value.message_dict == {"slug": ["A category with slug 'sales' already exists."]}
    assert Category.objects.for_org(org).count() == 14
    # Another org's slugs are no obstacle.
    create_category(org=other_org, slug="peer-group", name="Peer group", kind="on_business")
    create_category(org=org, slug="peer-group", name="Peer group", kind="on_business")


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"slug": "", "name": "X", "kind": "neither"}, {"slug": ["This field cannot be blank."]}),
        (
            {"slug": "no spaces", "name": "X", "kind": "neither"},
            {"slug": ["Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."]},
        ),
        ({"slug": "x", "name": "", "kind": "neither"}, {"name": ["This field cannot be blank."]}),
        (
            {"slug": "x", "name": "X", "kind": "sideways"},
            {"kind": ["Value 'sideways' is not a valid choice."]},
        ),
    ],
)
def test_a_bad_category_is_refused(org, fields, errors):
    with pytest.raises(ValidationError) as error:
        create_category(org=org, **fields)
    assert error.value.message_dict == errors
    assert Category.objects.for_org(org).count() == 14


def test_rename_keeps_the_slug(org):
    category = Category.objects.get(organization=org, slug="vendor-calls")
    update_category(category=category, name="Vendor and distributor calls", kind="in_business")
    category.refresh_from_db()
    assert (category.slug, category.name) == ("vendor-calls", "Vendor and distributor calls")


def test_an_org_sets_the_kind(org):
    category = Category.objects.get(organization=org, slug="documentation")
    update_category(category=category, name="Documentation", kind="on_business")
    assert Category.objects.get(pk=category.pk).kind == "on_business"


def test_archived_categories_are_not_offered_but_kept(org):
    backlog = Category.objects.get(organization=org, slug="backlog")
    archive_category(category=backlog)
    assert "backlog" not in Category.objects.for_org(org).active().values_list("slug", flat=True)
    assert Category.objects.get(pk=backlog.pk).archived
    archive_category(category=backlog, archived=False)
    assert "backlog" in Category.objects.for_org(org).active().values_list("slug", flat=True)


def test_the_default_category_cannot_be_archived(org):
    other = Category.objects.get(organization=org, slug="other")
    with pytest.raises(ValidationError) as error:
        archive_category(category=other)
    assert error.value.message_dict == {"slug": ["'other' is the default category; it cannot be archived."]}
    assert not Category.objects.get(pk=other.pk).archived


def test_an_org_added_in_the_admin_gets_the_defaults_too(db, client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(admin)
    response = client.post(
        "/admin/orgs/organization/add/",
        {
            "name": "Admin MSP",
            "slug": "admin-msp",
            "timezone": "America/Chicago",
            "managed_clients": "12",
            "delegated_green_hours": "10",
            "delegated_amber_hours": "5",
            "delegated_fixed_target_min_clients": "20",
            "interruptions_green_max_avg": "2",
            "aged_backlog_team_max": "3",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    org = Organization.objects.get(slug="admin-msp")
    assert dict(Category.objects.for_org(org).values_list("slug", "kind")) == SPEC_DEFAULTS
