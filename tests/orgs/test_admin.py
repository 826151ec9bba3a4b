"""The Django admin is scoped like the pages: superusers see all, staff see the organizations
they run (founder or service manager), foreign keys offer only those organizations' rows."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from audits.models import TimeEntry
from msp_ops.orgs.models import Role
from tests.factories import MembershipFactory, TimeEntryFactory, UserFactory


def _staff_client(user, *codenames: str) -> Client:
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


ENTRY_PERMS = ("view_timeentry", "add_timeentry", "change_timeentry", "view_category", "view_user")


@pytest.fixture
def entries(org, other_org, founder, stranger):
    mine = TimeEntryFactory(organization=org, user=founder, activity="Acme escalation")
    theirs = TimeEntryFactory(organization=other_org, user=stranger, activity="Rival escalation")
    return mine, theirs


def test_superuser_sees_every_organizations_rows(entries):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    body = client.get("/admin/audits/timeentry/").content.decode()
    assert "Acme escalation" in body
    assert "Rival escalation" in body


def test_staff_founder_sees_only_their_organizations_rows(entries, founder):
    client = _staff_client(founder, *ENTRY_PERMS)
    response = client.get("/admin/audits/timeentry/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme escalation" in body
    assert "Rival escalation" not in body
    assert "1 time entry" in body


def test_staff_founder_cannot_open_a_foreign_row(entries, founder):
    _mine, theirs = entries
    client = _staff_client(founder, *ENTRY_PERMS)
    response = client.get(f"/admin/audits/timeentry/{theirs.pk}/change/")
    # The admin answers a row outside the queryset like a missing one: back to the index.
    assert response.status_code == 302
    assert response.url == "/admin/"


def test_time_entries_are_read_and_deleted_only_never_written_past_the_services(entries, founder):
    mine, _theirs = entries
    client = _staff_client(founder, *ENTRY_PERMS, "delete_timeentry")
    assert client.get("/admin/audits/timeentry/add/").status_code == 403
    page = client.get(f"/admin/audits/timeentry/{mine.pk}/change/")
    assert page.status_code == 200  # shown read-only
    assert "Acme escalation" in page.content.decode()
    assert client.post(f"/admin/audits/timeentry/{mine.pk}/change/", {"activity": "x"}).status_code == 403
    assert client.post(f"/admin/audits/timeentry/{mine.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not TimeEntry.objects.filter(pk=mine.pk).exists()


MEMBER_PERMS = ("view_membership", "add_membership", "change_membership", "view_user", "view_organization")


def test_foreign_key_choices_are_limited_to_the_administered_organizations(founder, manager, stranger, org):
    client = _staff_client(founder, *MEMBER_PERMS)
    form = client.get("/admin/orgs/membership/add/").context["adminform"].form
    assert set(form.fields["organization"].queryset) == {org}
    assert sorted(u.username for u in form.fields["user"].queryset) == ["fran", "sam"]  # not otto


def test_staff_cannot_move_a_row_into_a_foreign_organization(founder, manager_membership, other_org, org):
    client = _staff_client(founder, *MEMBER_PERMS)
    response = client.post(
        f"/admin/orgs/membership/{manager_membership.pk}/change/",
        {"organization": other_org.pk, "user": manager_membership.user_id, "role": "founder"},
    )
    assert response.status_code == 200  # the form again, with the error
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["organization"]
    manager_membership.refresh_from_db()
    assert (manager_membership.organization, manager_membership.role) == (org, Role.SERVICE_MANAGER)


def test_staff_category_form_offers_only_their_organization(founder, org, other_org):
    client = _staff_client(founder, "view_category", "add_category", "change_category")
    form = client.get("/admin/audits/category/add/").context["adminform"].form
    assert set(form.fields["organization"].queryset) == {org}
    body = client.get("/admin/audits/category/").content.decode()
    assert "14 categories" in body  # SPEC's defaults of Acme IT only, not Rival MSP's


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.VIEWER])
def test_staff_technician_or_viewer_sees_no_rows(entries, org, role):
    member = MembershipFactory(organization=org, user__username="staffer", role=role).user
    client = _staff_client(member, *ENTRY_PERMS)
    body = client.get("/admin/audits/timeentry/").content.decode()
    assert "Acme escalation" not in body
    assert "0 time entries" in body


def test_staff_sees_only_members_of_their_organizations(founder, stranger):
    client = _staff_client(founder, "view_user")
    body = client.get("/admin/auth/user/").content.decode()
    assert "fran" in body
    assert "otto" not in body


def test_only_superusers_change_accounts(founder, manager):
    client = _staff_client(founder, "view_user", "change_user", "add_user", "delete_user")
    assert client.get("/admin/auth/user/add/").status_code == 403
    response = client.post(
        f"/admin/auth/user/{manager.pk}/change/", {"username": "sam", "is_superuser": "on"}
    )
    assert response.status_code == 403
    manager.refresh_from_db()
    assert not manager.is_superuser


def test_staff_sees_only_their_organization_and_its_tokens(founder_membership, stranger_membership):
    from msp_ops.orgs.services import issue_api_token

    issue_api_token(membership=founder_membership, name="Acme PSA")
    issue_api_token(membership=stranger_membership, name="Rival PSA")
    client = _staff_client(founder_membership.user, "view_organization", "view_apitoken")
    orgs = client.get("/admin/orgs/organization/").content.decode()
    assert "Acme IT" in orgs
    assert "Rival MSP" not in orgs
    tokens = client.get("/admin/orgs/apitoken/").content.decode()
    assert "Acme PSA" in tokens
    assert "Rival PSA" not in tokens


def test_time_entry_admin_lists_without_n_plus_one(org, founder, django_assert_max_num_queries):
    TimeEntryFactory.create_batch(20, organization=org, user=founder)
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    with django_assert_max_num_queries(12):
        assert client.get("/admin/audits/timeentry/").status_code == 200
    assert TimeEntry.objects.count() == 20
