"""The organization switcher binds each request to one organization; another one answers 404."""

from __future__ import annotations

import pytest
from django.test import Client

from msp_ops.orgs.middleware import SESSION_KEY
from msp_ops.orgs.models import ApiToken, Membership, Role
from msp_ops.orgs.services import issue_api_token
from tests.factories import MembershipFactory


@pytest.fixture
def coach(org, other_org):
    """A peer-group coach: viewer at Acme IT, founder of Rival MSP."""
    membership = MembershipFactory(organization=org, user__username="coach", role=Role.VIEWER)
    MembershipFactory(organization=other_org, user=membership.user, role=Role.FOUNDER)
    return membership.user


@pytest.fixture
def coach_client(coach) -> Client:
    client = Client()
    client.force_login(coach)
    return client


def _topbar(response) -> str:
    return response.content.decode().split('<header class="topbar">', 1)[1].split("</header>", 1)[0]


def test_first_organization_by_name_is_current_until_switched(coach_client):
    response = coach_client.get("/org/tokens/")
    assert response.context["request"].org.name == "Acme IT"
    assert response.context["request"].membership.role == Role.VIEWER
    topbar = _topbar(response)
    assert '<option value="' in topbar  # the switcher shows for a member of two orgs
    assert "coach · Viewer" in topbar


def test_switching_scopes_request_org_and_role(coach_client, other_org):
    response = coach_client.post("/org/switch/", {"org": other_org.pk}, follow=True)
    assert response.redirect_chain[0] == ("/", 302)
    assert "Now working in Rival MSP." in response.content.decode()
    page = coach_client.get("/org/tokens/")
    assert page.context["request"].org == other_org
    assert page.context["request"].membership.role == Role.FOUNDER
    # As founder of Rival MSP the coach may log time; as viewer at Acme IT not.
    assert coach_client.get("/audits/today/").status_code == 200


def test_a_token_created_after_switching_belongs_to_the_new_organization(coach, coach_client, other_org):
    coach_client.post("/org/switch/", {"org": other_org.pk})
    coach_client.post("/org/tokens/", {"name": "Rival script"})
    token = ApiToken.objects.get(name="Rival script")
    assert token.membership.organization == other_org


def test_tokens_page_lists_only_the_current_organizations_tokens(coach, coach_client, org, other_org):
    issue_api_token(membership=Membership.objects.get(user=coach, organization=org), name="Acme key")
    issue_api_token(membership=Membership.objects.get(user=coach, organization=other_org), name="Rival key")
    assert [t.name for t in coach_client.get("/org/tokens/").context["tokens"]] == ["Acme key"]
    coach_client.post("/org/switch/", {"org": other_org.pk})
    assert [t.name for t in coach_client.get("/org/tokens/").context["tokens"]] == ["Rival key"]


def test_switching_to_an_organization_you_are_not_in_is_404(founder_client, other_org, stranger):
    response = founder_client.post("/org/switch/", {"org": other_org.pk})
    assert response.status_code == 404
    assert SESSION_KEY not in founder_client.session


@pytest.mark.parametrize("value", ["", "abc", "999999", "²", "99999999999999999999"])
def test_switching_to_nonsense_is_404(founder_client, value):
    # "²".isdigit() holds but int() refuses it (a 500 before); the last is past the bigint range.
    assert founder_client.post("/org/switch/", {"org": value}).status_code == 404
    assert SESSION_KEY not in founder_client.session


def test_an_id_in_other_digits_does_not_switch(coach_client, other_org):
    # int() reads Arabic-Indic digits as the id they spell; the switcher takes ASCII digits only.
    value = str(other_org.pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert coach_client.post("/org/switch/", {"org": value}).status_code == 404
    assert SESSION_KEY not in coach_client.session


def test_switch_needs_post(founder_client, org):
    assert founder_client.get("/org/switch/", {"org": org.pk}).status_code == 405


def test_a_stale_session_organization_falls_back_to_a_current_membership(coach, coach_client, org, other_org):
    coach_client.post("/org/switch/", {"org": other_org.pk})
    Membership.objects.filter(user=coach, organization=other_org).delete()
    assert coach_client.get("/org/tokens/").context["request"].org == org


def test_a_single_membership_shows_the_org_name_without_a_switcher(founder_client):
    topbar = _topbar(founder_client.get("/org/tokens/"))
    assert '<span class="org-name">Acme IT</span>' in topbar
    assert "<select" not in topbar
