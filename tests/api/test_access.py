"""Who may do what through the API: tokens (401), organizations (404), roles (403) (SPEC 1, 4)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from audits.models import TimeAudit, TimeEntry
from msp_ops.orgs.services import issue_api_token, revoke_api_token
from tests.api.conftest import AUDITS, ENTRIES, at, item, patch, post
from tests.factories import TimeAuditFactory, TimeEntryFactory


@pytest.fixture
def foreign_entry(stranger, other_org) -> TimeEntry:
    return TimeEntryFactory(organization=other_org, user=stranger, started_at=at(9), ended_at=at(10))


def test_no_token_is_401(db):
    response = Client().get(ENTRIES)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


def test_a_bad_key_is_401(db):
    response = Client(headers={"Authorization": "Token msp_not-a-key"}).get(ENTRIES)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked token."}


def test_a_revoked_token_is_401_from_the_next_request_on(founder_membership):
    issued = issue_api_token(membership=founder_membership)
    client = Client(headers={"Authorization": f"Token {issued.key}"})
    assert client.get(ENTRIES).status_code == 200

    revoke_api_token(token=issued.token)

    assert client.get(ENTRIES).status_code == 401
    assert post(client, ENTRIES, item()).status_code == 401
    assert TimeEntry.objects.count() == 0


# --- another organization's objects --------------------------------------------------
# 404 on every detail route and method, and absent from every list: tests/api/test_foreign_objects.py
# walks the router for them.


def test_filtering_by_a_username_of_another_org_finds_nothing(api, founder, foreign_entry):
    response = api.get(ENTRIES, {"user": "otto"})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_pushing_for_a_member_of_another_org_is_unknown_user(api, stranger):
    response = post(api, ENTRIES, item(user="otto"))

    assert response.status_code == 400
    assert response.json() == {
        "user": ["Unknown user 'otto': no member of this organization has that username."]
    }


def test_an_audit_for_a_member_of_another_org_is_unknown_user(api, stranger):
    response = post(api, AUDITS, {"user": "otto", "start_date": "2025-03-03"})

    assert response.status_code == 400
    assert TimeAudit.objects.count() == 0


# --- roles ---------------------------------------------------------------------------


def test_manager_pushes_for_any_member(manager_api, technician, founder):
    response = post(
        manager_api,
        ENTRIES,
        [item(user="tess"), item(user="fran"), item(user="sam")],
    )

    assert response.status_code == 201
    assert [e["user"] for e in response.json()] == ["tess", "fran", "sam"]


@pytest.mark.parametrize("as_batch", [False, True])
def test_manager_names_a_member_with_spaces_around_the_username(manager_api, founder, as_batch):
    # The field trims " fran "; the batch's lookup of members must see the same username.
    body = item(user=" fran ")

    response = post(manager_api, ENTRIES, [body] if as_batch else body)

    assert response.status_code == 201
    answered = response.json()[0] if as_batch else response.json()
    assert answered["user"] == "fran"
    assert TimeEntry.objects.get().user == founder


def test_an_audit_for_a_username_with_spaces_around_it(manager_api, founder):
    response = post(manager_api, AUDITS, {"user": " fran ", "start_date": "2025-03-03"})

    assert response.status_code == 201
    assert response.json()["user"] == "fran"
    assert TimeAudit.objects.get().user == founder


def test_technician_writes_and_reads_only_its_own_entries(tech_api, technician, founder, org):
    theirs = TimeEntryFactory(organization=org, user=founder, started_at=at(7), ended_at=at(8))

    own = post(tech_api, ENTRIES, item())
    assert own.status_code == 201
    assert own.json()["user"] == "tess"

    listed = tech_api.get(ENTRIES).json()["results"]
    assert [e["id"] for e in listed] == [own.json()["id"]]
    assert tech_api.get(f"{ENTRIES}{theirs.pk}/").status_code == 404
    assert patch(tech_api, f"{ENTRIES}{theirs.pk}/", {"activity": "x"}).status_code == 404
    assert tech_api.delete(f"{ENTRIES}{theirs.pk}/").status_code == 404
    assert patch(tech_api, f"{ENTRIES}{own.json()['id']}/", {"activity": "Mine, edited"}).status_code == 200


def test_technician_pushing_for_another_member_is_403(tech_api, technician, founder):
    response = post(tech_api, ENTRIES, [item(started_at=at(7), ended_at=at(8)), item(user="fran")])

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Your role may write only your own time entries; item 2 belongs to another member."
    }
    assert TimeEntry.objects.count() == 0


def test_technician_cannot_hand_its_entry_to_another_member(tech_api, technician, founder, org):
    own = TimeEntryFactory(organization=org, user=technician, started_at=at(9), ended_at=at(10))

    response = patch(tech_api, f"{ENTRIES}{own.pk}/", {"user": "fran"})

    assert response.status_code == 403
    own.refresh_from_db()
    assert own.user == technician


@pytest.mark.parametrize("as_batch", [False, True])
def test_technician_replaying_another_members_external_id_changes_nothing(
    tech_api, technician, founder, org, as_batch
):
    theirs = TimeEntryFactory(
        organization=org,
        user=founder,
        started_at=at(9),
        ended_at=at(10),
        external_id="psa-77",
        activity="QBR",
    )
    takeover = item(started_at=at(13), ended_at=at(14), external_id="psa-77", activity="Mine now")
    body = [item(started_at=at(7), ended_at=at(8), activity="Own work"), takeover] if as_batch else takeover

    response = post(tech_api, ENTRIES, body)

    assert response.status_code == 400
    refusal = {
        "external_id": [
            "external_id 'psa-77' names another member's entry; your role may change only your own."
        ]
    }
    assert response.json() == ([{}, refusal] if as_batch else refusal)
    stored = TimeEntry.objects.get()
    assert (stored.pk, stored.user, stored.activity) == (theirs.pk, founder, "QBR")
    assert stored.started_at.isoformat() == "2025-03-03T15:00:00+00:00"  # 09:00 in Chicago, as before


def test_technician_replays_its_own_external_id(tech_api, technician, org):
    own = TimeEntryFactory(
        organization=org, user=technician, started_at=at(9), ended_at=at(10), external_id="t-1"
    )

    response = post(tech_api, ENTRIES, item(started_at=at(9), ended_at=at(10, 30), external_id="t-1"))

    assert response.status_code == 200
    assert response.json()["id"] == own.pk
    assert TimeEntry.objects.get().ended_at.isoformat() == "2025-03-03T16:30:00+00:00"


def test_technician_reads_and_starts_only_its_own_audits(tech_api, technician, founder, org):
    theirs = TimeAuditFactory(organization=org, user=founder, start_date=date(2025, 3, 3))

    started = post(tech_api, AUDITS, {"start_date": "2025-03-03"})

    assert started.status_code == 201
    assert started.json()["user"] == "tess"
    assert [audit["id"] for audit in tech_api.get(AUDITS).json()["results"]] == [started.json()["id"]]
    assert tech_api.get(f"{AUDITS}{theirs.pk}/").status_code == 404
    assert tech_api.get(f"{AUDITS}{theirs.pk}/report/").status_code == 404
    assert tech_api.get(f"{AUDITS}{started.json()['id']}/report/").status_code == 200


def test_viewer_reads_everything_and_writes_nothing(viewer_api, founder, org):
    entry = TimeEntryFactory(
        organization=org, user=founder, started_at=at(9), ended_at=at(10), activity="Keep"
    )
    audit = TimeAuditFactory(organization=org, user=founder, start_date=date(2025, 3, 3))

    assert viewer_api.get(ENTRIES).status_code == 200
    assert viewer_api.get(f"{ENTRIES}{entry.pk}/").status_code == 200
    assert viewer_api.get(f"{AUDITS}{audit.pk}/report/").status_code == 200

    refused = post(viewer_api, ENTRIES, item(started_at=at(11), ended_at=at(12)))
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Your role (viewer) may not change these objects."}
    assert patch(viewer_api, f"{ENTRIES}{entry.pk}/", {"activity": "x"}).status_code == 403
    assert viewer_api.delete(f"{ENTRIES}{entry.pk}/").status_code == 403
    assert post(viewer_api, AUDITS, {"start_date": "2025-03-10"}).status_code == 403
    assert TimeEntry.objects.get().activity == "Keep"
    assert TimeAudit.objects.count() == 1


@pytest.mark.parametrize(
    ("client_fixture", "status"),
    [("api", 201), ("manager_api", 201), ("tech_api", 403), ("viewer_api", 403)],
)
def test_who_starts_audits(request, client_fixture, status, founder):
    response = post(
        request.getfixturevalue(client_fixture), AUDITS, {"user": "fran", "start_date": "2025-03-03"}
    )

    assert response.status_code == status
    assert TimeAudit.objects.count() == (1 if status == 201 else 0)
