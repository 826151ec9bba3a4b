"""Who may open which page (roles.py): 200 or 403 per role, login first, an organization next."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from tests.factories import UserFactory

TODAY, AUDITS, CSV, TOKENS = "/audits/today/", "/audits/", "/audits/csv/", "/org/tokens/"

# (role fixture, page, status): log_own_time opens Today and CSV, view opens Audits,
# use_api opens API tokens (msp_ops/orgs/roles.py). What a technician sees of the audit
# list (their own audits) is the time-audit pages' business, tested there.
ACCESS = [
    ("founder", TODAY, 200),
    ("founder", AUDITS, 200),
    ("founder", CSV, 200),
    ("founder", TOKENS, 200),
    ("manager", TODAY, 200),
    ("manager", AUDITS, 200),
    ("manager", CSV, 200),
    ("manager", TOKENS, 200),
    ("technician", TODAY, 200),
    ("technician", CSV, 200),
    ("technician", TOKENS, 200),
    ("viewer", TODAY, 403),  # read-only: logs nothing
    ("viewer", AUDITS, 200),
    ("viewer", CSV, 403),
    ("viewer", TOKENS, 200),
]


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("role", "url", "status"), ACCESS)
def test_page_status_by_role(request, role, url, status):
    response = _client_for(request.getfixturevalue(role)).get(url)
    assert response.status_code == status


def test_forbidden_page_says_what_the_role_may_not_do(viewer):
    response = _client_for(viewer).get(TODAY)
    assert response.status_code == 403
    assert "Your role may not log own time." in response.content.decode()


@pytest.mark.parametrize("url", [TODAY, AUDITS, CSV, TOKENS, "/"])
def test_anonymous_visitor_is_sent_to_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"/login/?next={url}"


def test_an_htmx_request_after_the_session_expired_sends_the_page_to_login(client, db):
    response = client.get(
        "/audits/today/entries/1/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/audits/today/?day=2025-03-03"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?next=/audits/today/%3Fday%3D2025-03-03"


@pytest.mark.parametrize("url", [TODAY, AUDITS, CSV, TOKENS, "/"])
def test_user_without_membership_lands_on_the_no_organization_page(db, url):
    client = _client_for(UserFactory(username="nomad"))
    response = client.get(url, follow=True)
    assert response.redirect_chain[-1] == ("/no-organization/", 302)
    assert "No organization yet" in response.content.decode()
    assert "add_member SLUG nomad --role founder" in response.content.decode()


def test_no_organization_page_sends_members_home(founder):
    response = _client_for(founder).get("/no-organization/")
    assert response.status_code == 302
    assert response.url == "/"


@pytest.mark.parametrize(("role", "landing"), [("founder", TODAY), ("technician", TODAY), ("viewer", AUDITS)])
def test_home_lands_on_the_first_page_the_role_may_open(request, role, landing):
    response = _client_for(request.getfixturevalue(role)).get("/")
    assert response.status_code == 302
    assert response.url == landing


@pytest.mark.parametrize(
    ("role", "links"),
    [
        ("founder", ["Today", "Audits", "Import/export", "API tokens"]),
        ("technician", ["Today", "Audits", "Import/export", "API tokens"]),  # their own audits
        ("viewer", ["Audits", "API tokens"]),
    ],
)
def test_navigation_shows_only_what_the_role_may_open(request, role, links):
    body = _client_for(request.getfixturevalue(role)).get(TOKENS).content.decode()
    nav = body.split('<nav class="nav"', 1)[1].split("</nav>", 1)[0]
    for label in ["Today", "Audits", "Import/export", "API tokens"]:
        assert (f">{label}</a>" in nav) == (label in links), label


def test_a_session_opens_pages_until_it_expires_then_the_page_asks_to_log_in(founder_client, founder):
    # msp_ops.orgs.sessions reads the session with a statement of its own: a live session signs
    # the page in; at its expiry date (or an unknown key) it is gone, and the user logs in again.
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    assert founder_client.get(TODAY).status_code == 200
    key = founder_client.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(minutes=1))
    assert founder_client.get(TODAY).status_code == 200

    Session.objects.filter(session_key=key).update(expire_date=timezone.now())
    response = founder_client.get(TODAY)
    assert (response.status_code, response.url) == (302, f"/login/?next={TODAY}")

    founder_client.cookies["sessionid"] = "x" * 32  # a key no session has
    assert founder_client.get(TODAY).url == f"/login/?next={TODAY}"
