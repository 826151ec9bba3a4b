"""The categories page: add, rename or change kind, archive and unarchive (Perm.MANAGE_AUDITS)."""

import pytest

from audits.models import Category
from tests.pages import client_for

PAGE = "/audits/categories/"


def get(org, slug):
    return Category.objects.get(organization=org, slug=slug)


def test_lists_the_default_categories(founder_client):
    body = founder_client.get(PAGE).content.decode()
    for slug in ("escalations", "vendor-calls", "service-delivery", "other"):
        assert f"<code>@{slug}</code>" in body


def test_founder_adds_a_category(founder_client, org):
    response = founder_client.post(PAGE, {"slug": "QBRs", "name": "QBRs", "kind": "on_business"})
    assert response.status_code == 302
    added = get(org, "qbrs")
    assert (added.name, added.kind, added.archived) == ("QBRs", "on_business", False)


def test_a_taken_slug_is_refused(founder_client, org):
    response = founder_client.post(PAGE, {"slug": "tickets", "name": "More tickets", "kind": "in_business"})
    assert response.status_code == 422
    assert "A category with slug &#x27;tickets&#x27; already exists." in response.content.decode()
    assert Category.objects.filter(organization=org, slug="tickets").count() == 1
    assert get(org, "tickets").name == "Tickets"


def test_a_bad_slug_is_refused(founder_client, org):
    count = Category.objects.filter(organization=org).count()
    response = founder_client.post(PAGE, {"slug": "not a slug", "name": "X", "kind": "in_business"})
    assert response.status_code == 422
    assert Category.objects.filter(organization=org).count() == count


def test_rename_and_change_kind_keeps_the_slug(founder_client, org):
    tickets = get(org, "tickets")
    response = founder_client.post(
        f"{PAGE}{tickets.pk}/", {f"c{tickets.pk}-name": "Help desk tickets", f"c{tickets.pk}-kind": "neither"}
    )
    assert response.status_code == 302
    tickets.refresh_from_db()
    assert (tickets.slug, tickets.name, tickets.kind) == ("tickets", "Help desk tickets", "neither")


def test_archive_and_unarchive(founder_client, org):
    backlog = get(org, "backlog")
    founder_client.post(f"{PAGE}{backlog.pk}/archive/", {"archived": "1"})
    backlog.refresh_from_db()
    assert backlog.archived
    page = founder_client.get(PAGE).content.decode()
    assert "Unarchive" in page
    founder_client.post(f"{PAGE}{backlog.pk}/archive/", {"archived": "0"})
    backlog.refresh_from_db()
    assert not backlog.archived


def test_the_default_category_cannot_be_archived(founder_client, org):
    other = get(org, "other")
    response = founder_client.post(f"{PAGE}{other.pk}/archive/", {"archived": "1"}, follow=True)
    assert "&#x27;other&#x27; is the default category; it cannot be archived." in response.content.decode()
    other.refresh_from_db()
    assert not other.archived


@pytest.mark.parametrize("who", ["technician", "viewer"])
def test_only_founders_and_managers_manage_categories(who, request, org):
    client = client_for(request.getfixturevalue(who))
    tickets = get(org, "tickets")
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"slug": "x", "name": "X", "kind": "neither"}).status_code == 403
    assert client.post(f"{PAGE}{tickets.pk}/archive/", {"archived": "1"}).status_code == 403
    assert not Category.objects.filter(organization=org, slug="x").exists()
    tickets.refresh_from_db()
    assert not tickets.archived


def test_manager_manages_categories(manager, org):
    assert client_for(manager).post(PAGE, {"slug": "x", "name": "X", "kind": "neither"}).status_code == 302


def test_another_orgs_category_is_404(founder_client, other_org):
    theirs = get(other_org, "tickets")
    assert founder_client.post(f"{PAGE}{theirs.pk}/archive/", {"archived": "1"}).status_code == 404
    assert (
        founder_client.post(
            f"{PAGE}{theirs.pk}/", {f"c{theirs.pk}-name": "Mine", f"c{theirs.pk}-kind": "neither"}
        ).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert (theirs.archived, theirs.name) == (False, "Tickets")
