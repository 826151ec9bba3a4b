"""API tokens: hashed at rest, shown once, revocable, last-used time, and the DRF class that
binds a request to the token's organization and member (SPEC 4)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from msp_ops.orgs.authentication import active_token
from msp_ops.orgs.models import ApiToken
from msp_ops.orgs.services import issue_api_token, revoke_api_token


class WhoAmI(APIView):
    """A tiny endpoint behind the project's default authentication class (any member may call it)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = []

    def get(self, request):
        return Response(
            {"user": request.user.username, "org": request.org.slug, "role": request.membership.role}
        )


def call(key: str | None = None, header: str | None = None):
    headers = {}
    if header is not None:
        headers["HTTP_AUTHORIZATION"] = header
    elif key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Token {key}"
    response = WhoAmI.as_view()(APIRequestFactory().get("/whoami/", **headers))
    response.render()
    return response


def test_a_token_binds_the_request_to_its_member_and_organization(tech_membership):
    key = issue_api_token(membership=tech_membership).key
    response = call(key)
    assert response.status_code == 200
    assert response.data == {"user": "tess", "org": "acme-it", "role": "technician"}


def test_only_the_sha256_of_the_key_is_stored(founder_membership):
    issued = issue_api_token(membership=founder_membership, name="PSA sync")
    row = ApiToken.objects.filter(pk=issued.token.pk).values().get()
    assert row["key_hash"] == hashlib.sha256(issued.key.encode()).hexdigest()
    assert row["key_prefix"] == issued.key[:8]
    assert not any(issued.key in str(value) for value in row.values())
    assert issued.key.startswith("msp_")
    assert len(issued.key) == 4 + 43  # "msp_" and 32 random bytes in URL-safe base64


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "Authentication credentials were not provided."),
        ("Token msp_not-a-real-key", "Invalid or revoked token."),
        ("Token", "Send the header as 'Authorization: Token <key>'."),
        ("Token a b", "Send the header as 'Authorization: Token <key>'."),
        ("Bearer msp_whatever", "Authentication credentials were not provided."),
    ],
)
def test_no_or_bad_header_is_401_with_www_authenticate_token(db, header, detail):
    response = call(header=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.data == {"detail": detail}


def test_a_revoked_token_is_401(founder_membership):
    issued = issue_api_token(membership=founder_membership)
    assert call(issued.key).status_code == 200
    revoke_api_token(token=issued.token)
    response = call(issued.key)
    assert response.status_code == 401
    assert response.data == {"detail": "Invalid or revoked token."}


def test_a_deactivated_users_token_is_401(founder_membership):
    key = issue_api_token(membership=founder_membership).key
    founder_membership.user.is_active = False
    founder_membership.user.save()
    assert call(key).status_code == 401


def test_a_token_dies_with_its_membership(founder_membership):
    key = issue_api_token(membership=founder_membership).key
    founder_membership.delete()
    assert call(key).status_code == 401
    assert ApiToken.objects.count() == 0


def test_last_used_at_is_recorded_at_most_once_a_minute(founder_membership):
    token = issue_api_token(membership=founder_membership)
    t0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
    with time_machine.travel(t0, tick=False):
        call(token.key)
    token.token.refresh_from_db()
    assert token.token.last_used_at == t0
    with time_machine.travel(t0 + timedelta(seconds=30), tick=False):
        call(token.key)
    token.token.refresh_from_db()
    assert token.token.last_used_at == t0  # within a minute: no write
    with time_machine.travel(t0 + timedelta(minutes=2), tick=False):
        call(token.key)
    token.token.refresh_from_db()
    assert token.token.last_used_at == t0 + timedelta(minutes=2)


# --- the API tokens page --------------------------------------------------------------


def test_new_key_is_shown_once_with_a_curl_example(founder_client, founder_membership):
    response = founder_client.post("/org/tokens/", {"name": "PSA sync"})
    assert response.status_code == 200
    key = response.context["new_key"]
    body = response.content.decode()
    assert f'<pre id="new-key" class="copyable">{key}</pre>' in body
    assert f'curl -H "Authorization: Token {key}" http://testserver/api/v1/' in body
    assert 'href="/api/docs/"' in body
    token = ApiToken.objects.get()
    assert (token.name, token.membership) == ("PSA sync", founder_membership)
    assert call(key).status_code == 200
    again = founder_client.get("/org/tokens/").content.decode()
    assert key not in again
    assert f"<code>{key[:8]}…</code>" in again


def test_an_empty_name_is_refused_and_nothing_is_stored(founder_client):
    response = founder_client.post("/org/tokens/", {"name": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert ApiToken.objects.count() == 0


def test_revoking_from_the_page(founder_client, founder_membership):
    issued = issue_api_token(membership=founder_membership, name="Old script")
    response = founder_client.post(f"/org/tokens/{issued.token.pk}/revoke/", follow=True)
    assert "Token “Old script” revoked: it no longer works." in response.content.decode()
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    assert call(issued.key).status_code == 401


def test_revoking_another_members_token_is_404(founder_client, manager_membership):
    issued = issue_api_token(membership=manager_membership)
    assert founder_client.post(f"/org/tokens/{issued.token.pk}/revoke/").status_code == 404
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None


def test_revoking_another_organizations_token_is_404(founder_client, stranger_membership):
    issued = issue_api_token(membership=stranger_membership)
    assert founder_client.post(f"/org/tokens/{issued.token.pk}/revoke/").status_code == 404
    assert call(issued.key).status_code == 200


def test_revoke_needs_post(founder_client, founder_membership):
    issued = issue_api_token(membership=founder_membership)
    assert founder_client.get(f"/org/tokens/{issued.token.pk}/revoke/").status_code == 405


def test_the_token_lookup_reads_what_the_orm_reads_in_one_query(
    founder_membership, django_assert_num_queries
):
    issued = issue_api_token(membership=founder_membership)
    key_hash = hashlib.sha256(issued.key.encode()).hexdigest()
    expected = (
        ApiToken.objects.active()
        .select_related("membership__organization", "membership__user")
        .get(key_hash=key_hash)
    )

    with django_assert_num_queries(1):  # token, member, organization and user joined
        token = active_token(key_hash)
        membership = token.membership
        rows = [token, membership, membership.organization, membership.user]

    for got, want in zip(
        rows,
        [expected, expected.membership, expected.membership.organization, expected.membership.user],
        strict=True,
    ):
        assert type(got) is type(want)
        fields = type(want)._meta.concrete_fields
        assert [getattr(got, f.attname) for f in fields] == [getattr(want, f.attname) for f in fields]
        assert not got._state.adding
    revoke_api_token(token=issued.token)
    assert active_token(key_hash) is None
